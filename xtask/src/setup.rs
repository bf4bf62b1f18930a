//! Idempotent installation of every tool the build and the tests need.
//! Trunk runs `--offline`, so it must find wasm-bindgen and wasm-opt on PATH.

use std::path::{Path, PathBuf};
use std::process::Command;

pub type Result<T = ()> = std::result::Result<T, String>;

pub const TRUNK_VERSION: &str = "0.21.14";

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

pub fn e2e_dir() -> PathBuf {
    root().join("tests/e2e")
}

/// PATH with cargo's bin dir and the npm tools first: wasm-opt comes from npm's
/// binaryen 132, because Debian's binaryen 108 emits a wasm that dies at start.
pub fn tool_path() -> String {
    let cargo_bin = std::env::var("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cargo"))
        .join("bin");
    let npm_bin = e2e_dir().join("node_modules/.bin");
    format!(
        "{}:{}:{}",
        npm_bin.display(),
        cargo_bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// A command with the tool PATH, run from the repository root.
pub fn cmd(program: &str) -> Command {
    let mut c = Command::new(program);
    c.env("PATH", tool_path()).current_dir(root());
    c
}

pub fn run(c: &mut Command) -> Result {
    eprintln!("xtask: $ {}", describe(c));
    let status = c
        .status()
        .map_err(|e| format!("cannot start {}: {e}", describe(c)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{} failed ({status})", describe(c)))
    }
}

fn describe(c: &Command) -> String {
    std::iter::once(c.get_program())
        .chain(c.get_args())
        .map(|s| s.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The first line a tool prints for `--version`, or None when it is missing.
fn version_of(program: &str) -> Option<String> {
    let out = cmd(program).arg("--version").output().ok()?;
    out.status.success().then(|| {
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .next()
            .unwrap_or("")
            .to_string()
    })
}

/// The wasm-bindgen version Cargo.lock resolved; the CLI must match it exactly.
pub fn locked_wasm_bindgen() -> Result<String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock"))
        .map_err(|e| format!("reading Cargo.lock: {e}"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == "name = \"wasm-bindgen\"" {
            if let Some(v) = lines.next().and_then(|l| l.strip_prefix("version = \"")) {
                return Ok(v.trim_end_matches('"').to_string());
            }
        }
    }
    Err("Cargo.lock has no wasm-bindgen entry".into())
}

pub fn all() -> Result {
    ensure_wasm_target()?;
    ensure_chromium()?;
    ensure_npm()?;
    run(cmd("cargo").args(["fetch", "--quiet"]))?;
    ensure_trunk()?;
    ensure_wasm_bindgen()?;
    Ok(())
}

fn ensure_wasm_target() -> Result {
    let out = cmd("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map_err(|e| format!("rustup: {e}"))?;
    if String::from_utf8_lossy(&out.stdout)
        .lines()
        .any(|l| l == "wasm32-unknown-unknown")
    {
        return Ok(());
    }
    run(cmd("rustup").args(["target", "add", "wasm32-unknown-unknown"]))
}

fn ensure_trunk() -> Result {
    if version_of("trunk").is_some_and(|v| v.ends_with(TRUNK_VERSION)) {
        return Ok(());
    }
    // 0.22 needs a newer rustc than this machine's.
    run(cmd("cargo").args(["install", "trunk", "--version", TRUNK_VERSION, "--locked"]))
}

fn ensure_wasm_bindgen() -> Result {
    let want = locked_wasm_bindgen()?;
    let have = version_of("wasm-bindgen");
    if have
        .as_deref()
        .is_some_and(|v| v.split_whitespace().nth(1) == Some(want.as_str()))
        && version_of("wasm-bindgen-test-runner").is_some()
    {
        return Ok(());
    }
    // Without --locked: the CLI's own lockfile names a crate version the registry lacks.
    run(cmd("cargo").args(["install", "wasm-bindgen-cli", "--version", &want, "--force"]))
}

/// Chromium and its driver, and the Korean font Android phones ship (Noto
/// Sans CJK, named in `style/main.css`). Screenshots then show Hangul as a
/// phone does, and the lab's layout times match a phone's: with no Korean
/// font named in the stack, Chromium on Linux looks one up glyph by glyph,
/// which doubled the business page's layout time.
fn ensure_chromium() -> Result {
    let have = [
        "/usr/bin/chromium",
        "/usr/bin/chromedriver",
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    ];
    if have.iter().all(|p| Path::new(p).exists()) {
        return Ok(());
    }
    apt_install(
        &["chromium", "chromium-driver", "fonts-noto-cjk"],
        "Chromium is missing",
    )
}

/// WebKitGTK's WebDriver (it brings MiniBrowser) and a virtual display, for
/// the WebKit smoke in `cargo xtask test`.
pub fn ensure_webkit() -> Result {
    let have = [
        "/usr/bin/WebKitWebDriver",
        "/usr/bin/xvfb-run",
        "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser",
    ];
    if have.iter().all(|p| Path::new(p).exists()) {
        return Ok(());
    }
    apt_install(
        &["webkit2gtk-driver", "xvfb"],
        "WebKitGTK's driver is missing",
    )
}

/// `apt-get install` as root, waiting for a lock another install holds.
/// Whether xtask runs as root (and so may install with apt and act as `postgres`).
pub fn is_root() -> bool {
    cmd("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Installs Debian packages (as root), waiting for another apt to finish;
/// `missing` names what is missing when it cannot.
pub fn apt_install(packages: &[&str], missing: &str) -> Result {
    if !is_root() {
        return Err(format!(
            "{missing}: run `sudo apt-get update && sudo apt-get install -y {}`",
            packages.join(" ")
        ));
    }
    const LOCK: [&str; 2] = ["-o", "DPkg::Lock::Timeout=600"];
    run(cmd("apt-get").args(LOCK).args(["update", "-q"]))?;
    run(cmd("apt-get")
        .args(LOCK)
        .args(["install", "-y", "-q"])
        .args(packages)
        .env("DEBIAN_FRONTEND", "noninteractive"))
}

fn ensure_npm() -> Result {
    let dir = e2e_dir();
    let stamp = dir.join("node_modules/.package-lock.json");
    let lock = dir.join("package-lock.json");
    let fresh = match (std::fs::metadata(&stamp), std::fs::metadata(&lock)) {
        (Ok(s), Ok(l)) => s.modified().ok() >= l.modified().ok(),
        _ => false,
    };
    if fresh && dir.join("node_modules/.bin/wasm-opt").exists() {
        return Ok(());
    }
    // Browsers come from apt; Playwright must never download its own.
    run(cmd("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(&dir)
        .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1"))
}

/// twiggy, for the wasm breakdown (`cargo xtask size` and `bench`) only.
pub fn ensure_twiggy() -> Result {
    if version_of("twiggy").is_some() {
        return Ok(());
    }
    run(cmd("cargo").args(["install", "twiggy", "--version", "0.8.0", "--locked"]))
}

/// Lighthouse lives in its own npm project: only the bench needs it.
pub fn ensure_lighthouse() -> Result {
    let dir = root().join("xtask/lighthouse");
    if dir.join("node_modules/lighthouse").exists() {
        return Ok(());
    }
    // 13.x needs Node 22; 12.2.3 runs on Node 20.
    run(cmd("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(&dir))
}
