//! Every check, in the order they run, and the audited rules.

mod business;
mod claims;
mod gate;
mod headers;
mod status;

use crate::client::{Audit, Failure, Findings};
use crate::report::{CheckResult, Outcome};
use crate::Kit;

/// What a check needs besides a backend.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Needs {
    Nothing,
    /// The backend must be open (released, not paused, not closed).
    Open,
    /// `--admin-cmd`, and an open backend.
    Admin,
    /// `--app-origin`.
    AppOrigin,
}

pub struct Check {
    pub id: &'static str,
    pub group: &'static str,
    pub title: &'static str,
    pub needs: Needs,
    /// New users it takes.
    pub users: usize,
    pub run: fn(&Kit) -> Result<Outcome, Failure>,
}

/// The groups `--only` accepts.
pub const GROUPS: [&str; 5] = ["status", "claims", "business", "headers", "gate"];

/// Every check. Gate last: it moves the backend's state (and puts it back).
pub const ALL: &[Check] = &[
    status::SHAPE,
    status::PACKAGE,
    status::MY_CLAIMS,
    status::UNAUTHORIZED,
    claims::GRANT_THEN_ALREADY,
    claims::REPLAY,
    claims::KEY_REUSED,
    claims::MISSING_KEY,
    claims::INVALID_JSON,
    claims::UNKNOWN_ITEM,
    claims::PARALLEL_ONE_GRANT,
    claims::PARALLEL_SAME_KEY,
    claims::CAP_RACE,
    business::SNIFF_EXECUTABLE,
    business::TOO_LARGE,
    business::PNG_AND_PDF,
    business::VALIDATION,
    business::TIERS,
    business::REPLAY,
    business::DUPLICATE,
    business::OWNER_ONLY,
    business::CHANNEL_CASH_ONCE,
    headers::RATE_LIMITED,
    headers::CORS,
    gate::NOT_OPEN,
    gate::PAUSE,
];

/// Users the selected checks take (one more reads the package).
pub fn users_needed(checks: &[&Check], admin: bool) -> usize {
    1 + checks
        .iter()
        .filter(|c| admin || c.needs != Needs::Admin)
        .map(|c| c.users)
        .sum::<usize>()
}

/// Why `check` cannot run here, if it cannot.
pub fn unmet(check: &Check, kit: &Kit, closed: Option<&str>) -> Option<String> {
    match check.needs {
        Needs::Admin if !kit.has_admin() => {
            Some("needs --admin-cmd (an operator hook)".to_string())
        }
        Needs::AppOrigin if kit.app_origin.is_none() => {
            Some("needs --app-origin (the app's origin)".to_string())
        }
        Needs::Open | Needs::Admin | Needs::AppOrigin => closed.map(str::to_string),
        Needs::Nothing => None,
    }
}

/// The rules held against every answer of the run, as checks.
pub fn audited(audit: &Audit) -> Vec<CheckResult> {
    let rule = |id, title, f: &Findings, none: &str| CheckResult {
        id,
        group: "contract",
        title,
        millis: 0,
        outcome: if f.seen == 0 {
            Outcome::Skip(none.to_string())
        } else if f.broken == 0 {
            Outcome::Pass
        } else {
            let first = f.examples[0].clone();
            Outcome::Fail(Failure {
                why: format!("{} of {} answers: {}", f.broken, f.seen, first.why),
                exchange: first.exchange,
            })
        },
    };
    vec![
        rule(
            "contract.schema",
            "every answer has a documented status and a body that matches the OpenAPI schema",
            &audit.schema,
            "no answers",
        ),
        rule(
            "contract.content-type",
            "content types as documented: application/json, and application/problem+json for problems",
            &audit.content_type,
            "no answers with a body",
        ),
        rule(
            "contract.no-store",
            "every API answer carries Cache-Control: no-store",
            &audit.no_store,
            "no answers",
        ),
        rule(
            "contract.retry-after",
            "every 429 and 503 answer carries Retry-After (seconds)",
            &audit.retry_after,
            "no 429 or 503 answers in this run",
        ),
    ]
}

/// Fails unless `ok`, without an exchange.
pub fn require(ok: bool, why: impl FnOnce() -> String) -> Result<(), Failure> {
    if ok {
        Ok(())
    } else {
        Err(Failure::new(why()))
    }
}

/// Milliseconds since the epoch of an RFC 3339 string, if it is one.
pub fn epoch_ms(v: &serde_json::Value) -> Option<i64> {
    maeum_contract::Timestamp::parse_rfc3339(v.as_str()?)
        .ok()
        .map(|t| t.0)
}

/// This machine's clock, in epoch milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_user_counts_the_readme_announces_hold() {
        let all: Vec<&Check> = ALL.iter().collect();
        assert!(users_needed(&all, false) < 30);
        assert!(users_needed(&all, true) < 90);
        let ids: std::collections::BTreeSet<&str> = ALL.iter().map(|c| c.id).collect();
        assert_eq!(ids.len(), ALL.len(), "check ids are unique");
        assert!(ALL
            .iter()
            .all(|c| GROUPS.contains(&c.group) && c.id.starts_with(c.group)));
    }
}
