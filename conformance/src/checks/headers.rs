//! Headers the app relies on: Retry-After when it must wait, CORS when it runs on
//! another origin than the API.

use super::{Check, Needs};
use crate::client::ensure;
use crate::report::Outcome;
use reqwest::Method;

/// Requests one user sends in a row to meet the rate limit (a burst of about 10).
const BURST: usize = 40;

pub const RATE_LIMITED: Check = Check {
    id: "headers.rate-limited",
    group: "headers",
    title: "a script hammering a claim endpoint gets 429 rate_limited with Retry-After",
    needs: Needs::Open,
    users: 1,
    run: |kit| {
        let user = kit.user()?;
        let brn = super::business::fresh_brn();
        for _ in 0..BURST {
            let x = kit
                .http
                .post("/v1/channel-cash")
                .bearer(&user.token)
                .key(&kit.key())
                .json(&serde_json::json!({ "brn": brn }))
                .send()?;
            if x.status == 429 {
                x.problem(429, "rate_limited")?;
                ensure(
                    x.header("retry-after")
                        .is_some_and(|v| v.trim().parse::<u64>().is_ok()),
                    || "429 without Retry-After: SECONDS".into(),
                    &x,
                )?;
                return Ok(Outcome::Pass);
            }
            x.expect(200)?;
        }
        Ok(Outcome::Skip(format!(
            "no 429 after {BURST} requests in a row: this backend does not rate limit"
        )))
    },
};

/// Whether a comma-separated header value lists `want` (any case), or `*`.
fn lists(value: Option<&str>, want: &str) -> bool {
    value.is_some_and(|v| {
        v.split(',')
            .map(str::trim)
            .any(|h| h == "*" || h.eq_ignore_ascii_case(want))
    })
}

pub const CORS: Check = Check {
    id: "headers.cors",
    group: "headers",
    title: "CORS for --app-origin: preflight answered, Retry-After and Idempotent-Replayed exposed",
    needs: Needs::AppOrigin,
    users: 1,
    run: |kit| {
        let origin = kit.app_origin.clone().unwrap_or_default();
        let pre = kit
            .http
            .request(Method::OPTIONS, "/v1/claims")
            .header("Origin", &origin)
            .header("Access-Control-Request-Method", "POST")
            .header(
                "Access-Control-Request-Headers",
                "authorization, content-type, idempotency-key",
            )
            .send()?;
        let allowed = |x: &crate::client::Exchange| {
            x.header("access-control-allow-origin")
                .is_some_and(|v| v == origin || v == "*")
        };
        ensure(
            (200..300).contains(&pre.status) && allowed(&pre),
            || format!("the preflight must succeed with Access-Control-Allow-Origin: {origin}"),
            &pre,
        )?;
        ensure(
            lists(pre.header("access-control-allow-methods"), "POST")
                && ["authorization", "content-type", "idempotency-key"]
                    .iter()
                    .all(|h| lists(pre.header("access-control-allow-headers"), h)),
            || {
                "the preflight must allow POST with Authorization, Content-Type and Idempotency-Key"
                    .into()
            },
            &pre,
        )?;
        let user = kit.user()?;
        let item = kit.claimable_item()?;
        let x = kit
            .http
            .post("/v1/claims")
            .header("Origin", &origin)
            .bearer(&user.token)
            .key(&kit.key())
            .json(&serde_json::json!({ "item_ids": [item] }))
            .send()?;
        x.expect(200)?;
        let exposed = x.header("access-control-expose-headers");
        ensure(
            allowed(&x) && lists(exposed, "Retry-After") && lists(exposed, "Idempotent-Replayed"),
            || {
                format!("answers to {origin} must allow it and expose Retry-After and Idempotent-Replayed")
            },
            &x,
        )?;
        Ok(Outcome::Pass)
    },
};
