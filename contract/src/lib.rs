//! The maeum JSON contract (v1): the types on the wire and every rule the app
//! and a backend must agree on. No web or server dependencies, so it compiles
//! for wasm32 and native alike; see `openapi.yaml` beside this crate.

pub mod business;
pub mod gate;
pub mod money;
pub mod problem;
pub mod time;

use serde::{Deserialize, Serialize};
pub use time::Timestamp;

/// Header that makes a POST safe to retry.
pub const IDEMPOTENCY_KEY: &str = "Idempotency-Key";
/// Most items one claim request may name.
pub const MAX_ITEMS_PER_CLAIM: usize = 20;

/// `GET /v1/status` (public).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Status {
    pub server_time: Timestamp,
    pub release_at: Timestamp,
    pub open: bool,
    pub paused: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closes_at: Option<Timestamp>,
    /// At the opening, each client waits a random 0..N seconds before loading
    /// the package, so the herd arrives spread out. Absent: [`gate::DEFAULT_SPREAD_SECONDS`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spread_seconds: Option<u32>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    Emoticon,
    Coupon,
    Voucher,
}

/// How long a claimed item can be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", try_from = "ValidityWire")]
pub enum Validity {
    Permanent,
    /// Usable for `days` days from the moment it was claimed.
    DaysFromClaim {
        days: u32,
    },
    /// Usable for `months` calendar months (Korea time) from the claim.
    Months {
        months: u32,
    },
}

/// [`Validity`] as read from the wire, a plain struct: a derived internally
/// tagged enum buffers the whole value first (serde's `Content`, several KB
/// of the app's wasm); this reads the fields in place. Same JSON either way.
#[derive(Deserialize)]
struct ValidityWire {
    #[serde(rename = "type")]
    kind: ValidityKind,
    days: Option<u32>,
    months: Option<u32>,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum ValidityKind {
    Permanent,
    DaysFromClaim,
    Months,
}

impl TryFrom<ValidityWire> for Validity {
    type Error = &'static str;
    fn try_from(w: ValidityWire) -> Result<Self, Self::Error> {
        match w.kind {
            ValidityKind::Permanent => Ok(Validity::Permanent),
            ValidityKind::DaysFromClaim => w
                .days
                .map(|days| Validity::DaysFromClaim { days })
                .ok_or("days_from_claim needs days"),
            ValidityKind::Months => w
                .months
                .map(|months| Validity::Months { months })
                .ok_or("months needs months"),
        }
    }
}

impl Validity {
    /// When an item claimed at `claimed_at` stops being usable; `None` is forever.
    pub fn expires_at(self, claimed_at: Timestamp) -> Option<Timestamp> {
        match self {
            Validity::Permanent => None,
            Validity::DaysFromClaim { days } => Some(claimed_at.add_days(days as i64)),
            Validity::Months { months } => Some(claimed_at.add_months_kst(months)),
        }
    }

    /// Korean label shown before an item is claimed.
    pub fn label(self) -> String {
        match self {
            Validity::Permanent => "영구 사용".to_string(),
            Validity::DaysFromClaim { days } => format!("받은 날부터 {days}일"),
            Validity::Months { months } => format!("받은 날부터 {months}개월"),
        }
    }
}

impl ItemKind {
    pub fn label(self) -> &'static str {
        match self {
            ItemKind::Emoticon => "이모티콘",
            ItemKind::Coupon => "쿠폰",
            ItemKind::Voucher => "이용권",
        }
    }
}

/// One item of the package, as `GET /v1/package` lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Item {
    pub id: String,
    pub kind: ItemKind,
    pub title: String,
    pub price_won: u64,
    pub validity: Validity,
    /// How many may ever be granted; `None` is unlimited.
    pub cap: Option<u64>,
    /// How many remain, as of `as_of`; `None` when uncapped.
    pub remaining: Option<u64>,
    pub as_of: Timestamp,
}

impl Item {
    pub fn sold_out(&self) -> bool {
        self.remaining == Some(0)
    }
}

/// `GET /v1/package`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Package {
    pub items: Vec<Item>,
}

/// What a user holds of one item.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Claim {
    pub item_id: String,
    pub claimed_at: Timestamp,
    /// `None` when the item is permanent.
    pub expires_at: Option<Timestamp>,
    /// Coupon or voucher code, where the item has one.
    #[serde(default)]
    pub code: Option<String>,
}

/// `GET /v1/me/claims`: the user's 선물함.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MyClaims {
    pub claims: Vec<Claim>,
    /// Set when this user cannot claim at all, with the reason in Korean.
    #[serde(default)]
    pub ineligible_reason: Option<String>,
}

/// `POST /v1/claims` body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimRequest {
    pub item_ids: Vec<String>,
}

impl ClaimRequest {
    /// The item ids in request order with duplicates dropped, or why the request is unusable.
    pub fn validated(&self) -> Result<Vec<&str>, &'static str> {
        if self.item_ids.is_empty() {
            return Err("item_ids must name at least one item");
        }
        let mut ids: Vec<&str> = Vec::with_capacity(self.item_ids.len());
        for id in &self.item_ids {
            if id.is_empty() || id.len() > 64 {
                return Err("each item id must be 1 to 64 characters");
            }
            if !ids.contains(&id.as_str()) {
                ids.push(id);
            }
        }
        if ids.len() > MAX_ITEMS_PER_CLAIM {
            return Err("too many items in one request");
        }
        Ok(ids)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClaimStatus {
    Granted,
    AlreadyClaimed,
    SoldOut,
    Ineligible,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClaimResult {
    pub item_id: String,
    pub status: ClaimStatus,
    /// Present for `granted` and `already_claimed`.
    #[serde(default)]
    pub claim: Option<Claim>,
    /// Why, for `ineligible` (Korean, shown to the user).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `POST /v1/claims` 200 response: one result per requested item.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClaimResponse {
    pub results: Vec<ClaimResult>,
}

/// An `Idempotency-Key` is 1 to 255 visible ASCII characters (a UUID in practice).
pub fn valid_idempotency_key(key: &str) -> bool {
    (1..=255).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn validity_serialises_as_a_tagged_object() {
        let v: Vec<Validity> = serde_json::from_value(json!([
            {"type": "permanent"}, {"type": "days_from_claim", "days": 90}, {"type": "months", "months": 1}
        ]))
        .unwrap();
        assert_eq!(
            v,
            [
                Validity::Permanent,
                Validity::DaysFromClaim { days: 90 },
                Validity::Months { months: 1 }
            ]
        );
        assert_eq!(
            serde_json::to_value(v[1]).unwrap(),
            json!({"type": "days_from_claim", "days": 90})
        );
    }

    #[test]
    fn expiry_follows_the_validity() {
        let claimed = Timestamp::parse_rfc3339("2023-01-05T09:00:00+09:00").unwrap();
        assert_eq!(Validity::Permanent.expires_at(claimed), None);
        let e = Validity::DaysFromClaim { days: 90 }
            .expires_at(claimed)
            .unwrap();
        assert_eq!(time::kst_date(e), "2023년 4월 5일");
        let m = Validity::Months { months: 1 }.expires_at(claimed).unwrap();
        assert_eq!(time::kst_date(m), "2023년 2월 5일");
    }

    #[test]
    fn item_round_trips_and_knows_when_sold_out() {
        let raw = json!({"id": "drawer", "kind": "voucher", "title": "톡서랍 플러스 1개월", "price_won": 1900,
            "validity": {"type": "months", "months": 1}, "cap": 3000000, "remaining": 0, "as_of": "2023-01-05T00:41:00Z"});
        let item: Item = serde_json::from_value(raw.clone()).unwrap();
        assert!(item.sold_out());
        assert_eq!(serde_json::to_value(&item).unwrap(), raw);
        let open = Item {
            remaining: None,
            cap: None,
            ..item
        };
        assert!(!open.sold_out());
    }

    #[test]
    fn claim_response_round_trips() {
        let raw = json!({"results": [
            {"item_id": "a", "status": "granted", "claim": {"item_id": "a", "claimed_at": "2023-01-05T00:00:00Z", "expires_at": null, "code": "ABC"}},
            {"item_id": "b", "status": "ineligible", "claim": null, "reason": "휴면 계정"},
            {"item_id": "c", "status": "sold_out", "claim": null},
        ]});
        let r: ClaimResponse = serde_json::from_value(raw.clone()).unwrap();
        assert_eq!(r.results[1].status, ClaimStatus::Ineligible);
        assert_eq!(serde_json::to_value(&r).unwrap(), raw);
    }

    #[test]
    fn claim_request_rejects_empty_oversized_and_unknown_fields() {
        assert!(ClaimRequest { item_ids: vec![] }.validated().is_err());
        assert!(ClaimRequest {
            item_ids: vec![String::new()]
        }
        .validated()
        .is_err());
        assert!(ClaimRequest {
            item_ids: (0..21).map(|i| i.to_string()).collect()
        }
        .validated()
        .is_err());
        let dup = ClaimRequest {
            item_ids: vec!["a".into(), "b".into(), "a".into()],
        };
        assert_eq!(dup.validated().unwrap(), ["a", "b"]);
        assert!(
            serde_json::from_value::<ClaimRequest>(json!({"item_ids": ["a"], "x": 1})).is_err()
        );
    }

    #[test]
    fn idempotency_keys_are_bounded_visible_ascii() {
        assert!(valid_idempotency_key(
            "0b9f3c1e-8d4a-4f7b-9a57-1b2c3d4e5f60"
        ));
        assert!(!valid_idempotency_key(""));
        assert!(!valid_idempotency_key("has space"));
        assert!(!valid_idempotency_key(&"k".repeat(256)));
    }
}
