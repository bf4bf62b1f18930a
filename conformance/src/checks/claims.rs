//! `POST /v1/claims`: grants, idempotency, refusals, and races.

use super::{require, Check, Needs};
use crate::client::{ensure, Exchange, Failure};
use crate::people::User;
use crate::report::Outcome;
use crate::Kit;
use serde_json::Value;
use std::sync::Barrier;
use std::time::Duration;

fn statuses(x: &Exchange) -> Vec<String> {
    x.json()["results"]
        .as_array()
        .map(|r| {
            r.iter()
                .map(|r| r["status"].as_str().unwrap_or("?").to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// Runs `request(i)` for `i` in `0..n` on `n` threads released together (a
/// burst of taps or a race); the answers come back in order.
fn at_once<F>(n: usize, request: F) -> Result<Vec<Exchange>, Failure>
where
    F: Fn(usize) -> Result<Exchange, Failure> + Sync,
{
    let barrier = Barrier::new(n);
    let answers: Vec<Result<Exchange, Failure>> = std::thread::scope(|s| {
        let tasks: Vec<_> = (0..n)
            .map(|i| {
                let (barrier, request) = (&barrier, &request);
                s.spawn(move || {
                    barrier.wait();
                    request(i)
                })
            })
            .collect();
        tasks
            .into_iter()
            .map(|t| {
                t.join()
                    .unwrap_or_else(|_| Err(Failure::new("a request thread panicked")))
            })
            .collect()
    });
    answers.into_iter().collect()
}

/// How many times the user holds `item` in their 선물함.
fn held(kit: &Kit, user: &User, item: &str) -> Result<(usize, Exchange), Failure> {
    let x = kit.http.get("/v1/me/claims").bearer(&user.token).send()?;
    let body = x.expect(200)?;
    let n = body["claims"]
        .as_array()
        .map(|c| c.iter().filter(|c| c["item_id"] == item).count())
        .unwrap_or(0);
    Ok((n, x))
}

/// The user's 선물함 holds `item` exactly once.
fn held_once(kit: &Kit, user: &User, item: &str) -> Result<(), Failure> {
    let (n, x) = held(kit, user, item)?;
    ensure(
        n == 1,
        || format!("the 선물함 holds the item {n} times"),
        &x,
    )
}

/// Sends a claim, and once more after `Retry-After` while the answer is 429 or
/// 503 (as the app does, with the same key); at most `tries` times.
fn claim_retrying(
    kit: &Kit,
    user: &User,
    key: &str,
    item: &str,
    tries: u32,
) -> Result<Exchange, Failure> {
    let mut x = kit.claim(user, key, &[item])?;
    for _ in 1..tries {
        if !matches!(x.status, 429 | 503) {
            break;
        }
        let wait = x
            .header("retry-after")
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(1)
            .min(5);
        std::thread::sleep(Duration::from_secs(wait));
        x = kit.claim(user, key, &[item])?;
    }
    Ok(x)
}

pub const GRANT_THEN_ALREADY: Check = Check {
    id: "claims.already-claimed",
    group: "claims",
    title: "granted, then already_claimed with the same claim for the same user whatever the key",
    needs: Needs::Open,
    users: 1,
    run: |kit| {
        let item = kit.claimable_item()?;
        let user = kit.user()?;
        let first = kit.claim(&user, &kit.key(), &[&item])?;
        first.expect(200)?;
        ensure(
            statuses(&first) == ["granted"],
            || "expected one `granted` result".into(),
            &first,
        )?;
        let claim = first.json()["results"][0]["claim"].clone();
        ensure(
            claim["item_id"] == item.as_str(),
            || "the granted claim names another item".into(),
            &first,
        )?;
        let again = kit.claim(&user, &kit.key(), &[&item])?;
        again.expect(200)?;
        ensure(
            statuses(&again) == ["already_claimed"],
            || "a new key for a held item must answer `already_claimed`".into(),
            &again,
        )?;
        ensure(
            again.json()["results"][0]["claim"] == claim,
            || "already_claimed must carry the claim the user holds".into(),
            &again,
        )?;
        held_once(kit, &user, &item)?;
        Ok(Outcome::Pass)
    },
};

pub const REPLAY: Check = Check {
    id: "claims.replay",
    group: "claims",
    title: "the same Idempotency-Key and body replay the first answer byte for byte, with Idempotent-Replayed: true",
    needs: Needs::Open,
    users: 1,
    run: |kit| {
        let item = kit.claimable_item()?;
        let user = kit.user()?;
        let key = kit.key();
        let first = kit.claim(&user, &key, &[&item])?;
        first.expect(200)?;
        ensure(
            first.header("idempotent-replayed").is_none(),
            || "the first answer says it is a replay".into(),
            &first,
        )?;
        let again = kit.claim(&user, &key, &[&item])?;
        again.expect(200)?;
        ensure(
            again.header("idempotent-replayed") == Some("true"),
            || "a replay must say `Idempotent-Replayed: true`".into(),
            &again,
        )?;
        ensure(
            again.body == first.body,
            || format!("the replay differs from the first answer, which was:\n{}", first.body),
            &again,
        )?;
        Ok(Outcome::Pass)
    },
};

pub const KEY_REUSED: Check = Check {
    id: "claims.key-reused",
    group: "claims",
    title: "the same key with another body → 422 idempotency_key_reused, and nothing granted",
    needs: Needs::Open,
    users: 1,
    run: |kit| {
        let items = kit.items()?;
        let ids: Vec<&str> = items.iter().filter_map(|i| i["id"].as_str()).collect();
        let (Some(a), Some(b)) = (ids.first(), ids.get(1)) else {
            return Ok(Outcome::Skip("the package has one item".into()));
        };
        let user = kit.user()?;
        let key = kit.key();
        kit.claim(&user, &key, &[a])?.expect(200)?;
        kit.claim(&user, &key, &[b])?
            .problem(422, "idempotency_key_reused")?;
        let (n, x) = held(kit, &user, b)?;
        ensure(n == 0, || format!("{b} was granted by a reused key"), &x)?;
        Ok(Outcome::Pass)
    },
};

pub const MISSING_KEY: Check = Check {
    id: "claims.missing-key",
    group: "claims",
    title: "a claim without Idempotency-Key → 400 missing_idempotency_key",
    needs: Needs::Open,
    users: 1,
    run: |kit| {
        let item = kit.claimable_item()?;
        let user = kit.user()?;
        let x = kit
            .http
            .post("/v1/claims")
            .bearer(&user.token)
            .json(&serde_json::json!({ "item_ids": [item] }))
            .send()?;
        x.problem(400, "missing_idempotency_key")?;
        Ok(Outcome::Pass)
    },
};

pub const INVALID_JSON: Check = Check {
    id: "claims.invalid-json",
    group: "claims",
    title: "a malformed JSON body → 400 invalid_json",
    needs: Needs::Open,
    users: 1,
    run: |kit| {
        let user = kit.user()?;
        for body in ["{", r#"{"item_ids": "not a list"}"#] {
            let x = kit
                .http
                .post("/v1/claims")
                .bearer(&user.token)
                .key(&kit.key())
                .json_text(body)
                .send()?;
            x.problem(400, "invalid_json")?;
        }
        Ok(Outcome::Pass)
    },
};

pub const UNKNOWN_ITEM: Check = Check {
    id: "claims.unknown-item",
    group: "claims",
    title: "an unknown item → 422 unknown_item, and the known ones beside it are not granted",
    needs: Needs::Open,
    users: 1,
    run: |kit| {
        let item = kit.claimable_item()?;
        let user = kit.user()?;
        let nope = kit.unique("no-such-item");
        kit.claim(&user, &kit.key(), &[&item, &nope])?
            .problem(422, "unknown_item")?;
        let (n, x) = held(kit, &user, &item)?;
        ensure(
            n == 0,
            || format!("{item} was granted beside an unknown item"),
            &x,
        )?;
        Ok(Outcome::Pass)
    },
};

/// Requests of one user at once, each with its own key.
const TAPS: usize = 25;

pub const PARALLEL_ONE_GRANT: Check = Check {
    id: "claims.parallel-one-grant",
    group: "claims",
    title: "25 requests of one user for one item at once (each its own key) → exactly one grant",
    needs: Needs::Open,
    users: 1,
    run: |kit| {
        let item = kit.claimable_item()?;
        let user = kit.user()?;
        let keys: Vec<String> = (0..TAPS).map(|_| kit.key()).collect();
        let answers = at_once(TAPS, |i| kit.claim(&user, &keys[i], &[&item]))?;
        // 429 and 503 are refusals a backend may give under such a burst; the rest decide.
        let decided: Vec<&Exchange> = answers.iter().filter(|x| x.status == 200).collect();
        if let Some(odd) = answers
            .iter()
            .find(|x| !matches!(x.status, 200 | 429 | 503))
        {
            return Err(Failure::at("expected 200 (or a 429/503 refusal)", odd));
        }
        if decided.len() < 2 {
            return Ok(Outcome::Skip(format!(
                "only {} of {TAPS} requests were decided (the rest refused with 429/503); nothing to compare",
                decided.len()
            )));
        }
        let granted: Vec<&&Exchange> = decided
            .iter()
            .filter(|x| statuses(x) == ["granted"])
            .collect();
        if granted.len() != 1 {
            let shown: Option<&Exchange> = granted.get(1).map(|x| **x).or(decided.first().copied());
            let why = format!(
                "{} of {} decided answers say granted",
                granted.len(),
                decided.len()
            );
            return Err(match shown {
                Some(x) => Failure::at(why, x),
                None => Failure::new(why),
            });
        }
        if let Some(x) = decided.iter().find(
            |x| !matches!(statuses(x).as_slice(), [s] if s == "granted" || s == "already_claimed"),
        ) {
            return Err(Failure::at("expected granted or already_claimed", x));
        }
        held_once(kit, &user, &item)?;
        Ok(Outcome::Pass)
    },
};

/// A fast double (or twentyfold) tap: the same key at once.
const SAME_KEY_TAPS: usize = 20;

pub const PARALLEL_SAME_KEY: Check = Check {
    id: "claims.parallel-same-key",
    group: "claims",
    title:
        "20 requests with one Idempotency-Key at once → one grant, and every answer the same bytes",
    needs: Needs::Open,
    users: 1,
    run: |kit| {
        let item = kit.claimable_item()?;
        let user = kit.user()?;
        let key = kit.key();
        let answers = at_once(SAME_KEY_TAPS, |_| kit.claim(&user, &key, &[&item]))?;
        if let Some(odd) = answers
            .iter()
            .find(|x| !matches!(x.status, 200 | 429 | 503))
        {
            return Err(Failure::at("expected 200 (or a 429/503 refusal)", odd));
        }
        let decided: Vec<&Exchange> = answers.iter().filter(|x| x.status == 200).collect();
        let Some(first) = decided.first() else {
            return Ok(Outcome::Skip(
                "every request was refused with 429/503".into(),
            ));
        };
        ensure(
            statuses(first) == ["granted"],
            || "expected `granted`".into(),
            first,
        )?;
        if let Some(other) = decided.iter().find(|x| x.body != first.body) {
            return Err(Failure::at(
                format!(
                    "answers to one key differ; another one was:\n{}",
                    first.body
                ),
                other,
            ));
        }
        held_once(kit, &user, &item)?;
        Ok(Outcome::Pass)
    },
};

/// Users racing for the last places, and how many places.
const RACERS: usize = 60;
const PLACES: u64 = 20;

pub const CAP_RACE: Check = Check {
    id: "claims.cap-race",
    group: "claims",
    title:
        "60 users racing for a cap of 20 → exactly 20 granted, the rest sold_out (with --admin-cmd)",
    needs: Needs::Admin,
    users: RACERS,
    run: |kit| {
        let items = kit.items()?;
        // A capped item tells how many it has granted (cap − remaining); else cap one first.
        let item: Value = items
            .iter()
            .find(|i| i["cap"].is_u64())
            .or(items.first())
            .cloned()
            .ok_or_else(|| Failure::new("no items"))?;
        let id = item["id"].as_str().unwrap_or_default().to_string();
        let original = item["cap"]
            .as_u64()
            .map_or("none".to_string(), |c| c.to_string());
        let granted_so_far = |kit: &Kit| -> Result<Option<u64>, Failure> {
            let items = kit.items()?;
            let i = items.iter().find(|i| i["id"] == id.as_str());
            Ok(i.and_then(|i| Some(i["cap"].as_u64()? - i["remaining"].as_u64()?)))
        };
        let granted = match granted_so_far(kit)? {
            Some(g) => g,
            None => {
                kit.admin(&["cap", &id, "1000000000"])?;
                granted_so_far(kit)?.ok_or_else(|| {
                    Failure::new(format!("{id} shows no cap after `cap {id} 1000000000`"))
                })?
            }
        };
        kit.admin(&["cap", &id, &(granted + PLACES).to_string()])?;
        let outcome = race(kit, &id);
        // Put the cap back whatever happened.
        let restored = kit.admin(&["cap", &id, &original]);
        let outcome = outcome?;
        restored?;
        Ok(outcome)
    },
};

fn race(kit: &Kit, item: &str) -> Result<Outcome, Failure> {
    let left = kit
        .items()?
        .into_iter()
        .find(|i| i["id"] == item)
        .and_then(|i| i["remaining"].as_u64());
    require(left == Some(PLACES), || {
        format!("after `cap {item} …` the package shows remaining {left:?}, not {PLACES}")
    })?;
    let users = (0..RACERS)
        .map(|_| kit.user())
        .collect::<Result<Vec<_>, _>>()?;
    let keys: Vec<String> = (0..RACERS).map(|_| kit.key()).collect();
    let answers = at_once(RACERS, |i| {
        claim_retrying(kit, &users[i], &keys[i], item, 5)
    })?;
    if let Some(x) = answers.iter().find(|x| x.status != 200) {
        return Err(Failure::at(
            "every racer must get a decision (200), after retries",
            x,
        ));
    }
    let count = |s: &str| answers.iter().filter(|x| statuses(x) == [s]).count();
    let (granted, sold_out) = (count("granted"), count("sold_out"));
    if granted != PLACES as usize || sold_out != RACERS - PLACES as usize {
        let x = answers
            .iter()
            .find(|x| statuses(x) != ["sold_out"])
            .unwrap_or(&answers[0]);
        return Err(Failure::at(
            format!(
                "{granted} granted and {sold_out} sold_out of {RACERS}; expected {PLACES} and {}",
                RACERS - PLACES as usize
            ),
            x,
        ));
    }
    let left = kit
        .items()?
        .into_iter()
        .find(|i| i["id"] == item)
        .and_then(|i| i["remaining"].as_u64());
    require(left == Some(0), || {
        format!("after the race the package shows remaining {left:?}, not 0")
    })?;
    Ok(Outcome::Pass)
}
