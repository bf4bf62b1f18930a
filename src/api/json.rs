//! Reading the browser's parsed JSON (`Response.json()`, `JSON.parse`) into
//! the contract's types, by hand: no JSON library and no serde `Deserialize`
//! in the wasm. serde's derived visitors cost about 15 KB of wasm for these
//! few shapes (the internally tagged [`Validity`] alone 6 KB).
//!
//! A reader follows serde's derive: unknown fields are ignored, a missing or
//! `null` `Option` is `None`, and anything else of the wrong shape makes the
//! whole value unreadable (`None`, the client's `ApiError::Decode`).
//! `tests/web.rs` checks each reader against what the contract's serde writes.

use js_sys::{Array, Reflect};
use maeum_contract::business::FieldError;
use maeum_contract::{
    Claim, ClaimResponse, ClaimResult, ClaimStatus, Item, ItemKind, MyClaims, Package, Status,
    Timestamp, Validity,
};
use wasm_bindgen::JsValue;

/// A type read from a parsed JSON value.
pub trait FromJs: Sized {
    fn from_js(v: &JsValue) -> Option<Self>;
}

/// Field `key` of an object (`undefined` for a missing field or a non-object).
pub fn get(v: &JsValue, key: &str) -> JsValue {
    if v.is_object() {
        Reflect::get(v, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
    } else {
        JsValue::UNDEFINED
    }
}

/// Field `key` read as `T`.
pub fn field<T: FromJs>(v: &JsValue, key: &str) -> Option<T> {
    T::from_js(&get(v, key))
}

/// A string field, empty when missing or not a string (lenient: stored drafts).
pub fn text(v: &JsValue, key: &str) -> String {
    get(v, key).as_string().unwrap_or_default()
}

/// The elements of an array (none for anything else; lenient: stored drafts).
pub fn items(v: &JsValue) -> impl Iterator<Item = JsValue> {
    let array = if Array::is_array(v) {
        Array::from(v)
    } else {
        Array::new()
    };
    (0..array.length()).map(move |i| array.get(i))
}

/// Largest integer a JSON number carries exactly.
const MAX_SAFE: f64 = 9_007_199_254_740_991.0;

impl FromJs for String {
    fn from_js(v: &JsValue) -> Option<Self> {
        v.as_string()
    }
}

impl FromJs for bool {
    fn from_js(v: &JsValue) -> Option<Self> {
        v.as_bool()
    }
}

/// A whole, non-negative number that JSON carries exactly.
impl FromJs for u64 {
    fn from_js(v: &JsValue) -> Option<Self> {
        let n = v.as_f64()?;
        (n.fract() == 0.0 && (0.0..=MAX_SAFE).contains(&n)).then_some(n as u64)
    }
}

impl FromJs for u32 {
    fn from_js(v: &JsValue) -> Option<Self> {
        u64::from_js(v)?.try_into().ok()
    }
}

/// RFC 3339 text.
impl FromJs for Timestamp {
    fn from_js(v: &JsValue) -> Option<Self> {
        Timestamp::parse_rfc3339(&v.as_string()?).ok()
    }
}

/// Missing or `null` is `None`; anything else must read as `T`.
impl<T: FromJs> FromJs for Option<T> {
    fn from_js(v: &JsValue) -> Option<Self> {
        if v.is_null() || v.is_undefined() {
            Some(None)
        } else {
            T::from_js(v).map(Some)
        }
    }
}

/// An array whose every element reads as `T`.
impl<T: FromJs> FromJs for Vec<T> {
    fn from_js(v: &JsValue) -> Option<Self> {
        if !Array::is_array(v) {
            return None;
        }
        items(v).map(|x| T::from_js(&x)).collect()
    }
}

// ---- the contract (names as `maeum_contract`'s serde attributes write them) ----

impl FromJs for Status {
    fn from_js(v: &JsValue) -> Option<Self> {
        Some(Status {
            server_time: field(v, "server_time")?,
            release_at: field(v, "release_at")?,
            open: field(v, "open")?,
            paused: field(v, "paused")?,
            closes_at: field(v, "closes_at")?,
            spread_seconds: field(v, "spread_seconds")?,
        })
    }
}

impl FromJs for ItemKind {
    fn from_js(v: &JsValue) -> Option<Self> {
        Some(match v.as_string()?.as_str() {
            "emoticon" => ItemKind::Emoticon,
            "coupon" => ItemKind::Coupon,
            "voucher" => ItemKind::Voucher,
            _ => return None,
        })
    }
}

/// Tagged by `type`: `{"type": "days_from_claim", "days": 90}`.
impl FromJs for Validity {
    fn from_js(v: &JsValue) -> Option<Self> {
        Some(match field::<String>(v, "type")?.as_str() {
            "permanent" => Validity::Permanent,
            "days_from_claim" => Validity::DaysFromClaim {
                days: field(v, "days")?,
            },
            "months" => Validity::Months {
                months: field(v, "months")?,
            },
            _ => return None,
        })
    }
}

impl FromJs for Item {
    fn from_js(v: &JsValue) -> Option<Self> {
        Some(Item {
            id: field(v, "id")?,
            kind: field(v, "kind")?,
            title: field(v, "title")?,
            price_won: field(v, "price_won")?,
            validity: field(v, "validity")?,
            cap: field(v, "cap")?,
            remaining: field(v, "remaining")?,
            as_of: field(v, "as_of")?,
        })
    }
}

impl FromJs for Package {
    fn from_js(v: &JsValue) -> Option<Self> {
        Some(Package {
            items: field(v, "items")?,
        })
    }
}

impl FromJs for Claim {
    fn from_js(v: &JsValue) -> Option<Self> {
        Some(Claim {
            item_id: field(v, "item_id")?,
            claimed_at: field(v, "claimed_at")?,
            expires_at: field(v, "expires_at")?,
            code: field(v, "code")?,
        })
    }
}

impl FromJs for MyClaims {
    fn from_js(v: &JsValue) -> Option<Self> {
        Some(MyClaims {
            claims: field(v, "claims")?,
            ineligible_reason: field(v, "ineligible_reason")?,
        })
    }
}

impl FromJs for ClaimStatus {
    fn from_js(v: &JsValue) -> Option<Self> {
        Some(match v.as_string()?.as_str() {
            "granted" => ClaimStatus::Granted,
            "already_claimed" => ClaimStatus::AlreadyClaimed,
            "sold_out" => ClaimStatus::SoldOut,
            "ineligible" => ClaimStatus::Ineligible,
            _ => return None,
        })
    }
}

impl FromJs for ClaimResult {
    fn from_js(v: &JsValue) -> Option<Self> {
        Some(ClaimResult {
            item_id: field(v, "item_id")?,
            status: field(v, "status")?,
            claim: field(v, "claim")?,
            reason: field(v, "reason")?,
        })
    }
}

impl FromJs for ClaimResponse {
    fn from_js(v: &JsValue) -> Option<Self> {
        Some(ClaimResponse {
            results: field(v, "results")?,
        })
    }
}

impl FromJs for FieldError {
    fn from_js(v: &JsValue) -> Option<Self> {
        Some(FieldError {
            field: field(v, "field")?,
            code: field(v, "code")?,
            message: field(v, "message")?,
        })
    }
}
