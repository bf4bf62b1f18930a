//! Every way a request can fail, decoded from the status and the RFC 9457
//! problem document, with the Korean copy the user sees.

use maeum_contract::business::FieldError;
use maeum_contract::problem::code;
use maeum_contract::Timestamp;
use serde::{Deserialize, Deserializer};

/// The part of a `maeum_contract::problem::Problem` the app acts on (the
/// document may carry more; unknown fields are ignored).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct ProblemBrief {
    pub code: String,
    /// The server's Korean heading and explanation (shown for a refused upload).
    pub title: Option<String>,
    pub detail: Option<String>,
    pub release_at: Option<Timestamp>,
    pub server_time: Option<Timestamp>,
    /// Optional extension of `busy` / `rate_limited`: the place in line.
    pub queue_position: Option<u32>,
    /// For `validation`: each broken field, named as in the request body.
    #[serde(default, deserialize_with = "null_as_none")]
    pub errors: Vec<FieldError>,
    /// For `conflict`: what exists already (a business's damage-claim receipt).
    pub receipt_no: Option<String>,
}

/// A missing or `null` list reads as empty.
fn null_as_none<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<FieldError>, D::Error> {
    Ok(Option::deserialize(d)?.unwrap_or_default())
}

/// Displayed as its Korean heading; `Clone` (no non-`Clone` source inside) so
/// it can live in signals and action values and feed an `ErrorBoundary`.
#[derive(Clone, Debug, PartialEq)]
pub enum ApiError {
    /// No answer: no network, DNS, refused connection, or a 5xx that is not a
    /// problem document (a proxy or gateway that could not reach the backend).
    Offline,
    /// No complete answer within the request's time limit.
    Timeout,
    /// 401: no token, or the server rejected it.
    Unauthorized,
    /// 403 `not_open`: the campaign has not started by the server's clock.
    NotOpen {
        release_at: Option<Timestamp>,
        server_time: Option<Timestamp>,
    },
    /// 503 `paused`: operators paused claims; try again after `retry_after_s`.
    Paused { retry_after_s: Option<u32> },
    /// `closed`: the campaign is over.
    Closed,
    /// 429, or 503 that is not a pause: too many requests right now.
    Busy {
        retry_after_s: Option<u32>,
        queue_position: Option<u32>,
    },
    /// Any other 5xx.
    Server { status: u16 },
    /// Any other 4xx, with the problem's machine code (`http_<status>` without one).
    Rejected { status: u16, code: String },
    /// A 2xx whose body is not what the contract says.
    Decode,
    /// 422 `validation`: the fields the server refused (shown next to them).
    Invalid(Vec<FieldError>),
    /// 409 `conflict`: it exists already (`receipt_no` of a business's claim).
    Conflict { receipt_no: Option<String> },
}

impl ApiError {
    /// Decodes a non-2xx answer. `problem` is the body when it was a problem
    /// document; `retry_after` is the raw `Retry-After` header.
    pub fn from_response(
        status: u16,
        problem: Option<ProblemBrief>,
        retry_after: Option<&str>,
    ) -> Self {
        let retry_after_s = retry_after.and_then(parse_retry_after);
        let code = problem.as_ref().map(|p| p.code.as_str()).unwrap_or("");
        match (status, code) {
            (401, _) | (_, code::UNAUTHORIZED) => ApiError::Unauthorized,
            (_, code::NOT_OPEN) => ApiError::NotOpen {
                release_at: problem.as_ref().and_then(|p| p.release_at),
                server_time: problem.as_ref().and_then(|p| p.server_time),
            },
            (_, code::PAUSED) => ApiError::Paused { retry_after_s },
            (_, code::CLOSED) => ApiError::Closed,
            (422, code::VALIDATION) => {
                ApiError::Invalid(problem.map(|p| p.errors).unwrap_or_default())
            }
            (409, code::CONFLICT) => ApiError::Conflict {
                receipt_no: problem.and_then(|p| p.receipt_no),
            },
            (429 | 503, _) | (_, code::BUSY) => ApiError::Busy {
                retry_after_s,
                queue_position: problem.as_ref().and_then(|p| p.queue_position),
            },
            (500..=599, _) if problem.is_none() => ApiError::Offline,
            (500..=599, _) => ApiError::Server { status },
            _ => ApiError::Rejected {
                status,
                code: if code.is_empty() {
                    format!("http_{status}")
                } else {
                    code.to_string()
                },
            },
        }
    }

    /// The stable machine code, for logs and `data-error-code` hooks.
    pub fn code(&self) -> &str {
        match self {
            ApiError::Offline => "offline",
            ApiError::Timeout => "timeout",
            ApiError::Unauthorized => code::UNAUTHORIZED,
            ApiError::NotOpen { .. } => code::NOT_OPEN,
            ApiError::Paused { .. } => code::PAUSED,
            ApiError::Closed => code::CLOSED,
            ApiError::Busy { .. } => code::BUSY,
            ApiError::Server { .. } => code::INTERNAL,
            ApiError::Rejected { code, .. } => code,
            ApiError::Decode => "bad_response",
            ApiError::Invalid(_) => code::VALIDATION,
            ApiError::Conflict { .. } => code::CONFLICT,
        }
    }

    /// Whether sending the same request again (same idempotency key) may succeed.
    pub fn retryable(&self) -> bool {
        matches!(
            self,
            ApiError::Offline | ApiError::Timeout | ApiError::Busy { .. } | ApiError::Server { .. }
        ) || matches!(self, ApiError::Rejected { status: 409, .. })
    }

    /// Seconds the server asked us to wait, if it said.
    pub fn retry_after_s(&self) -> Option<u32> {
        match self {
            ApiError::Paused { retry_after_s } | ApiError::Busy { retry_after_s, .. } => {
                *retry_after_s
            }
            _ => None,
        }
    }

    /// Short Korean heading.
    pub fn title(&self) -> &'static str {
        match self {
            ApiError::Offline | ApiError::Timeout => "서버에 연결할 수 없어요",
            ApiError::Busy { .. } => "지금 이용하는 분이 많아요",
            ApiError::Server { .. } | ApiError::Decode => "잠시 문제가 생겼어요",
            ApiError::Unauthorized => "카카오톡에서 다시 열어 주세요",
            ApiError::NotOpen { .. } => "아직 열리지 않았어요",
            ApiError::Paused { .. } => "잠시 멈췄어요",
            ApiError::Closed => "이벤트가 끝났어요",
            ApiError::Rejected { .. } => "요청을 처리하지 못했어요",
            ApiError::Invalid(_) => "입력한 내용을 확인해 주세요",
            ApiError::Conflict { .. } => "이미 신청했어요",
        }
    }

    /// Korean explanation with the way forward.
    pub fn message(&self) -> &'static str {
        match self {
            ApiError::Offline => "인터넷 연결을 확인한 뒤 다시 시도해 주세요.",
            ApiError::Timeout => "응답이 오지 않아요. 인터넷 연결을 확인한 뒤 다시 시도해 주세요.",
            ApiError::Busy { .. } => "잠시 후 다시 시도해 주세요. 받은 선물은 그대로 남아 있어요.",
            ApiError::Server { .. } | ApiError::Decode => {
                "일시적인 문제예요. 잠시 후 다시 시도해 주세요. 받은 선물은 그대로 남아 있어요."
            }
            ApiError::Unauthorized => "카카오톡 > 더보기 > 카카오 나우 배너에서 다시 열어 주세요.",
            ApiError::NotOpen { .. } => "열리는 시간에 맞춰 이 화면이 자동으로 바뀌어요.",
            ApiError::Paused { .. } => "잠시 후 자동으로 다시 확인할게요.",
            ApiError::Closed => "참여해 주셔서 고맙습니다.",
            ApiError::Rejected { .. } => {
                "다시 시도해 주세요. 계속 안 되면 화면을 새로고침해 주세요."
            }
            ApiError::Invalid(_) => "표시된 항목을 고친 뒤 다시 보내 주세요.",
            ApiError::Conflict { .. } => "같은 내용으로 이미 접수된 신청이 있어요.",
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.title())
    }
}

impl std::error::Error for ApiError {}

/// `Retry-After` in seconds: delay-seconds, or an HTTP date measured against
/// the device clock (see [`super::retry::retry_after_at`]). Capped at one hour.
pub fn parse_retry_after(raw: &str) -> Option<u32> {
    let now = if cfg!(target_arch = "wasm32") {
        js_sys::Date::now()
    } else {
        0.0
    };
    super::retry::retry_after_at(raw, now)
}

/// Why an evidence upload did not finish.
#[derive(Clone, Debug, PartialEq)]
pub enum UploadError {
    /// No usable answer (network gone, stalled, 5xx, busy): sending again may work.
    Transient {
        retry_after_s: Option<u32>,
        /// The browser says it is offline: wait for the `online` event.
        offline: bool,
    },
    /// A definitive refusal, with the Korean reason to show next to the file.
    Refused { error: ApiError, message: String },
    /// The user removed the file while it was sending.
    Aborted,
}

/// A parsed JSON answer (or why there is none), already on its way: what the
/// client and an installed stand-in (`responder`) both give.
pub type Reply = futures::future::LocalBoxFuture<'static, Result<wasm_bindgen::JsValue, ApiError>>;

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(_status: u16, c: &str) -> Option<ProblemBrief> {
        Some(ProblemBrief {
            code: c.into(),
            ..ProblemBrief::default()
        })
    }

    #[test]
    fn decodes_problem_codes() {
        assert_eq!(
            ApiError::from_response(401, problem(401, "unauthorized"), None),
            ApiError::Unauthorized
        );
        assert_eq!(
            ApiError::from_response(401, None, None),
            ApiError::Unauthorized
        );
        assert!(matches!(
            ApiError::from_response(403, problem(403, "not_open"), None),
            ApiError::NotOpen { .. }
        ));
        assert_eq!(
            ApiError::from_response(503, problem(503, "paused"), Some("30")),
            ApiError::Paused {
                retry_after_s: Some(30)
            }
        );
        assert_eq!(
            ApiError::from_response(503, None, None),
            ApiError::Busy {
                retry_after_s: None,
                queue_position: None,
            }
        );
        let mut line = problem(429, "rate_limited");
        if let Some(p) = line.as_mut() {
            p.queue_position = Some(7);
        }
        assert_eq!(
            ApiError::from_response(429, line, Some("2")),
            ApiError::Busy {
                retry_after_s: Some(2),
                queue_position: Some(7),
            }
        );
        assert_eq!(ApiError::from_response(502, None, None), ApiError::Offline);
        assert_eq!(
            ApiError::from_response(500, None, None),
            ApiError::Offline,
            "trunk's proxy with no backend"
        );
        assert_eq!(
            ApiError::from_response(500, problem(500, "internal"), None),
            ApiError::Server { status: 500 }
        );
        let reused = ApiError::from_response(422, problem(422, "idempotency_key_reused"), None);
        assert_eq!(reused.code(), "idempotency_key_reused");
        assert!(!reused.retryable());
        assert_eq!(ApiError::from_response(418, None, None).code(), "http_418");
    }

    #[test]
    fn retry_after_seconds() {
        assert_eq!(parse_retry_after(" 12 "), Some(12));
        assert_eq!(parse_retry_after("99999999999999999999"), Some(3600));
        assert_eq!(parse_retry_after("-1"), None);
    }
}
