//! The release gate and the operators' pause.

use super::{epoch_ms, now_ms, require, Check, Needs};
use crate::client::{ensure, Exchange, Failure};
use crate::people::User;
use crate::report::Outcome;
use crate::Kit;
use maeum_contract::Timestamp;
use serde_json::json;

/// Every gated route, asked by `user`.
fn gated(kit: &Kit, user: &User) -> Result<Vec<Exchange>, Failure> {
    let t = &user.token;
    let h = &kit.http;
    let no = "D-2301-ABCDEF";
    Ok(vec![
        h.get("/v1/package").bearer(t).send()?,
        h.get("/v1/me/claims").bearer(t).send()?,
        kit.claim(user, &kit.key(), &["emoticon"])?,
        h.post("/v1/uploads")
            .bearer(t)
            .header("Content-Type", "multipart/form-data; boundary=x")
            .raw_body(b"--x--\r\n".to_vec(), "(an empty multipart body)".into())
            .send()?,
        h.post("/v1/damage-claims")
            .bearer(t)
            .key(&kit.key())
            .json(&json!({}))
            .send()?,
        h.get(&format!("/v1/damage-claims/{no}")).bearer(t).send()?,
        h.post("/v1/channel-cash")
            .bearer(t)
            .key(&kit.key())
            .json(&json!({"brn": super::business::fresh_brn()}))
            .send()?,
    ])
}

fn all_not_open(kit: &Kit, release_at: &serde_json::Value) -> Result<(), Failure> {
    let user = kit.user()?;
    for x in gated(kit, &user)? {
        let p = x.problem(403, "not_open")?;
        ensure(
            epoch_ms(&p["release_at"]).is_some()
                && epoch_ms(&p["release_at"]) == epoch_ms(release_at)
                && epoch_ms(&p["server_time"]).is_some(),
            || format!("not_open must carry release_at ({release_at}) and server_time"),
            &x,
        )?;
    }
    Ok(())
}

pub const NOT_OPEN: Check = Check {
    id: "gate.not-open",
    group: "gate",
    title: "before the release instant every gated route answers 403 not_open with release_at and server_time",
    needs: Needs::Nothing,
    users: 1,
    run: |kit| {
        let status = kit.status()?;
        let (release, now) = (epoch_ms(&status["release_at"]), epoch_ms(&status["server_time"]));
        if status["open"] == false && status["paused"] == false && release > now {
            all_not_open(kit, &status["release_at"])?;
            return Ok(Outcome::Pass);
        }
        if status["open"] == false || !kit.has_admin() {
            return Ok(Outcome::Skip(
                "the backend is open; with --admin-cmd the kit moves release_at to tomorrow and back".into(),
            ));
        }
        let original = status["release_at"]
            .as_str()
            .ok_or_else(|| Failure::new("status has no release_at"))?
            .to_string();
        let tomorrow = Timestamp(now_ms() + 86_400_000).to_rfc3339();
        kit.admin(&["release-at", &tomorrow])?;
        let checked = (|| {
            let status = kit.status()?;
            require(status["open"] == false, || {
                format!("after `release-at {tomorrow}` the status still says open: {status}")
            })?;
            all_not_open(kit, &status["release_at"])
        })();
        let restored = kit.admin(&["release-at", &original]);
        checked?;
        restored?;
        let status = kit.status()?;
        require(status["open"] == true, || {
            format!("after `release-at {original}` (back) the status is not open: {status}")
        })?;
        Ok(Outcome::Pass)
    },
};

pub const PAUSE: Check = Check {
    id: "gate.pause",
    group: "gate",
    title: "pause → 503 paused with Retry-After on the claim endpoints; resume → open again (with --admin-cmd)",
    needs: Needs::Admin,
    users: 1,
    run: |kit| {
        let item = kit.claimable_item()?;
        let user = kit.user()?;
        let key = kit.key();
        kit.admin(&["pause"])?;
        let paused = (|| {
            let status = kit.status()?;
            require(status["paused"] == true && status["open"] == false, || {
                format!("after `pause` the status must say paused and not open: {status}")
            })?;
            let x = kit.claim(&user, &key, &[&item])?;
            x.problem(503, "paused")?;
            ensure(
                x.header("retry-after").is_some_and(|v| v.trim().parse::<u64>().is_ok()),
                || "503 paused without Retry-After: SECONDS".into(),
                &x,
            )?;
            let cash = kit
                .http
                .post("/v1/channel-cash")
                .bearer(&user.token)
                .key(&kit.key())
                .json(&json!({"brn": super::business::fresh_brn()}))
                .send()?;
            cash.problem(503, "paused")?;
            Ok::<(), Failure>(())
        })();
        let resumed = kit.admin(&["resume"]);
        paused?;
        resumed?;
        require(kit.status()?["open"] == true, || "after `resume` the status is not open".into())?;
        // A refusal is not stored: the same key now claims.
        let x = kit.claim(&user, &key, &[&item])?;
        x.expect(200)?;
        ensure(
            x.json()["results"][0]["status"] == "granted",
            || "after resume the refused request (same key) must be granted".into(),
            &x,
        )?;
        Ok(Outcome::Pass)
    },
};
