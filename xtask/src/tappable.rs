//! Time to a tappable 받기, for `cargo xtask bench`: the release bundle against
//! the plain-JavaScript page in `xtask/tappable/plain/`, both served by the
//! reference server from one database, measured by `xtask/tappable/measure.mjs`.

use crate::setup::{cmd, root, Result};
use std::path::Path;

/// The goal: the app within this many times the plain page's figure.
pub const MAX_RATIO: f64 = 1.6;

pub struct Tappable {
    /// The Markdown section for docs/perf.md (figures, runs, one trace each).
    pub markdown: String,
    pub app_ms: f64,
    pub plain_ms: f64,
    pub ratio: f64,
}

/// The plain page's folder, served with `serve --dist`.
pub fn plain_dist() -> std::path::PathBuf {
    root().join("xtask/tappable/plain")
}

/// Measures both pages (median of 7 each) against running servers.
pub fn measure(
    server_bin: &Path,
    data_dir: &Path,
    app_url: &str,
    plain_url: &str,
) -> Result<Tappable> {
    let out = crate::steps::stdout_of(
        cmd("node")
            .arg(root().join("xtask/tappable/measure.mjs"))
            .args([app_url, plain_url])
            .env("MAEUM_SERVER_BIN", server_bin)
            .env("MAEUM_DATA_DIR", data_dir),
    )?;
    parse(&out)
}

fn parse(out: &str) -> Result<Tappable> {
    let json = out
        .lines()
        .find_map(|l| l.strip_prefix("tappable-json: "))
        .ok_or("measure.mjs printed no tappable-json line")?;
    // One flat object of numbers: read it without a JSON crate (xtask is std only).
    let field = |k: &str| -> Result<f64> {
        let i = json
            .find(&format!("\"{k}\":"))
            .ok_or(format!("no {k} in {json}"))?
            + k.len()
            + 3;
        json[i..]
            .split([',', '}'])
            .next()
            .and_then(|n| n.trim().parse().ok())
            .ok_or(format!("unreadable {k} in {json}"))
    };
    let markdown = out
        .lines()
        .filter(|l| !l.starts_with("tappable-json: "))
        .map(|l| format!("{l}\n"))
        .collect();
    Ok(Tappable {
        markdown,
        app_ms: field("app")?,
        plain_ms: field("plain")?,
        ratio: field("ratio")?,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_the_figures_and_keeps_the_table() {
        let out = "| page | median ms |\n| app | 1,200 |\ntappable-json: {\"app\":1200.5,\"plain\":700,\"ratio\":1.715}\n";
        let t = super::parse(out).unwrap();
        assert_eq!((t.app_ms, t.plain_ms, t.ratio), (1200.5, 700.0, 1.715));
        assert_eq!(t.markdown, "| page | median ms |\n| app | 1,200 |\n");
        assert!(super::parse("nothing").is_err());
    }
}
