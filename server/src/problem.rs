//! Problem documents (RFC 9457): [`ApiError`] and the answers every part of
//! the API shares. Each has a stable `code` and a Korean title.

use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use maeum_contract::business::FieldError;
use maeum_contract::problem::{self, code, Problem};
use maeum_contract::{time, Timestamp};

use crate::db::DbError;

/// The `code` of the problem document a response carries, for the access log.
#[derive(Clone, Debug)]
pub struct ProblemCode(pub String);

/// An error answer: a problem document plus the headers it needs.
#[derive(Debug)]
pub struct ApiError {
    problem: Box<Problem>,
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, title: &str) -> ApiError {
        ApiError {
            problem: Box::new(Problem::new(status.as_u16(), code, title)),
            headers: Vec::new(),
        }
    }

    pub(crate) fn detail(mut self, detail: impl Into<String>) -> ApiError {
        self.problem.detail = Some(detail.into());
        self
    }

    pub(crate) fn header(mut self, name: HeaderName, value: HeaderValue) -> ApiError {
        self.headers.push((name, value));
        self
    }

    pub(crate) fn retry_after(self, seconds: u32) -> ApiError {
        self.header(header::RETRY_AFTER, HeaderValue::from(seconds))
    }

    /// 422 `validation` with every broken field.
    pub(crate) fn validation(errors: Vec<FieldError>) -> ApiError {
        let mut e = ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            code::VALIDATION,
            "입력한 내용을 확인해 주세요",
        )
        .detail(format!("고칠 곳이 {}군데 있어요.", errors.len()));
        e.problem.errors = errors;
        e
    }

    /// 409 `conflict`: the business has filed already, under `receipt_no`.
    pub(crate) fn conflict(receipt_no: String) -> ApiError {
        let mut e = ApiError::new(
            StatusCode::CONFLICT,
            code::CONFLICT,
            "이미 신청한 사업자예요",
        )
        .detail(format!(
            "이 사업자등록번호로 접수된 신청이 있어요. 접수번호 {receipt_no}로 처리 상황을 확인해 주세요."
        ));
        e.problem.receipt_no = Some(receipt_no);
        e
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self.problem).unwrap_or_default();
        let mut res = (
            status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static(problem::CONTENT_TYPE),
            )],
            body,
        )
            .into_response();
        for (name, value) in self.headers {
            res.headers_mut().append(name, value);
        }
        res.extensions_mut().insert(ProblemCode(self.problem.code));
        res
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> ApiError {
        if e.is_busy() {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                code::BUSY,
                "요청이 많아 잠시 처리하지 못했어요",
            )
            .detail("잠시 후 다시 시도해 주세요.")
            .retry_after(1)
        } else {
            tracing::error!("database error: {e}");
            internal()
        }
    }
}

pub fn internal() -> ApiError {
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        code::INTERNAL,
        "일시적인 오류가 생겼어요",
    )
    .detail("잠시 후 다시 시도해 주세요.")
}

pub async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        code::NOT_FOUND,
        "찾을 수 없는 주소예요",
    )
}

pub(crate) async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        code::METHOD_NOT_ALLOWED,
        "이 주소에서는 쓸 수 없는 요청 방식이에요",
    )
}

pub(crate) fn unauthorized(detail: &str) -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        code::UNAUTHORIZED,
        "카카오톡에서 다시 열어 주세요",
    )
    .detail(detail)
    .header(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))
}

pub(crate) fn bad_request(code: &str, title: &str, detail: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, code, title).detail(detail)
}

pub(crate) fn not_open(release_at: Timestamp, now: Timestamp) -> ApiError {
    let mut e = ApiError::new(
        StatusCode::FORBIDDEN,
        code::NOT_OPEN,
        "아직 열리지 않았어요",
    )
    .detail(format!("{}에 열립니다.", time::kst_day_time(release_at)));
    e.problem.release_at = Some(release_at);
    e.problem.server_time = Some(now);
    e
}

pub(crate) fn closed() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        code::CLOSED,
        "마음 패키지 받기가 끝났어요",
    )
    .detail("받은 선물은 선물함에서 볼 수 있어요.")
}

pub(crate) fn paused(retry_after: u32) -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        code::PAUSED,
        "잠시 멈춰 있어요",
    )
    .detail("잠시 후 자동으로 다시 시도할게요.")
    .retry_after(retry_after)
}

pub(crate) fn key_reused() -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        code::IDEMPOTENCY_KEY_REUSED,
        "같은 요청 키로 다른 요청을 보냈어요",
    )
    .detail("새 요청에는 새 요청 키를 써 주세요.")
}
