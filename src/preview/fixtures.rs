//! Fixture answers for the preview scenarios: typed contract values,
//! serialized by the app's own JSON path ([`crate::api::codec`]) and decoded
//! by the client like any answer (so previews also exercise the wire format).

use std::cell::RefCell;

use futures::future::LocalBoxFuture;
use leptos::prelude::Set;
use maeum_contract::business::{
    support_for, ChannelCash, ChannelCashRequest, DamageClaimReceipt, DamageClaimRequest,
    DamageClaimStatus, Support, Upload,
};
use maeum_contract::time::Timestamp;
use maeum_contract::{
    Claim, ClaimRequest, ClaimResponse, ClaimResult, ClaimStatus, Item, ItemKind, MyClaims,
    Package, Status, Validity,
};
use serde::Serialize;
use wasm_bindgen::JsValue;

use super::{active, offline, Scenario, FIXTURE_TOKEN};
use crate::api::codec;
use crate::api::errors::Reply;
use crate::api::errors::UploadError;
use crate::api::responder::{Progress, Responder};
use crate::browser::timer;

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

fn items(scenario: Scenario, as_of: Timestamp) -> Vec<Item> {
    let item = |id: &str, kind, title: &str, price_won, validity| Item {
        id: id.into(),
        kind,
        title: title.into(),
        price_won,
        validity,
        cap: None,
        remaining: None,
        as_of,
    };
    let days = |days| Validity::DaysFromClaim { days };
    vec![
        item(
            "emoticon-forever",
            ItemKind::Emoticon,
            "춘식이는 프렌즈2",
            2500,
            Validity::Permanent,
        ),
        item(
            "emoticon-90-a",
            ItemKind::Emoticon,
            "토심이는 토뭉이랑 놀거야",
            2000,
            days(90),
        ),
        item(
            "emoticon-90-b",
            ItemKind::Emoticon,
            "아기 망그러진 곰",
            2000,
            days(90),
        ),
        item(
            "makers-2000",
            ItemKind::Coupon,
            "카카오메이커스 2,000원 할인 쿠폰",
            2000,
            days(30),
        ),
        item(
            "makers-3000",
            ItemKind::Coupon,
            "카카오메이커스 3,000원 할인 쿠폰",
            3000,
            days(30),
        ),
        Item {
            cap: Some(3_000_000),
            remaining: Some(if scenario == Scenario::SoldOut {
                0
            } else {
                1_234_567
            }),
            ..item(
                "drawer-plus-1m",
                ItemKind::Voucher,
                "톡서랍 플러스 1개월 이용권",
                1900,
                Validity::Months { months: 1 },
            )
        },
    ]
}

fn claim_of(item: &Item, claimed_at: Timestamp) -> Claim {
    Claim {
        item_id: item.id.clone(),
        claimed_at,
        expires_at: item.validity.expires_at(claimed_at),
        code: (item.kind != ItemKind::Emoticon).then(|| {
            format!(
                "PRV-{}-{:04}",
                item.id.len(),
                claimed_at.0.rem_euclid(10_000)
            )
        }),
    }
}

fn held(scenario: Scenario) -> Vec<(String, i64)> {
    let mut list = HELD.with(|h| h.borrow().clone());
    let everything = matches!(scenario, Scenario::AllClaimed);
    let some = matches!(scenario, Scenario::Closed);
    let base = now().0 - 3_600_000;
    for (i, item) in items(scenario, now()).iter().enumerate() {
        if (everything || (some && i % 2 == 0)) && !list.iter().any(|(id, _)| *id == item.id) {
            list.push((item.id.clone(), base));
        }
    }
    list
}

fn my_claims(scenario: Scenario) -> MyClaims {
    let all = items(scenario, now());
    MyClaims {
        claims: held(scenario)
            .iter()
            .filter_map(|(id, at)| {
                all.iter()
                    .find(|i| i.id == *id)
                    .map(|i| claim_of(i, Timestamp(*at)))
            })
            .collect(),
        ineligible_reason: (scenario == Scenario::Ineligible).then(|| {
            "휴면 계정은 마음 패키지를 받을 수 없어요. 카카오톡에 로그인해 휴면을 풀어 주세요."
                .into()
        }),
    }
}

fn status(scenario: Scenario) -> Status {
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
    Status {
        server_time: now,
        release_at: release,
        open: now >= release,
        paused,
        closes_at: closes,
        spread_seconds: Some(3),
    }
}

fn claim_response(scenario: Scenario, item_ids: Vec<String>) -> ClaimResponse {
    let all = items(scenario, now());
    let mut results = Vec::new();
    for id in item_ids {
        let Some(item) = all.iter().find(|i| i.id == id) else {
            continue;
        };
        let result = |status, claim, reason: Option<&str>| ClaimResult {
            item_id: id.clone(),
            status,
            claim,
            reason: reason.map(str::to_string),
        };
        let existing = held(scenario).into_iter().find(|(h, _)| *h == id);
        results.push(if let Some((_, at)) = existing {
            result(
                ClaimStatus::AlreadyClaimed,
                Some(claim_of(item, Timestamp(at))),
                None,
            )
        } else if scenario == Scenario::Ineligible {
            result(ClaimStatus::Ineligible, None, Some("휴면 계정이에요"))
        } else if item.sold_out() {
            result(ClaimStatus::SoldOut, None, None)
        } else {
            let at = now();
            HELD.with(|h| h.borrow_mut().push((id.clone(), at.0)));
            result(ClaimStatus::Granted, Some(claim_of(item, at)), None)
        });
    }
    ClaimResponse { results }
}

/// The package as the fixture backend sends it (with a marker field the
/// release-bundle test looks for).
#[derive(Serialize)]
struct FixturePackage {
    #[serde(flatten)]
    package: Package,
    fixture: &'static str,
}

/// The request body read as `T`.
fn body_as<T: serde::de::DeserializeOwned>(body: Option<&JsValue>) -> Option<T> {
    body.and_then(|b| codec::from_js(b.clone()))
}

/// The fixture answer for a request, when a scenario is active: a typed
/// value, or `None` for "no answer".
fn answer(scenario: Scenario, url: &str, method: &str, body: Option<&JsValue>) -> Option<JsValue> {
    let path = url.split("/api").nth(1).unwrap_or(url);
    match (method, path) {
        (_, _) if scenario == Scenario::BackendDown => None,
        ("GET", "/v1/status") => codec::to_js(&status(scenario)),
        ("GET", "/v1/package") => codec::to_js(&FixturePackage {
            package: Package {
                items: items(scenario, Timestamp(now().0 - 60_000)),
            },
            fixture: FIXTURE_TOKEN,
        }),
        ("GET", "/v1/me/claims") => codec::to_js(&my_claims(scenario)),
        ("POST", "/v1/claims") => {
            let ids = body_as::<ClaimRequest>(body).map(|r| r.item_ids);
            codec::to_js(&claim_response(scenario, ids.unwrap_or_default()))
        }
        ("POST", "/v1/damage-claims") => {
            let loss = body_as::<DamageClaimRequest>(body).map_or(0, |r| r.loss_won);
            codec::to_js(&damage_claim(loss))
        }
        ("GET", p) if p.starts_with("/v1/damage-claims/") => {
            codec::to_js(&claim_status(scenario, &p["/v1/damage-claims/".len()..]))
        }
        ("POST", "/v1/channel-cash") => {
            let brn = body_as::<ChannelCashRequest>(body).map(|r| r.brn);
            codec::to_js(&channel_cash(brn.unwrap_or_default()))
        }
        ("GET", _) if url.ends_with("config.json") => Some(js_sys::Object::new().into()),
        _ => codec::to_js(&maeum_contract::problem::Problem::new(
            404,
            maeum_contract::problem::code::NOT_FOUND,
            "없는 주소예요",
        )),
    }
}

/// The preview's stand-in for the network, installed at mount: it answers
/// while a scenario is chosen and lets requests through otherwise.
pub struct Fixtures;

impl Responder for Fixtures {
    fn respond(&self, method: &str, url: &str, body: Option<&JsValue>) -> Option<Reply> {
        let scenario = active()?;
        let value = answer(scenario, url, method, body);
        let delay = match scenario {
            Scenario::SlowNetwork => 2000,
            Scenario::BackendDown => 400,
            _ => 150,
        };
        let delay = timer(delay); // the "network" starts now, like a real request
        Some(Box::pin(async move {
            let _ = delay.await;
            match value {
                Some(v) => Ok(v),
                None => offline(),
            }
        }))
    }

    fn upload(
        &self,
        file: &web_sys::File,
        on_progress: Progress,
    ) -> Option<LocalBoxFuture<'static, Result<Upload, UploadError>>> {
        active()?;
        Some(Box::pin(upload(file.clone(), on_progress)))
    }
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

/// `POST /v1/damage-claims`: a fresh receipt, its support from the reported loss.
fn damage_claim(loss_won: u64) -> DamageClaimReceipt {
    let n = FILED.with(|f| {
        *f.borrow_mut() += 1;
        *f.borrow()
    });
    DamageClaimReceipt {
        receipt_no: format!("D-2210-PRV{:04}", 100 + n),
        status: DamageClaimStatus::Received,
        support: support_for(loss_won),
        submitted_at: now(),
        reason: None,
    }
}

/// `GET /v1/damage-claims/{receipt}`: reviewing / rejected for those
/// scenarios (and their fixture receipts), received otherwise.
fn claim_status(scenario: Scenario, receipt: &str) -> DamageClaimReceipt {
    let receipt = receipt.trim().to_ascii_uppercase();
    let (status, reason) = match scenario {
        _ if receipt == RECEIPT_REJECTED => (DamageClaimStatus::Rejected, Some(REJECT_REASON)),
        Scenario::BizRejected => (DamageClaimStatus::Rejected, Some(REJECT_REASON)),
        _ if receipt == RECEIPT_REVIEWING => (DamageClaimStatus::Reviewing, None),
        Scenario::BizReviewing => (DamageClaimStatus::Reviewing, None),
        _ => (DamageClaimStatus::Received, None),
    };
    DamageClaimReceipt {
        receipt_no: receipt,
        status,
        support: Support::Won { won: 30_000 },
        submitted_at: Timestamp(now().0 - 2 * 86_400_000),
        reason: reason.map(str::to_string),
    }
}

/// `POST /v1/channel-cash`: granted now.
fn channel_cash(brn: String) -> ChannelCash {
    ChannelCash {
        brn,
        won: 50_000,
        granted_at: now(),
        newly_granted: true,
    }
}

/// `POST /v1/uploads` in a scenario: progress in quarters, then a fixture id
/// (a dropped connection when the backend is "down").
async fn upload(file: web_sys::File, on_progress: Progress) -> Result<Upload, UploadError> {
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
            return Err(UploadError::Transient {
                retry_after_s: None,
                offline: false,
            });
        }
    }
    let n = UPLOADED.with(|u| {
        *u.borrow_mut() += 1;
        *u.borrow()
    });
    Ok(Upload {
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
