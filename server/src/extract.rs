//! Reading the parts of a request every write endpoint shares (JSON bodies,
//! `Idempotency-Key`, the per-user rate limit) and writing JSON answers.

use axum::extract::rejection::BytesRejection;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use maeum_contract::problem::code;
use maeum_contract::{valid_idempotency_key, IDEMPOTENCY_KEY};
use sha2::{Digest, Sha256};

use crate::problem::{bad_request, ApiError};
use crate::state::AppState;

/// Largest request body accepted.
pub const BODY_LIMIT_BYTES: usize = 16 * 1024;
/// Response header set when a claim answer is a replay of an earlier one.
pub const REPLAYED_HEADER: &str = "idempotent-replayed";

pub(crate) fn is_json_content_type(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

pub(crate) fn body_rejection(rejection: BytesRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            code::PAYLOAD_TOO_LARGE,
            "요청이 너무 커요",
        )
        .detail(format!(
            "본문은 {}KiB까지 보낼 수 있어요.",
            BODY_LIMIT_BYTES / 1024
        ))
    } else {
        bad_request(
            code::BAD_REQUEST,
            "요청을 읽지 못했어요",
            rejection.body_text(),
        )
    }
}

/// A JSON body, or the problem that says what is wrong with it (never a 500).
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(
    headers: &HeaderMap,
    body: &[u8],
    example: &str,
) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(bad_request(
            code::INVALID_JSON,
            "요청 형식이 올바르지 않아요",
            format!("본문이 비어 있어요. {example} 형식으로 보내 주세요."),
        ));
    }
    if !is_json_content_type(headers) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code::UNSUPPORTED_MEDIA_TYPE,
            "JSON 형식으로 보내 주세요",
        )
        .detail("Content-Type: application/json 이어야 해요."));
    }
    serde_json::from_slice(body).map_err(|e| {
        bad_request(
            code::INVALID_JSON,
            "요청 형식이 올바르지 않아요",
            e.to_string(),
        )
    })
}

/// The request's `Idempotency-Key`: required, 1 to 255 visible ASCII characters.
pub(crate) fn idempotency_key(headers: &HeaderMap) -> Result<String, ApiError> {
    match headers.get(IDEMPOTENCY_KEY) {
        None => Err(bad_request(
            code::MISSING_IDEMPOTENCY_KEY,
            "요청 키가 없어요",
            format!("{IDEMPOTENCY_KEY} 헤더에 요청마다 고유한 값(UUID)을 보내 주세요."),
        )),
        Some(v) => match v.to_str() {
            Ok(k) if valid_idempotency_key(k) => Ok(k.to_string()),
            _ => Err(bad_request(
                code::BAD_REQUEST,
                "요청 키가 올바르지 않아요",
                format!("{IDEMPOTENCY_KEY}는 1~255자의 ASCII 문자여야 해요."),
            )),
        },
    }
}

/// Hex SHA-256 of a canonical request body, scoped by endpoint so one key
/// cannot replay another endpoint's answer. Gift claims keep their unscoped hash.
pub(crate) fn request_hash(scope: Option<&str>, canonical: &[u8]) -> String {
    let mut h = Sha256::new();
    if let Some(scope) = scope {
        h.update(scope.as_bytes());
        h.update(b"\n");
    }
    h.update(canonical);
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The per-user rate limit of the claim endpoints.
pub(crate) fn rate_limit(
    state: &AppState,
    user: &str,
    headers: &HeaderMap,
) -> Result<(), ApiError> {
    let Some(limiter) = &state.rate_limiter else {
        return Ok(());
    };
    let key = headers.get(IDEMPOTENCY_KEY).map(|v| v.as_bytes());
    limiter.check(user, key).map_err(|retry_after| {
        state.metrics.rate_limited();
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            code::RATE_LIMITED,
            "요청이 너무 잦아요",
        )
        .detail("잠시 후 다시 시도해 주세요.")
        .retry_after(retry_after)
    })
}

/// A JSON answer, marked when it replays an earlier one.
pub(crate) fn json_answer(status: StatusCode, body: String, replayed: bool) -> Response {
    let mut res = (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response();
    if replayed {
        res.headers_mut().insert(
            HeaderName::from_static(REPLAYED_HEADER),
            HeaderValue::from_static("true"),
        );
    }
    res
}
