//! Fixture answers for the preview scenarios, as JSON text run through the
//! app's real decoder (so previews also exercise the wire format).

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;

use maeum_contract::time::Timestamp;
use maeum_contract::Item;
use wasm_bindgen::JsValue;

use super::{active, offline, Scenario};
use crate::api::ApiError;
use crate::browser::timer;

type Reply = Pin<Box<dyn Future<Output = Result<JsValue, ApiError>>>>;

const ITEMS: &str = r#"[
 {"id":"emoticon-forever","kind":"emoticon","title":"춘식이는 프렌즈2","price_won":2500,"validity":{"type":"permanent"},"cap":null,"remaining":null},
 {"id":"emoticon-90-a","kind":"emoticon","title":"토심이는 토뭉이랑 놀거야","price_won":2000,"validity":{"type":"days_from_claim","days":90},"cap":null,"remaining":null},
 {"id":"emoticon-90-b","kind":"emoticon","title":"아기 망그러진 곰","price_won":2000,"validity":{"type":"days_from_claim","days":90},"cap":null,"remaining":null},
 {"id":"makers-2000","kind":"coupon","title":"카카오메이커스 2,000원 할인 쿠폰","price_won":2000,"validity":{"type":"days_from_claim","days":30},"cap":null,"remaining":null},
 {"id":"makers-3000","kind":"coupon","title":"카카오메이커스 3,000원 할인 쿠폰","price_won":3000,"validity":{"type":"days_from_claim","days":30},"cap":null,"remaining":null},
 {"id":"drawer-plus-1m","kind":"voucher","title":"톡서랍 플러스 1개월 이용권","price_won":1900,"validity":{"type":"months","months":1},"cap":3000000,"remaining":REMAINING}
]"#;

thread_local! {
    /// Item ids claimed in this preview session, with their claim time.
    static HELD: RefCell<Vec<(String, i64)>> = const { RefCell::new(Vec::new()) };
}

pub fn reset() {
    HELD.with(|h| h.borrow_mut().clear());
}

fn now() -> Timestamp {
    Timestamp(js_sys::Date::now() as i64)
}

fn items_json(scenario: Scenario, as_of: Timestamp) -> String {
    let remaining = if scenario == Scenario::SoldOut {
        "0"
    } else {
        "1234567"
    };
    ITEMS.replace("REMAINING", remaining).replace(
        "\"remaining\"",
        &format!("\"as_of\":\"{as_of}\",\"remaining\""),
    )
}

fn items(scenario: Scenario) -> Vec<Item> {
    js_sys::JSON::parse(&items_json(scenario, now()))
        .ok()
        .and_then(|v| crate::api::json::from_js(v).ok())
        .unwrap_or_default()
}

fn claim_json(item: &Item, claimed_at: Timestamp) -> String {
    let expires = match item.validity.expires_at(claimed_at) {
        Some(t) => format!("\"{t}\""),
        None => "null".into(),
    };
    let code = match item.kind {
        maeum_contract::ItemKind::Emoticon => "null".to_string(),
        _ => format!(
            "\"PRV-{}-{:04}\"",
            item.id.len(),
            claimed_at.0.rem_euclid(10_000)
        ),
    };
    format!(
        r#"{{"item_id":"{}","claimed_at":"{claimed_at}","expires_at":{expires},"code":{code}}}"#,
        item.id
    )
}

fn held(scenario: Scenario) -> Vec<(String, i64)> {
    let mut list = HELD.with(|h| h.borrow().clone());
    let everything = matches!(scenario, Scenario::AllClaimed);
    let some = matches!(scenario, Scenario::Closed);
    let base = now().0 - 3_600_000;
    for (i, item) in items(scenario).iter().enumerate() {
        if (everything || (some && i % 2 == 0)) && !list.iter().any(|(id, _)| *id == item.id) {
            list.push((item.id.clone(), base));
        }
    }
    list
}

fn claims_json(scenario: Scenario) -> String {
    let all = items(scenario);
    let claims: Vec<String> = held(scenario)
        .iter()
        .filter_map(|(id, at)| {
            all.iter()
                .find(|i| i.id == *id)
                .map(|i| claim_json(i, Timestamp(*at)))
        })
        .collect();
    let reason = if scenario == Scenario::Ineligible {
        "\"휴면 계정은 마음 패키지를 받을 수 없어요. 카카오톡에 로그인해 휴면을 풀어 주세요.\""
    } else {
        "null"
    };
    format!(
        r#"{{"claims":[{}],"ineligible_reason":{reason}}}"#,
        claims.join(",")
    )
}

fn status_json(scenario: Scenario) -> String {
    let now = now();
    let (release, paused, closes) = match scenario {
        Scenario::BeforeOpen => (
            Timestamp(now.0 + 2 * 3_600_000 + 14 * 60_000 + 5_000),
            false,
            None,
        ),
        Scenario::OpeningNow => (Timestamp(now.0 + 5_000), false, None),
        Scenario::Paused => (Timestamp(now.0 - 86_400_000), true, None),
        Scenario::Closed => (
            Timestamp(now.0 - 15 * 86_400_000),
            false,
            Some(Timestamp(now.0 - 3_600_000)),
        ),
        _ => (Timestamp(now.0 - 86_400_000), false, None),
    };
    let closes = closes
        .map(|c| format!(",\"closes_at\":\"{c}\""))
        .unwrap_or_default();
    format!(
        r#"{{"server_time":"{now}","release_at":"{release}","open":{},"paused":{paused},"spread_seconds":3{closes}}}"#,
        now >= release
    )
}

fn claim_response(scenario: Scenario, body: Option<&JsValue>) -> String {
    let ids: Vec<String> = body
        .and_then(|b| js_sys::Reflect::get(b, &JsValue::from_str("item_ids")).ok())
        .map(|ids| {
            js_sys::Array::from(&ids)
                .iter()
                .filter_map(|v| v.as_string())
                .collect()
        })
        .unwrap_or_default();
    let all = items(scenario);
    let mut results = Vec::new();
    for id in ids {
        let Some(item) = all.iter().find(|i| i.id == id) else {
            continue;
        };
        let existing = held(scenario).into_iter().find(|(h, _)| *h == id);
        let result = if let Some((_, at)) = existing {
            format!(
                r#"{{"item_id":"{id}","status":"already_claimed","claim":{}}}"#,
                claim_json(item, Timestamp(at))
            )
        } else if scenario == Scenario::Ineligible {
            format!(
                r#"{{"item_id":"{id}","status":"ineligible","claim":null,"reason":"휴면 계정이에요"}}"#
            )
        } else if item.sold_out() {
            format!(r#"{{"item_id":"{id}","status":"sold_out","claim":null}}"#)
        } else {
            let at = now();
            HELD.with(|h| h.borrow_mut().push((id.clone(), at.0)));
            format!(
                r#"{{"item_id":"{id}","status":"granted","claim":{}}}"#,
                claim_json(item, at)
            )
        };
        results.push(result);
    }
    format!(r#"{{"results":[{}]}}"#, results.join(","))
}

/// The fixture answer for a request, when a scenario is active.
pub fn respond(url: &str, method: &str, body: Option<&JsValue>) -> Option<Reply> {
    let scenario = active()?;
    let path = url.split("/api").nth(1).unwrap_or(url).to_string();
    let text = match (method, path.as_str()) {
        (_, _) if scenario == Scenario::BackendDown => None,
        ("GET", "/v1/status") => Some(status_json(scenario)),
        ("GET", "/v1/package") => Some(format!(
            r#"{{"items":{},"fixture":"maeum-preview-fixture"}}"#,
            items_json(scenario, Timestamp(now().0 - 60_000))
        )),
        ("GET", "/v1/me/claims") => Some(claims_json(scenario)),
        ("POST", "/v1/claims") => Some(claim_response(scenario, body)),
        ("GET", _) if url.ends_with("config.json") => Some("{}".to_string()),
        _ => Some(r#"{"code":"not_found"}"#.to_string()),
    };
    let delay = match scenario {
        Scenario::SlowNetwork => 2000,
        Scenario::BackendDown => 400,
        _ => 150,
    };
    let delay = timer(delay); // the "network" starts now, like a real request
    Some(Box::pin(async move {
        let _ = delay.await;
        match text {
            Some(t) => js_sys::JSON::parse(&t).map_err(|_| ApiError::Decode),
            None => offline(),
        }
    }))
}
