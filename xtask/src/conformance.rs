//! The conformance kit (`maeum-conformance`) against a real reference server
//! process, driven as a backend team would drive theirs: over HTTP, with the
//! server's own `token` and `admin` commands as the kit's hooks.

use crate::setup::{cmd, root, run, Result};
use crate::steps::{server_bin, start_server_with, Tally};

/// The app origin the server allows, so the CORS checks run too.
const APP_ORIGIN: &str = "https://app.example";

fn kit_bin() -> std::path::PathBuf {
    root().join("target/server/maeum-conformance")
}

/// `'…'` for the kit's command templates (split like a shell would).
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Starts `maeum-server serve` on a fresh data directory and runs every check
/// against it; the kit's `N passed, M failed, K skipped` line goes into the tally.
/// `serve_args` go to `serve` only (e.g. `--uploads s3://…`); `store_env` goes to
/// `serve`, `token` and `admin` alike (e.g. `DATABASE_URL`), so the same checks
/// run on each store.
pub fn against_reference(
    tally: &mut Tally,
    serve_args: &[&str],
    store_env: &[(&str, String)],
) -> Result {
    run(cmd("cargo").args([
        "build",
        "--quiet",
        "-p",
        "maeum-conformance",
        "--profile",
        "server",
    ]))?;
    let data = root().join("target/conformance-data");
    let _ = std::fs::remove_dir_all(&data);
    std::fs::create_dir_all(&data).map_err(|e| format!("{}: {e}", data.display()))?;
    let data = data.to_string_lossy().into_owned();
    let mut serve = vec![
        "serve",
        "--addr",
        "127.0.0.1:0",
        "--data-dir",
        &data,
        "--allow-origin",
        APP_ORIGIN,
    ];
    serve.extend_from_slice(serve_args);
    let (mut server, url) = start_server_with(&serve, store_env)?;
    let hook = |command: &str, placeholder: &str| {
        [
            quote(&server_bin().to_string_lossy()),
            command.to_string(),
            placeholder.to_string(),
            "--data-dir".to_string(),
            quote(&data),
        ]
        .join(" ")
    };
    let junit = root().join("target/conformance.xml");
    let outcome = tally.run(
        cmd(kit_bin().to_str().unwrap_or("maeum-conformance"))
            .args(["--base", &format!("{url}/api")])
            .args(["--token-cmd", &hook("token", "{user}")])
            .args(["--admin-cmd", &hook("admin", "{args}")])
            .args(["--app-origin", APP_ORIGIN])
            .arg("--junit")
            .arg(&junit)
            // The hooks (token, admin) inherit it.
            .envs(store_env.iter().map(|(k, v)| (k, v))),
    );
    let _ = server.kill();
    let _ = server.wait();
    outcome
}

#[cfg(test)]
mod tests {
    #[test]
    fn templates_quote_paths_with_spaces_and_quotes() {
        assert_eq!(super::quote("/a b/it's"), r"'/a b/it'\''s'");
    }
}
