//! The commands: dev, test, bench, build.

use crate::setup::{self, cmd, root, run, Result};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// The instant baked into bundles built by `dev`, `test` and `bench`: the
/// shipped campaign's opening. Real deployments pass their own to `build`.
const DEMO_RELEASE_AT: &str = "2023-01-05T09:00:00+09:00";

fn dist() -> PathBuf {
    root().join("dist")
}

fn server_bin() -> PathBuf {
    root().join("target/server/maeum-server")
}

/// Where the business bundle goes, and the path it is served under.
const BUSINESS_DIR: &str = "business";

/// `trunk build --release` of both bundles: the package (`index.html`) into
/// dist/, then the business journey (`business.html`) into dist/business/
/// (in that order: trunk replaces the whole of its dist). The release instant
/// must be given.
pub fn build_release() -> Result {
    if std::env::var("MAEUM_RELEASE_AT").is_err() {
        return Err("set MAEUM_RELEASE_AT (RFC 3339, e.g. 2023-01-05T09:00:00+09:00) to build a release bundle".into());
    }
    run(cmd("trunk")
        .args(["build", "--release", "--offline=true", "--dist"])
        .arg(dist()))?;
    run(cmd("trunk")
        .args(["build", "--release", "--offline=true", "--dist"])
        .arg(dist().join(BUSINESS_DIR))
        .args([
            "--public-url",
            &format!("/{BUSINESS_DIR}/"),
            "business.html",
        ]))
}

/// Bundles built for `dev`, `test` and `bench` open at the demo instant unless told otherwise.
fn default_release_at() {
    let release_at =
        std::env::var("MAEUM_RELEASE_AT").unwrap_or_else(|_| DEMO_RELEASE_AT.to_string());
    std::env::set_var("MAEUM_RELEASE_AT", release_at);
}

fn build_demo_bundle() -> Result {
    default_release_at();
    build_release()
}

/// `cargo xtask size`: prints the wasm breakdown.
pub fn size() -> Result {
    setup::all()?;
    default_release_at();
    print!("{}", crate::size::breakdown()?);
    Ok(())
}

fn build_server() -> Result {
    run(cmd("cargo").args([
        "build",
        "--quiet",
        "-p",
        "maeum-server",
        "--profile",
        "server",
    ]))
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
    let (mut server, url) = start_server(&[
        "serve",
        "--addr",
        &addr,
        "--data-dir",
        &data,
        "--dist",
        &dist,
        "--dev",
    ])?;
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
    if status.success() {
        Ok(())
    } else {
        Err(format!("server stopped: {status}"))
    }
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
        let mut child = c
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {c:?}: {e}"))?;
        if let Some(out) = child.stdout.take() {
            for line in BufReader::new(out)
                .lines()
                .map_while(std::result::Result::ok)
            {
                println!("{line}");
                self.read(&line);
            }
        }
        let status = child.wait().map_err(|e| e.to_string())?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("{c:?} failed ({status})"))
        }
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
    println!(
        "\nxtask test: {} passed, {} failed",
        tally.passed, tally.failed
    );
    outcome
}

fn run_layers(tally: &mut Tally) -> Result {
    // 1. Contract rules, server over real HTTP + SQLite, the task runner.
    tally.run(cmd("cargo").args([
        "test",
        "-p",
        "maeum-contract",
        "-p",
        "maeum-server",
        "-p",
        "xtask",
    ]))?;
    // 1b. The server's suites again on PostgreSQL + S3 (SeaweedFS), both throwaway;
    // stopped when `services` drops, also when a suite fails.
    {
        let services = crate::services::Services::start()?;
        tally.run(
            cmd("cargo")
                .args(["test", "-p", "maeum-server"])
                .envs(services.test_env()),
        )?;
    }
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

/// Sizes of a built bundle as a Markdown table, and its first-load brotli total.
fn sizes(dir: &std::path::Path) -> Result<(String, u64)> {
    let out = cmd("node")
        .arg(root().join("xtask/sizes.mjs"))
        .arg(dir)
        .output()
        .map_err(|e| format!("node: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "sizes.mjs failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let table = String::from_utf8_lossy(&out.stdout).into_owned();
    let total = table
        .lines()
        .find_map(|l| l.strip_prefix("first-load brotli bytes: "))
        .and_then(|n| n.trim().parse().ok())
        .ok_or("sizes.mjs printed no first-load total")?;
    Ok((table, total))
}

/// Raw size of the one .wasm file in a bundle.
fn wasm_bytes(dir: &std::path::Path) -> Result<u64> {
    std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok())
        .find(|e| e.path().extension().is_some_and(|x| x == "wasm"))
        .and_then(|e| e.metadata().ok())
        .map(|m| m.len())
        .ok_or_else(|| format!("no .wasm in {}", dir.display()))
}

/// Runs `c` and returns what it printed; a failure carries its stderr.
pub fn stdout_of(c: &mut Command) -> Result<String> {
    eprintln!("xtask: $ {c:?}");
    let out = c.output().map_err(|e| format!("{c:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{c:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Budgets of issue 6 (lab, Lighthouse mobile profile).
const LANDING_LCP_MS: f64 = 1000.0;
const LANDING_FCP_MS: f64 = 900.0;
const TBT_MS: f64 = 50.0;
const MIN_PERF_SCORE: f64 = 98.0;
const FIRST_LOAD_TARGET_BYTES: u64 = 100 * 1024;
const WASM_VS_FLOOR: f64 = 2.5;

/// The server under wrk (see `load`), printed.
pub fn bench_server() -> Result {
    build_server()?;
    print!("{}", crate::load::server_load(&server_bin())?);
    Ok(())
}

pub fn bench() -> Result {
    setup::all()?;
    setup::ensure_lighthouse()?;
    build_demo_bundle()?;
    let floor_dist = root().join("target/hello-floor-dist");
    run(cmd("trunk")
        .args(["build", "--release", "--offline=true", "--dist"])
        .arg(&floor_dist)
        .current_dir(root().join("xtask/hello-floor")))?;
    let (app_sizes, first_load) = sizes(&dist())?;
    let (business_sizes, _) = sizes(&dist().join(BUSINESS_DIR))?;
    let (floor_sizes, floor_first_load) = sizes(&floor_dist)?;
    let (wasm, floor_wasm) = (wasm_bytes(&dist())?, wasm_bytes(&floor_dist)?);
    let breakdown = crate::size::breakdown()?;

    build_server()?;
    let scratch = root().join("target/bench-data");
    let _ = std::fs::remove_dir_all(&scratch);
    let (open_dir, teaser_dir) = (scratch.join("open"), scratch.join("teaser"));
    for d in [&open_dir, &teaser_dir] {
        std::fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
    }
    let dist = dist().to_string_lossy().into_owned();
    let (mut open, open_url) = start_server(&[
        "serve",
        "--addr",
        "127.0.0.1:0",
        "--data-dir",
        &open_dir.to_string_lossy(),
        "--dist",
        &dist,
    ])?;
    // A server whose clock stands a day before the shipped campaign opens.
    let (mut teaser, teaser_url) = start_server(&[
        "serve",
        "--addr",
        "127.0.0.1:0",
        "--data-dir",
        &teaser_dir.to_string_lossy(),
        "--dist",
        &dist,
        "--dev",
        "--fake-now",
        "2023-01-04T09:00:00+09:00",
    ])?;
    let token = |dir: &std::path::Path| {
        stdout_of(
            cmd(server_bin().to_str().unwrap_or("maeum-server"))
                .args(["token", "bench"])
                .arg("--data-dir")
                .arg(dir),
        )
        .map(|t| t.trim().to_string())
    };
    let lighthouse = (|| {
        let (open_token, teaser_token) = (token(&open_dir)?, token(&teaser_dir)?);
        stdout_of(
            cmd("node")
                .arg(root().join("xtask/lighthouse/run.mjs"))
                .args([
                    format!("landing={open_url}/"),
                    format!("package={open_url}/#access_token={open_token}"),
                    format!("teaser={teaser_url}/#access_token={teaser_token}"),
                    format!("business={open_url}/{BUSINESS_DIR}/#access_token={open_token}"),
                ]),
        )
    })();
    let _ = open.kill();
    let _ = teaser.kill();
    let lighthouse = lighthouse?;
    print!("{lighthouse}");

    let server = stdout_of(cmd("cargo").args([
        "bench",
        "--quiet",
        "-p",
        "maeum-server",
        "--profile",
        "server",
        "--bench",
        "claims",
    ]))?;
    print!("{server}");
    // Fault scenarios (failover, kill under load, surge): their report is docs/reliability.md.
    let faults = stdout_of(cmd("cargo").args([
        "bench",
        "--quiet",
        "-p",
        "maeum-server",
        "--profile",
        "server",
        "--bench",
        "faults",
    ]))?;
    let load = crate::load::server_load(&server_bin())?;
    print!("{load}");
    std::fs::write(root().join("docs/reliability.md"), &faults)
        .map_err(|e| format!("writing docs/reliability.md: {e}"))?;
    println!("wrote docs/reliability.md");

    let table: String = lighthouse
        .lines()
        .filter(|l| l.starts_with('|'))
        .map(|l| format!("{l}\n"))
        .collect();
    let ratio = wasm as f64 / floor_wasm as f64;
    let doc = format!(
        "# Performance\n\nEvery figure below comes from one run of `cargo xtask bench` on the project's machine \
         (2 cores; release bundle built with `MAEUM_RELEASE_AT={DEMO_RELEASE_AT}` unless set; served by the \
         reference server with compression on loopback). Regenerate after any change that can move them.\n\n\
         ## Lighthouse 12.2.3, mobile profile (simulated slow 4G, 4x CPU), median of 5\n\n{table}\n\
         `landing` is `/` with no token (static shell, then the open-from-app page); `package` is the open \
         package with six items; `teaser` is the same bundle against a server a day before release; \
         `business` is the first step of the small-business form (its own bundle). \
         Chromium asks for brotli only over HTTPS, so these loopback runs transfer gzip (the `bytes` column); \
         an HTTPS deployment sends the brotli sizes below.\n\n\
         Targets: landing LCP ≤ {LANDING_LCP_MS} ms and FCP ≤ {LANDING_FCP_MS} ms; TBT ≤ {TBT_MS} ms; CLS 0; \
         performance ≥ {MIN_PERF_SCORE} on every page.\n\n\
         ## Bundle sizes (bytes; gzip -9, brotli q11)\n\nThe package bundle (`index.html`, what the banner opens):\n\n{app_sizes}\n\
         The small-business bundle (`business/index.html`, loaded only under `/business`):\n\n{business_sizes}\n\
         The floor: Leptos's hello-world counter (one signal, a button; `xtask/hello-floor`, measured at \
         70.9 KB in DEVELOPERS.md), built the same way in the same run:\n\n{floor_sizes}\n\
         wasm: {wasm} bytes, {ratio:.2}x the floor's {floor_wasm} (target ≤ {WASM_VS_FLOOR}x). \
         First load: {first_load} bytes brotli (target ≤ {FIRST_LOAD_TARGET_BYTES}; floor {floor_first_load}).\n\n\
         ## Where the wasm's bytes go (`cargo xtask size`)\n\n\
         KB by the crate named first in each function's symbol (generic code counts under the crate that \
         defines it: the code that builds a view is tachys's), from twiggy, on each wasm built like its release \
         bundle but with names kept (and with server_fn's stream classes, which the release hook drops).\n\n\
         {breakdown}\n\
         ## Reference server (64 concurrent clients on loopback, cap check on)\n\n```\n{server}```\n\n{load}"
    );
    std::fs::write(root().join("docs/perf.md"), doc)
        .map_err(|e| format!("writing docs/perf.md: {e}"))?;
    println!("wrote docs/perf.md");

    let mut over = Vec::new();
    if first_load > FIRST_LOAD_TARGET_BYTES {
        over.push(format!(
            "first load {first_load} B brotli > {FIRST_LOAD_TARGET_BYTES} B"
        ));
    }
    if ratio > WASM_VS_FLOOR {
        over.push(format!("wasm is {ratio:.2}x the floor > {WASM_VS_FLOOR}x"));
    }
    over.extend(lighthouse_budget(&lighthouse)?);
    if over.is_empty() {
        Ok(())
    } else {
        Err(format!("OVER BUDGET:\n  {}", over.join("\n  ")))
    }
}

/// Checks the JSON line run.mjs prints against the budgets.
fn lighthouse_budget(output: &str) -> Result<Vec<String>> {
    let json = output
        .lines()
        .find_map(|l| l.strip_prefix("lighthouse-json: "))
        .ok_or("no lighthouse results")?;
    let mut over = Vec::new();
    // Flat objects of numbers and one string: read them without a JSON crate.
    for obj in json.trim_matches(|c| c == '[' || c == ']').split("},{") {
        let field = |k: &str| -> Option<f64> {
            let i = obj.find(&format!("\"{k}\":"))? + k.len() + 3;
            obj[i..].split([',', '}']).next()?.parse().ok()
        };
        let name = obj
            .split("\"name\":\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap_or("?");
        let (perf, fcp, lcp, tbt, cls) = (
            field("perf"),
            field("fcp"),
            field("lcp"),
            field("tbt"),
            field("cls"),
        );
        let (Some(perf), Some(fcp), Some(lcp), Some(tbt), Some(cls)) = (perf, fcp, lcp, tbt, cls)
        else {
            return Err(format!("unreadable lighthouse result for {name}"));
        };
        if perf < MIN_PERF_SCORE {
            over.push(format!("{name}: performance {perf} < {MIN_PERF_SCORE}"));
        }
        if tbt > TBT_MS {
            over.push(format!("{name}: TBT {tbt:.0} ms > {TBT_MS} ms"));
        }
        if cls > 0.0 {
            over.push(format!("{name}: CLS {cls:.3} > 0"));
        }
        if name == "landing" && (lcp > LANDING_LCP_MS || fcp > LANDING_FCP_MS) {
            over.push(format!("landing: LCP {lcp:.0} ms / FCP {fcp:.0} ms over {LANDING_LCP_MS}/{LANDING_FCP_MS} ms"));
        }
    }
    Ok(over)
}

#[cfg(test)]
mod tests {
    use super::Tally;

    /// `business.html` repeats `index.html`'s static shell (trunk has no
    /// includes): the two bodies must stay the same, so moving between the
    /// bundles never moves the banner.
    #[test]
    fn both_pages_share_one_static_shell() {
        let body = |name: &str| {
            let html = std::fs::read_to_string(crate::setup::root().join(name))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            let start = html.find("<body>").expect("a <body>");
            let end = html.find("</body>").expect("a </body>");
            html[start..end].to_string()
        };
        assert_eq!(body("index.html"), body("business.html"));
    }

    #[test]
    fn lighthouse_results_over_budget_are_named() {
        let out = r#"lighthouse-json: [{"name":"landing","perf":100,"a11y":100,"fcp":700,"lcp":1200,"tbt":0,"cls":0,"si":800,"bytes":1},{"name":"package","perf":97,"a11y":100,"fcp":800,"lcp":900,"tbt":60,"cls":0.01,"si":900,"bytes":1}]"#;
        let over = super::lighthouse_budget(out).unwrap();
        assert_eq!(over.len(), 4, "{over:?}");
        assert!(over[0].starts_with("landing: LCP 1200"));
        assert!(over.iter().any(|o| o == "package: performance 97 < 98"));
        assert!(super::lighthouse_budget("nothing").is_err());
    }

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
