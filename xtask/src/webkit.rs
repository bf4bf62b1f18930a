//! The WebKit end-to-end smoke (`tests/webkit/`): the release bundle, served
//! by the reference server, in WebKitGTK's MiniBrowser through WebKitWebDriver.
//! About a third of the campaign's users open it in iOS's WebKit.

use crate::setup::{cmd, root};
use std::path::Path;
use std::process::Command;

/// Where the smoke lives (its own npm project with no dependencies).
fn dir() -> std::path::PathBuf {
    root().join("tests/webkit")
}

/// `xvfb-run -a node smoke.mjs`: MiniBrowser has no headless mode, so it gets
/// a virtual display that lives as long as the smoke. The smoke starts and
/// stops its own servers and driver; it prints `N passed, M failed`.
pub fn smoke(server_bin: &Path, dist: &Path) -> Command {
    let mut c = cmd("xvfb-run");
    c.args(["-a", "node", "smoke.mjs"])
        .current_dir(dir())
        .env("MAEUM_SERVER_BIN", server_bin)
        .env("MAEUM_DIST", dist)
        .env("WEBKIT_FAILURES", root().join("target/webkit-failures"));
    c
}
