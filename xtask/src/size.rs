//! `cargo xtask size`: where the package wasm's bytes go, by crate, next to
//! the floor's (the Leptos counter in xtask/hello-floor). Each is built like
//! its release bundle (release profile, wasm-bindgen, wasm-opt -Oz with the
//! same flags) but with its function names kept, then measured with twiggy.

use crate::setup::{self, cmd, root, run, Result};
use crate::steps::stdout_of;
use std::path::{Path, PathBuf};

/// What trunk gives wasm-opt for both bundles (see index.html), plus the
/// features Rust's wasm32 target emits.
const WASM_OPT: &[&str] = &[
    "-Oz",
    "--converge",
    "--strip-producers",
    "--low-memory-unused",
    "-g",
    "--enable-bulk-memory",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-mutable-globals",
    "--enable-reference-types",
    "--enable-multivalue",
];

/// The breakdown as a Markdown table (the release instant must be set).
pub fn breakdown() -> Result<String> {
    setup::ensure_twiggy()?;
    let app = named_wasm(&["--bin", "maeum"], "maeum")?;
    let floor = named_wasm(&["-p", "hello-floor"], "hello-floor")?;
    stdout_of(
        cmd("node")
            .arg(root().join("xtask/wasm-breakdown.mjs"))
            .arg(format!("package={}", twiggy_csv(&app)?.display()))
            .arg(format!("floor={}", twiggy_csv(&floor)?.display())),
    )
}

/// Builds `target` for the browser and returns its optimized wasm, names kept.
fn named_wasm(target: &[&str], name: &str) -> Result<PathBuf> {
    run(cmd("cargo")
        .args([
            "build",
            "--quiet",
            "--release",
            "--target",
            "wasm32-unknown-unknown",
        ])
        .args(target))?;
    let built = root().join(format!("target/wasm32-unknown-unknown/release/{name}.wasm"));
    let out = root().join("target/size").join(name);
    run(cmd("wasm-bindgen")
        .args(["--target", "web", "--keep-debug", "--out-dir"])
        .arg(&out)
        .arg(&built))?;
    let bound = out.join(format!("{name}_bg.wasm"));
    let optimized = out.join("optimized.wasm");
    run(cmd("wasm-opt")
        .args(WASM_OPT)
        .arg(&bound)
        .arg("-o")
        .arg(&optimized))?;
    // The release hook's second pass (xtask/shrink-glue.mjs, step 4).
    run(cmd("wasm-opt")
        .args(["--flatten", "--rereloop", "-Oz", "-Oz"])
        .args(WASM_OPT)
        .arg(&optimized)
        .arg("-o")
        .arg(&optimized))?;
    Ok(optimized)
}

fn twiggy_csv(wasm: &Path) -> Result<PathBuf> {
    let csv = stdout_of(
        cmd("twiggy")
            .args(["top", "-n", "1000000", "--format", "csv"])
            .arg(wasm),
    )?;
    let path = wasm.with_extension("csv");
    std::fs::write(&path, csv).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}
