//! Bakes the release instant into the app. A release build of the wasm bundle
//! without a valid `MAEUM_RELEASE_AT` must not exist: it would open whenever the
//! server says so, and the baked instant is the second lock on the door.

use maeum_contract::Timestamp;

fn main() {
    println!("cargo:rerun-if-env-changed=MAEUM_RELEASE_AT");
    println!("cargo:rerun-if-changed=build.rs");

    let release = std::env::var("PROFILE").is_ok_and(|p| p == "release");
    let wasm = std::env::var("CARGO_CFG_TARGET_ARCH").is_ok_and(|a| a == "wasm32");

    match std::env::var("MAEUM_RELEASE_AT") {
        Ok(value) => {
            if let Err(e) = Timestamp::parse_rfc3339(value.trim()) {
                panic!(
                    "\n\nMAEUM_RELEASE_AT is not a valid RFC 3339 instant ({e}).\n\
                     Use the form 2023-01-05T09:00:00+09:00.\n\n"
                );
            }
        }
        Err(_) if release && wasm => panic!(
            "\n\nMAEUM_RELEASE_AT is not set.\n\
             A release build of the app must bake in the campaign's release instant, e.g.\n\
             \n    MAEUM_RELEASE_AT=2023-01-05T09:00:00+09:00 trunk build --release\n\n\
             (Debug builds open as soon as the server says so and need no value.)\n\n"
        ),
        Err(_) => {}
    }
}
