//! Several API backends in order of preference (`api_bases` in the runtime
//! `config.json`; by default only the compile-time base). A request that
//! cannot reach one goes to the next; the app stays with the base that
//! answered and asks the primary again after [`RECHECK_MS`].

use std::cell::RefCell;

use crate::browser::mono_ms;
use crate::config;

/// How long the app stays on a fallback before trying the primary again.
pub const RECHECK_MS: f64 = 60_000.0;
/// At most this many bases are used.
const MAX_BASES: usize = 4;

struct State {
    bases: Vec<String>,
    /// Index of the base that answered last.
    current: usize,
    /// `mono_ms` when the app settled on `current` (or re-confirmed it).
    since: f64,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State {
        bases: vec![config::API_BASE.to_string()],
        current: 0,
        since: 0.0,
    });
}

/// The bases a `config.json` lists, cleaned: absolute `http(s)://` URLs or
/// same-origin paths, without a trailing `/`, no duplicates. An empty or
/// unusable list means the compile-time base.
pub fn clean_bases(listed: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for raw in listed {
        let b = raw.trim().trim_end_matches('/');
        let usable = (b.starts_with('/') && !b.starts_with("//"))
            || b.starts_with("https://")
            || b.starts_with("http://");
        if usable && b.len() < 200 && !out.iter().any(|o| o == b) && out.len() < MAX_BASES {
            out.push(b.to_string());
        }
    }
    if out.is_empty() {
        out.push(config::API_BASE.to_string());
    }
    out
}

/// Which bases to try, in order, for one request: the one in use (or the
/// primary again once `RECHECK_MS` has passed since the app left it), then
/// the others in order of preference.
pub fn attempt_order(n: usize, current: usize, since_ms: f64, now_ms: f64) -> Vec<usize> {
    let first = if current >= n || now_ms - since_ms >= RECHECK_MS {
        0
    } else {
        current
    };
    let mut order = vec![first];
    order.extend((0..n).filter(|i| *i != first));
    order
}

/// Replaces the list (from a freshly read `config.json`).
pub fn configure(listed: &[String]) {
    let bases = clean_bases(listed);
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        if s.bases != bases {
            *s = State {
                bases,
                current: 0,
                since: 0.0,
            };
        }
    });
}

/// The URLs to try for `path`, in order, with each base's index.
pub fn urls(path: &str) -> Vec<(usize, String)> {
    STATE.with(|s| {
        let s = s.borrow();
        attempt_order(s.bases.len(), s.current, s.since, mono_ms())
            .into_iter()
            .filter_map(|i| Some((i, format!("{}{path}", s.bases.get(i)?))))
            .collect()
    })
}

/// Base `i` answered; `after_failure`: an earlier base failed for this request.
pub fn worked(i: usize, after_failure: bool) {
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        if i != s.current || after_failure {
            s.current = i;
            s.since = mono_ms();
        }
    });
}
