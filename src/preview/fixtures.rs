//! Fixture answers for the preview scenarios, as JSON text run through the
//! app's real decoder (so previews also exercise the wire format).

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;

use leptos::prelude::Set;
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
        .and_then(|v| crate::api::json::FromJs::from_js(&v))
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
        ("POST", "/v1/damage-claims") => Some(damage_claim_json(body)),
        ("GET", p) if p.starts_with("/v1/damage-claims/") => Some(claim_status_json(
            scenario,
            &p["/v1/damage-claims/".len()..],
        )),
        ("POST", "/v1/channel-cash") => Some(channel_cash_json(body)),
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

// ---- the small-business journey ----

/// Fixture receipt numbers (valid path segments, see `clean_receipt_no`).
const RECEIPT_DONE: &str = "D-2210-PRV0001";
const RECEIPT_REVIEWING: &str = "D-2210-PRV0002";
const RECEIPT_REJECTED: &str = "D-2210-PRV0003";
const REJECT_REASON: &str = "매출 감소 증빙의 기간(2022년 9월)이 장애 기간과 달라요. \
10월 15일~20일 매출이 보이는 자료로 다시 신청해 주세요.";
const BIZ_BRN: &str = "1248100998";
const BIZ_NAME: &str = "카카오 분식 (미리보기)";

thread_local! {
    /// Claims filed in this preview session.
    static FILED: RefCell<u32> = const { RefCell::new(0) };
    static UPLOADED: RefCell<u32> = const { RefCell::new(0) };
}

fn body_field(body: Option<&JsValue>, key: &str) -> JsValue {
    body.map(|b| crate::api::json::get(b, key))
        .unwrap_or(JsValue::UNDEFINED)
}

fn support_json(loss_won: u64) -> &'static str {
    match maeum_contract::business::support_for(loss_won) {
        maeum_contract::business::Support::Won { won: 30_000 } => r#"{"won":30000}"#,
        maeum_contract::business::Support::Won { .. } => r#"{"won":50000}"#,
        maeum_contract::business::Support::Review { .. } => r#"{"requires_review":true}"#,
    }
}

/// `POST /v1/damage-claims`: a fresh receipt, its support from the reported loss.
fn damage_claim_json(body: Option<&JsValue>) -> String {
    let loss = body_field(body, "loss_won").as_f64().unwrap_or(0.0) as u64;
    let n = FILED.with(|f| {
        *f.borrow_mut() += 1;
        *f.borrow()
    });
    format!(
        r#"{{"receipt_no":"D-2210-PRV{:04}","status":"received","support":{},"submitted_at":"{}"}}"#,
        100 + n,
        support_json(loss),
        now()
    )
}

/// `GET /v1/damage-claims/{receipt}`: reviewing / rejected for those
/// scenarios (and their fixture receipts), received otherwise.
fn claim_status_json(scenario: Scenario, receipt: &str) -> String {
    let receipt = receipt.trim().to_ascii_uppercase();
    let (status, reason) = match scenario {
        _ if receipt == RECEIPT_REJECTED => ("rejected", Some(REJECT_REASON)),
        Scenario::BizRejected => ("rejected", Some(REJECT_REASON)),
        _ if receipt == RECEIPT_REVIEWING => ("reviewing", None),
        Scenario::BizReviewing => ("reviewing", None),
        _ => ("received", None),
    };
    let reason = reason
        .map(|r| format!(",\"reason\":\"{r}\""))
        .unwrap_or_default();
    let filed = Timestamp(now().0 - 2 * 86_400_000);
    format!(
        r#"{{"receipt_no":"{receipt}","status":"{status}","support":{{"won":30000}},"submitted_at":"{filed}"{reason}}}"#
    )
}

/// `POST /v1/channel-cash`: granted now.
fn channel_cash_json(body: Option<&JsValue>) -> String {
    let brn = body_field(body, "brn").as_string().unwrap_or_default();
    format!(
        r#"{{"brn":"{brn}","won":50000,"granted_at":"{}","newly_granted":true}}"#,
        now()
    )
}

/// `POST /v1/uploads` in a scenario: progress in quarters, then a fixture id
/// (a dropped connection when the backend is "down").
pub async fn upload(
    file: &web_sys::File,
    on_progress: impl Fn(f64, f64) + 'static,
) -> Result<maeum_contract::business::Upload, crate::api::upload::UploadError> {
    let scenario = active();
    let step = if scenario == Some(Scenario::SlowNetwork) {
        1500
    } else {
        250
    };
    let total = file.size().max(1.0);
    for quarter in 0..=4 {
        on_progress(total * f64::from(quarter) / 4.0, total);
        timer(step).await.ok();
        if scenario == Some(Scenario::BackendDown) && quarter == 1 {
            return Err(crate::api::upload::UploadError::Transient {
                retry_after_s: None,
                offline: false,
            });
        }
    }
    let n = UPLOADED.with(|u| {
        *u.borrow_mut() += 1;
        *u.borrow()
    });
    Ok(maeum_contract::business::Upload {
        id: format!("upl-maeum-preview-fixture-{n}"),
        sha256: String::new(),
        size: file.size().max(0.0) as u64,
        content_type: file.type_(),
    })
}

fn saved_receipt(receipt_no: &str, days_ago: i64) -> crate::business_draft::SavedReceipt {
    crate::business_draft::SavedReceipt {
        receipt_no: receipt_no.to_string(),
        brn: BIZ_BRN.to_string(),
        business_name: BIZ_NAME.to_string(),
        support: Some(maeum_contract::business::Support::Won { won: 30_000 }),
        submitted_at: Some(Timestamp(now().0 - days_ago * 86_400_000)),
    }
}

/// A draft with every step answered, on the check page.
fn filled_draft() -> crate::business_draft::Draft {
    use crate::business_draft::{Draft, EvidenceFile, FileState, Step};
    use maeum_contract::business::{EvidenceCategory, Service};
    let file = |key: u32, name: &str, size: u64, category| EvidenceFile {
        key,
        name: name.to_string(),
        size,
        category,
        upload_id: Some(format!("upl-maeum-preview-fixture-seed-{key}")),
        state: FileState::Done,
    };
    Draft {
        step: Step::Check,
        reached: Step::Check,
        brn: "124-81-00998".into(),
        business_name: BIZ_NAME.into(),
        representative: "김카카오".into(),
        phone: "010-1234-5678".into(),
        email: "bunsik@example.com".into(),
        services: vec![Service::KakaotalkChannel, Service::KakaotalkGift],
        paid: Some(true),
        period_from: "2022-10-15".into(),
        period_to: "2022-10-20".into(),
        loss: "420,000".into(),
        description: "카카오톡 채널 주문 알림이 오지 않아 주말 예약 손님을 놓쳤고, \
선물하기 주문도 받지 못했어요."
            .into(),
        evidence: vec![
            file(
                0,
                "소상공인확인서.pdf",
                182_000,
                EvidenceCategory::SmallBusinessCert,
            ),
            file(
                1,
                "10월_매출내역.jpg",
                2_350_000,
                EvidenceCategory::SalesLoss,
            ),
        ],
        next_file: 2,
        bank_code: "090".into(),
        account_no: "3333-01-1234567".into(),
        holder: "김카카오".into(),
        privacy: true,
        ..Draft::fresh()
    }
}

/// Seeds the journey's stored state for a small-business scenario and
/// returns the path it lands on (`None` for the other scenarios).
pub fn seed_business(scenario: Scenario) -> Option<String> {
    use crate::business_draft as draft;
    if !scenario.is_business() {
        return None;
    }
    FILED.with(|f| *f.borrow_mut() = 0);
    let d = match scenario {
        Scenario::BizCheck => filled_draft(),
        _ => draft::Draft::fresh(),
    };
    draft::save(&d);
    let biz = crate::pages::business::Biz::get();
    biz.draft.set(d);
    biz.clear_errors();
    biz.submit.set(crate::pages::business::store::Submit::Idle);
    let path = match scenario {
        Scenario::BizStart => "/business/info".to_string(),
        Scenario::BizCheck => "/business/check".to_string(),
        Scenario::BizDone => {
            draft::add_receipt(saved_receipt(RECEIPT_DONE, 0));
            "/business/done".to_string()
        }
        Scenario::BizReviewing => {
            draft::add_receipt(saved_receipt(RECEIPT_REVIEWING, 2));
            format!("/business/claims/{RECEIPT_REVIEWING}")
        }
        _ => {
            draft::add_receipt(saved_receipt(RECEIPT_REJECTED, 3));
            format!("/business/claims/{RECEIPT_REJECTED}")
        }
    };
    Some(path)
}
