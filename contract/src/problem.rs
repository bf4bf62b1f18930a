//! RFC 9457 problem documents (`application/problem+json`) with a stable `code`.

use crate::business::FieldError;
use crate::Timestamp;
use serde::{Deserialize, Serialize};

pub const CONTENT_TYPE: &str = "application/problem+json";

/// Machine-readable error codes; clients switch on these, never on `title`.
pub mod code {
    pub const BAD_REQUEST: &str = "bad_request";
    pub const INVALID_JSON: &str = "invalid_json";
    pub const UNSUPPORTED_MEDIA_TYPE: &str = "unsupported_media_type";
    pub const MISSING_IDEMPOTENCY_KEY: &str = "missing_idempotency_key";
    pub const IDEMPOTENCY_KEY_REUSED: &str = "idempotency_key_reused";
    pub const UNAUTHORIZED: &str = "unauthorized";
    pub const NOT_FOUND: &str = "not_found";
    pub const METHOD_NOT_ALLOWED: &str = "method_not_allowed";
    pub const PAYLOAD_TOO_LARGE: &str = "payload_too_large";
    pub const UNKNOWN_ITEM: &str = "unknown_item";
    pub const NOT_OPEN: &str = "not_open";
    pub const PAUSED: &str = "paused";
    pub const CLOSED: &str = "closed";
    pub const BUSY: &str = "busy";
    pub const INTERNAL: &str = "internal";
    /// 422: the body broke field rules; `errors` lists each `{field, code, message}`.
    pub const VALIDATION: &str = "validation";
    /// 409: the thing already exists (a business's damage claim); `receipt_no` names it.
    pub const CONFLICT: &str = "conflict";
    /// 429: too many requests from this user; retry after `Retry-After` seconds.
    pub const RATE_LIMITED: &str = "rate_limited";
    /// 422: this user has used up a fixed allowance (e.g. evidence uploads).
    pub const QUOTA_EXCEEDED: &str = "quota_exceeded";

    /// Every code above, so documents and tests can be checked against the list.
    pub const ALL: &[&str] = &[
        BAD_REQUEST,
        INVALID_JSON,
        UNSUPPORTED_MEDIA_TYPE,
        MISSING_IDEMPOTENCY_KEY,
        IDEMPOTENCY_KEY_REUSED,
        UNAUTHORIZED,
        NOT_FOUND,
        METHOD_NOT_ALLOWED,
        PAYLOAD_TOO_LARGE,
        UNKNOWN_ITEM,
        NOT_OPEN,
        PAUSED,
        CLOSED,
        BUSY,
        INTERNAL,
        VALIDATION,
        CONFLICT,
        RATE_LIMITED,
        QUOTA_EXCEEDED,
    ];
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Problem {
    #[serde(rename = "type", default = "about_blank")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    pub code: String,
    /// For `not_open`: when the campaign opens, and the server's clock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_time: Option<Timestamp>,
    /// For `validation`: every broken field, named as in the request body.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// For `conflict` on a damage claim: the receipt already filed for this business.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt_no: Option<String>,
}

fn about_blank() -> String {
    "about:blank".to_string()
}

impl Problem {
    pub fn new(status: u16, code: &str, title: impl Into<String>) -> Self {
        Problem {
            type_: about_blank(),
            title: title.into(),
            status,
            detail: None,
            code: code.to_string(),
            release_at: None,
            server_time: None,
            errors: Vec::new(),
            receipt_no: None,
        }
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
}
