//! The campaign's state, the package and the 선물함: shapes the app reads.

use super::{epoch_ms, now_ms, Check, Needs};
use crate::client::{ensure, Failure};
use crate::report::Outcome;
use maeum_contract::{MyClaims, Package, Status};

/// How far the backend's clock may be from this machine's (the app counts
/// down on the server's clock, so a wrong one opens the gate early or late).
const CLOCK_SLACK_MS: i64 = 60_000;

pub const SHAPE: Check = Check {
    id: "status.shape",
    group: "status",
    title: "GET /v1/status answers the campaign's state with server_time close to real time",
    needs: Needs::Nothing,
    users: 0,
    run: |kit| {
        let before = now_ms();
        let x = kit.http.get("/v1/status").send()?;
        let after = now_ms();
        x.expect(200)?;
        let status: Status = serde_json::from_str(&x.body)
            .map_err(|e| Failure::at(format!("not a status: {e}"), &x))?;
        let t = status.server_time.0;
        ensure(
            t >= before - CLOCK_SLACK_MS && t <= after + CLOCK_SLACK_MS,
            || {
                format!(
                    "server_time is {} s away from this machine's clock",
                    (t - after) / 1000
                )
            },
            &x,
        )?;
        ensure(
            !status.open || !status.paused,
            || "open and paused at once".into(),
            &x,
        )?;
        Ok(Outcome::Pass)
    },
};

pub const PACKAGE: Check = Check {
    id: "status.package",
    group: "status",
    title: "GET /v1/package lists items with validity, caps and remaining counts",
    needs: Needs::Open,
    users: 1,
    run: |kit| {
        let user = kit.user()?;
        let x = kit.http.get("/v1/package").bearer(&user.token).send()?;
        x.expect(200)?;
        let package: Package = serde_json::from_str(&x.body)
            .map_err(|e| Failure::at(format!("not a package: {e}"), &x))?;
        ensure(!package.items.is_empty(), || "no items".into(), &x)?;
        let mut ids: Vec<&str> = package.items.iter().map(|i| i.id.as_str()).collect();
        ids.sort();
        ids.dedup();
        ensure(
            ids.len() == package.items.len(),
            || "an item id appears twice".into(),
            &x,
        )?;
        for item in &package.items {
            let consistent = match (item.cap, item.remaining) {
                (None, None) => true,
                (Some(cap), Some(left)) => left <= cap,
                _ => false,
            };
            ensure(
                consistent,
                || {
                    format!(
                        "{}: cap and remaining must both be null, or remaining ≤ cap",
                        item.id
                    )
                },
                &x,
            )?;
            ensure(
                (item.as_of.0 - now_ms()).abs() < CLOCK_SLACK_MS * 10,
                || format!("{}: as_of is far from now", item.id),
                &x,
            )?;
        }
        let body = x.json();
        ensure(
            body["items"]
                .as_array()
                .is_some_and(|a| a.iter().all(|i| epoch_ms(&i["as_of"]).is_some())),
            || "as_of is not RFC 3339".into(),
            &x,
        )?;
        Ok(Outcome::Pass)
    },
};

pub const MY_CLAIMS: Check = Check {
    id: "status.my-claims",
    group: "status",
    title: "GET /v1/me/claims of a new user is an empty 선물함",
    needs: Needs::Open,
    users: 1,
    run: |kit| {
        let user = kit.user()?;
        let x = kit.http.get("/v1/me/claims").bearer(&user.token).send()?;
        x.expect(200)?;
        let mine: MyClaims = serde_json::from_str(&x.body)
            .map_err(|e| Failure::at(format!("not a 선물함: {e}"), &x))?;
        ensure(
            mine.claims.is_empty() && mine.ineligible_reason.is_none(),
            || "a new user already holds something or is ineligible".into(),
            &x,
        )?;
        Ok(Outcome::Pass)
    },
};

pub const UNAUTHORIZED: Check = Check {
    id: "status.unauthorized",
    group: "status",
    title: "no token or a forged one → 401 unauthorized with WWW-Authenticate: Bearer",
    needs: Needs::Nothing,
    users: 0,
    run: |kit| {
        for x in [
            kit.http.get("/v1/package").send()?,
            kit.http
                .get("/v1/me/claims")
                .bearer("forged.token.value")
                .send()?,
        ] {
            x.problem(401, "unauthorized")?;
            ensure(
                x.header("www-authenticate")
                    .is_some_and(|v| v.trim().to_ascii_lowercase().starts_with("bearer")),
                || "no WWW-Authenticate: Bearer".into(),
                &x,
            )?;
        }
        Ok(Outcome::Pass)
    },
};
