//! One entry point for the project: `cargo xtask <setup|dev|test|bench|build|size>`.
//!
//! Std only, so it compiles in seconds on a fresh machine. Every step that
//! installs something first checks whether it is already there.

mod conformance;
mod load;
mod services;
mod setup;
mod size;
mod steps;
mod tappable;
mod webkit;

use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask <command>

  setup   install every missing tool (wasm target, trunk, wasm-bindgen, wasm-opt, Chromium, WebKitGTK, npm packages)
  dev     set up, build the app, start the reference server on a fresh database, print the URL
          [--addr 127.0.0.1:8080]
  test    set up and run every test layer (contract, server, browser components, release bundle, end-to-end, WebKit)
  bench   set up, build the release bundle and print sizes and server throughput (writes docs/perf.md)
  build   set up and build the release bundle into dist/
  bench-server  only the server load part of bench (wrk, SQLite and PostgreSQL); prints it
  with-services CMD...  run CMD with a throwaway PostgreSQL and S3 store and MAEUM_TEST_* set
  size    where the package wasm's bytes go, by crate, next to the floor's (needs twiggy; installs it)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("setup") => setup::all().and_then(|_| setup::ensure_webkit()),
        Some("dev") => steps::dev(&args[1..]),
        Some("test") => steps::test(),
        Some("bench") => steps::bench(),
        Some("build") => setup::all().and_then(|_| steps::build_release()),
        Some("size") => steps::size(),
        Some("with-services") => services::with_services(&args[1..]),
        Some("bench-server") => steps::bench_server(),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}
