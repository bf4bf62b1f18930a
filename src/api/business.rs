//! The small-business JSON calls: filing a damage claim, reading its status,
//! and the channel message cash. They go through the same client as the gift
//! claims (time limit, problem documents decoded into [`ApiError`]).

use std::future::Future;

use maeum_contract::business::{
    ChannelCash, ChannelCashRequest, DamageClaimReceipt, DamageClaimRequest, DamageClaimStatus,
    Support, Upload,
};
use wasm_bindgen::JsValue;

use super::client::{decode, start};
use super::json::{field, text, FromJs};
use super::to_js::to_js;
use super::ApiError;

/// Starts `POST /v1/damage-claims` under `key` (the same key for every resend).
pub fn damage_claim(
    request: &DamageClaimRequest,
    key: &str,
) -> impl Future<Output = Result<DamageClaimReceipt, ApiError>> {
    let reply = to_js(request)
        .ok()
        .map(|body| start("POST", "/v1/damage-claims", Some(body), Some(key), true));
    async move { decode(reply.ok_or(ApiError::Decode)?.await?) }
}

/// A receipt number as it may appear in a path: letters, digits and hyphens.
pub fn clean_receipt_no(raw: &str) -> Option<String> {
    let s = raw.trim().to_ascii_uppercase();
    let ok =
        (1..=32).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    ok.then_some(s)
}

/// Starts `GET /v1/damage-claims/{receipt_no}`.
pub fn damage_claim_status(
    receipt_no: &str,
) -> impl Future<Output = Result<DamageClaimReceipt, ApiError>> {
    let reply = clean_receipt_no(receipt_no)
        .map(|r| start("GET", &format!("/v1/damage-claims/{r}"), None, None, true));
    async move {
        let reply = reply.ok_or(ApiError::Rejected {
            status: 404,
            code: maeum_contract::problem::code::NOT_FOUND.to_string(),
        })?;
        decode(reply.await?)
    }
}

/// Starts `POST /v1/channel-cash` for one business under `key`.
pub fn channel_cash(brn: &str, key: &str) -> impl Future<Output = Result<ChannelCash, ApiError>> {
    let reply = to_js(&ChannelCashRequest {
        brn: brn.to_string(),
    })
    .ok()
    .map(|body| start("POST", "/v1/channel-cash", Some(body), Some(key), true));
    async move { decode(reply.ok_or(ApiError::Decode)?.await?) }
}

// ---- reading the answers (names as `maeum_contract::business` writes them) ----

/// `{"won": 30000}` or `{"requires_review": true}`.
impl FromJs for Support {
    fn from_js(v: &JsValue) -> Option<Self> {
        if let Some(won) = field::<Option<u64>>(v, "won")? {
            return Some(Support::Won { won });
        }
        field::<bool>(v, "requires_review")?.then_some(Support::Review {
            requires_review: true,
        })
    }
}

impl FromJs for DamageClaimStatus {
    fn from_js(v: &JsValue) -> Option<Self> {
        Some(match v.as_string()?.as_str() {
            "received" => DamageClaimStatus::Received,
            "reviewing" => DamageClaimStatus::Reviewing,
            "approved" => DamageClaimStatus::Approved,
            "paid" => DamageClaimStatus::Paid,
            "rejected" => DamageClaimStatus::Rejected,
            _ => return None,
        })
    }
}

/// As `POST` and `GET /v1/damage-claims` answer.
impl FromJs for DamageClaimReceipt {
    fn from_js(v: &JsValue) -> Option<Self> {
        Some(DamageClaimReceipt {
            receipt_no: field::<String>(v, "receipt_no").filter(|r| !r.is_empty())?,
            status: field(v, "status")?,
            support: field(v, "support")?,
            submitted_at: field(v, "submitted_at")?,
            reason: field(v, "reason")?,
        })
    }
}

/// As `POST /v1/channel-cash` answers.
impl FromJs for ChannelCash {
    fn from_js(v: &JsValue) -> Option<Self> {
        Some(ChannelCash {
            brn: field(v, "brn")?,
            won: field(v, "won")?,
            granted_at: field(v, "granted_at")?,
            newly_granted: field(v, "newly_granted")?,
        })
    }
}

/// As `POST /v1/uploads` answers; only the id is needed to refer to the file.
impl FromJs for Upload {
    fn from_js(v: &JsValue) -> Option<Self> {
        Some(Upload {
            id: field::<String>(v, "id").filter(|i| !i.is_empty())?,
            sha256: text(v, "sha256"),
            size: field(v, "size").unwrap_or(0),
            content_type: text(v, "content_type"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receipt_numbers_are_cleaned_for_the_path() {
        assert_eq!(
            clean_receipt_no(" d-2301-7q4k93 ").as_deref(),
            Some("D-2301-7Q4K93")
        );
        assert_eq!(clean_receipt_no("../x"), None);
        assert_eq!(clean_receipt_no(""), None);
        assert_eq!(clean_receipt_no(&"A".repeat(33)), None);
    }
}
