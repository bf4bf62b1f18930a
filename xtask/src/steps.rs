//! The commands: dev, test, bench, build.

use crate::setup::{self, cmd, root, run, Result};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// The instant baked into bundles built by `dev`, `test` and `bench`: the
/// shipped campaign's opening. Real deployments pass their own to `build`.
const DEMO_RELEASE_AT: &str = "2023-01-05T09:00:00+09:00";
/// Budget of issue 2 for the first load (html + css + js + wasm, brotli).
const FIRST_LOAD_BUDGET_BYTES: u64 = 150 * 1024;

fn dist() -> PathBuf {
    root().join("dist")
}

fn server_bin() -> PathBuf {
    root().join("target/server/maeum-server")
}

/// `trunk build --release` into dist/. The release instant must be given.
pub fn build_release() -> Result {
    if std::env::var("MAEUM_RELEASE_AT").is_err() {
        return Err("set MAEUM_RELEASE_AT (RFC 3339, e.g. 2023-01-05T09:00:00+09:00) to build a release bundle".into());
    }
    run(cmd("trunk").args(["build", "--release", "--offline", "--dist"]).arg(dist()))
}

fn build_demo_bundle() -> Result {
    let release_at = std::env::var("MAEUM_RELEASE_AT").unwrap_or_else(|_| DEMO_RELEASE_AT.to_string());
    std::env::set_var("MAEUM_RELEASE_AT", release_at);
    build_release()
}

fn build_server() -> Result {
    run(cmd("cargo").args(["build", "--quiet", "-p", "maeum-server", "--profile", "server"]))
}

/// Starts the server and returns it once it prints its address.
fn start_server(args: &[&str]) -> Result<(Child, String)> {
    let mut child = cmd(server_bin().to_str().unwrap_or("maeum-server"))
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start the server: {e}"))?;
    let stdout = child.stdout.take().ok_or("server has no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    for line in lines.by_ref() {
        let line = line.map_err(|e| e.to_string())?;
        if let Some(url) = line.strip_prefix("listening on ") {
            let url = url.trim().to_string();
            // Keep draining stdout so the server never blocks on a full pipe.
            std::thread::spawn(move || lines.for_each(drop));
            return Ok((child, url));
        }
    }
    let _ = child.kill();
    Err("the server exited before it was listening".into())
}

pub fn dev(args: &[String]) -> Result {
    let addr = match args {
        [] => "127.0.0.1:8080".to_string(),
        [flag, addr] if flag == "--addr" => addr.clone(),
        _ => return Err("usage: cargo xtask dev [--addr 127.0.0.1:8080]".into()),
    };
    setup::all()?;
    build_demo_bundle()?;
    build_server()?;
    let data = root().join("target/dev-data");
    let _ = std::fs::remove_dir_all(&data);
    std::fs::create_dir_all(&data).map_err(|e| format!("creating {}: {e}", data.display()))?;
    let data = data.to_string_lossy().into_owned();
    let dist = dist().to_string_lossy().into_owned();
    let (mut server, url) = start_server(&["serve", "--addr", &addr, "--data-dir", &data, "--dist", &dist, "--dev"])?;
    let token = cmd(server_bin().to_str().unwrap_or("maeum-server"))
        .args(["token", "demo", "--data-dir", &data])
        .output()
        .map_err(|e| e.to_string())?;
    let token = String::from_utf8_lossy(&token.stdout).trim().to_string();
    println!("\n  maeum is running on a fresh database in {data}\n");
    println!("  open as the demo user:   {url}/#access_token={token}");
    println!("  or log in as anyone:     {url}/api/dev/login?user=YOUR_NAME");
    println!("  without a token:         {url}/\n");
    println!("  stop with Ctrl-C\n");
    let status = server.wait().map_err(|e| e.to_string())?;
    if status.success() { Ok(()) } else { Err(format!("server stopped: {status}")) }
}

/// Sums the pass/fail counts the runners print, while echoing their output.
#[derive(Default)]
struct Tally {
    passed: u64,
    failed: u64,
}

impl Tally {
    fn run(&mut self, c: &mut Command) -> Result {
        eprintln!("xtask: $ {:?}", c);
        let mut child = c.stdout(Stdio::piped()).spawn().map_err(|e| format!("cannot start {c:?}: {e}"))?;
        if let Some(out) = child.stdout.take() {
            for line in BufReader::new(out).lines().map_while(std::result::Result::ok) {
                println!("{line}");
                self.read(&line);
            }
        }
        let status = child.wait().map_err(|e| e.to_string())?;
        if status.success() { Ok(()) } else { Err(format!("{c:?} failed ({status})")) }
    }

    /// cargo and wasm-bindgen-test: `test result: ok. 19 passed; 0 failed; ...`;
    /// Playwright's list reporter: `  12 passed (31.2s)` and `  1 failed`.
    fn read(&mut self, line: &str) {
        let count = |s: &str, word: &str| -> Option<u64> {
            let i = s.find(word)?;
            s[..i].split_whitespace().last()?.parse().ok()
        };
        if let Some(rest) = line.strip_prefix("test result: ") {
            self.passed += count(rest, " passed").unwrap_or(0);
            self.failed += count(rest, " failed").unwrap_or(0);
            return;
        }
        let t = line.trim();
        let words: Vec<&str> = t.split_whitespace().collect();
        if let [n, word, ..] = words.as_slice() {
            if let Ok(n) = n.parse::<u64>() {
                if *word == "passed" && (words.len() == 2 || words[2].starts_with('(')) {
                    self.passed += n;
                } else if *word == "failed" && words.len() == 2 {
                    self.failed += n;
                }
            }
        }
    }
}

pub fn test() -> Result {
    setup::all()?;
    let mut tally = Tally::default();
    let outcome = run_layers(&mut tally);
    println!("\nxtask test: {} passed, {} failed", tally.passed, tally.failed);
    outcome
}

fn run_layers(tally: &mut Tally) -> Result {
    // 1. Contract rules, server over real HTTP + SQLite, the task runner.
    tally.run(cmd("cargo").args(["test", "-p", "maeum-contract", "-p", "maeum-server", "-p", "xtask"]))?;
    // 2. Components in headless Chromium.
    tally.run(
        cmd("cargo")
            .args(["test", "--target", "wasm32-unknown-unknown", "-p", "maeum"])
            .env("CHROMEDRIVER", "/usr/bin/chromedriver"),
    )?;
    // 3. The release bundle, served by the reference server, in Chromium.
    build_demo_bundle()?;
    build_server()?;
    tally.run(
        cmd("npx")
            .args(["playwright", "test", "--reporter=list"])
            .current_dir(setup::e2e_dir())
            .env("MAEUM_SERVER_BIN", server_bin())
            .env("MAEUM_DIST", dist())
            .env("CI", "1"),
    )
}

pub fn bench() -> Result {
    setup::all()?;
    build_demo_bundle()?;
    let sizes = cmd("node")
        .arg(root().join("xtask/sizes.mjs"))
        .arg(dist())
        .output()
        .map_err(|e| format!("node: {e}"))?;
    if !sizes.status.success() {
        return Err(format!("sizes.mjs failed: {}", String::from_utf8_lossy(&sizes.stderr)));
    }
    let sizes = String::from_utf8_lossy(&sizes.stdout).into_owned();
    print!("{sizes}");
    let first_load: u64 = sizes
        .lines()
        .find_map(|l| l.strip_prefix("first-load brotli bytes: "))
        .and_then(|n| n.trim().parse().ok())
        .ok_or("sizes.mjs printed no first-load total")?;

    let server = cmd("cargo")
        .args(["bench", "--quiet", "-p", "maeum-server", "--bench", "claims"])
        .output()
        .map_err(|e| format!("cargo bench: {e}"))?;
    if !server.status.success() {
        return Err(format!("server bench failed: {}", String::from_utf8_lossy(&server.stderr)));
    }
    let server = String::from_utf8_lossy(&server.stdout).into_owned();
    print!("{server}");

    let doc = format!(
        "# Performance\n\nProduced by `cargo xtask bench` (release bundle, `MAEUM_RELEASE_AT={DEMO_RELEASE_AT}` unless set; \
         server bench on loopback). Regenerate after any change that can move these numbers.\n\n\
         ## Bundle sizes (bytes; gzip -9, brotli q11)\n\n{sizes}\n\
         Budget (issue 2): first load at most {FIRST_LOAD_BUDGET_BYTES} bytes brotli.\n\n\
         ## Reference server\n\n```\n{server}```\n"
    );
    std::fs::write(root().join("docs/perf.md"), doc).map_err(|e| format!("writing docs/perf.md: {e}"))?;
    if first_load > FIRST_LOAD_BUDGET_BYTES {
        return Err(format!("first load is {first_load} bytes brotli, over the {FIRST_LOAD_BUDGET_BYTES}-byte budget"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::Tally;

    #[test]
    fn tally_reads_cargo_and_playwright_summaries() {
        let mut t = Tally::default();
        for line in [
            "test result: ok. 19 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s",
            "test result: FAILED. 3 passed; 2 failed; 0 ignored",
            "  12 passed (31.2s)",
            "  1 failed",
            "  2 passed in a sentence that is not a summary",
            "  [chromium] › claim.spec.ts:3:1 › 5 passed items",
        ] {
            t.read(line);
        }
        assert_eq!((t.passed, t.failed), (34, 3));
    }
}
