//! The JSON API under `/api` (contract v1). Every error is an RFC 9457 problem
//! document with a stable `code`, including the framework's own rejections.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post, MethodRouter};
use axum::{Json, Router};
use maeum_contract::business::FieldError;
use maeum_contract::gate::Phase;
use maeum_contract::problem::{self, code, Problem};
use maeum_contract::{time, valid_idempotency_key, ClaimRequest, Timestamp, IDEMPOTENCY_KEY};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::sync::Arc;

use crate::business;
use crate::clock::{system_now, Clock};
use crate::db::{self, ClaimInput, ClaimOutcome, DbError, Settings};
use crate::store::Store;
use crate::token::{valid_user_id, TokenKey};

/// Where the API is mounted.
pub const API_BASE: &str = "/api";
/// Largest request body accepted.
pub const BODY_LIMIT_BYTES: usize = 16 * 1024;
/// Response header set when a claim answer is a replay of an earlier one.
pub const REPLAYED_HEADER: &str = "idempotent-replayed";

/// One route of the API, relative to [`API_BASE`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    /// Only routed with `--dev`.
    pub dev_only: bool,
}

/// Every route the server answers; the router is built from this list and a
/// test checks it against `contract/openapi.yaml`.
pub const ROUTES: &[Route] = &[
    Route {
        method: "GET",
        path: "/v1/status",
        dev_only: false,
    },
    Route {
        method: "GET",
        path: "/v1/package",
        dev_only: false,
    },
    Route {
        method: "GET",
        path: "/v1/me/claims",
        dev_only: false,
    },
    Route {
        method: "POST",
        path: "/v1/claims",
        dev_only: false,
    },
    Route {
        method: "POST",
        path: "/v1/uploads",
        dev_only: false,
    },
    Route {
        method: "POST",
        path: "/v1/damage-claims",
        dev_only: false,
    },
    Route {
        method: "GET",
        path: "/v1/damage-claims/{receipt_no}",
        dev_only: false,
    },
    Route {
        method: "POST",
        path: "/v1/channel-cash",
        dev_only: false,
    },
    Route {
        method: "GET",
        path: "/dev/login",
        dev_only: true,
    },
];

pub struct AppState {
    pub store: Store,
    pub clock: Arc<Clock>,
    pub tokens: TokenKey,
    pub pause_retry_after_seconds: u32,
    /// `DIR/uploads`: evidence files, content addressed.
    pub uploads_dir: std::path::PathBuf,
    /// Most evidence uploads one user may store.
    pub upload_quota: u64,
    /// Per-user limit on the claim endpoints (`None`: off).
    pub rate_limiter: Option<crate::guard::RateLimiter>,
}

pub(crate) type Shared = Arc<AppState>;

fn endpoint(route: &Route) -> MethodRouter<Shared> {
    match (route.method, route.path) {
        ("GET", "/v1/status") => get(get_status),
        ("GET", "/v1/package") => get(get_package),
        ("GET", "/v1/me/claims") => get(get_my_claims),
        ("POST", "/v1/claims") => post(post_claims),
        ("POST", "/v1/uploads") => post(business::post_upload)
            .layer(DefaultBodyLimit::max(business::UPLOAD_BODY_LIMIT_BYTES)),
        ("POST", "/v1/damage-claims") => post(business::post_damage_claim),
        ("GET", "/v1/damage-claims/{receipt_no}") => get(business::get_damage_claim),
        ("POST", "/v1/channel-cash") => post(business::post_channel_cash),
        ("GET", "/dev/login") => get(dev_login),
        // A route listed without a handler answers 404, and the OpenAPI test fails.
        _ => any(not_found),
    }
}

/// The API router, to be nested under [`API_BASE`].
pub fn router<S: Clone + Send + Sync + 'static>(state: Shared, dev: bool) -> Router<S> {
    let mut api = Router::new();
    for route in ROUTES.iter().filter(|r| dev || !r.dev_only) {
        api = api.route(route.path, endpoint(route));
    }
    api.method_not_allowed_fallback(method_not_allowed)
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .layer(axum::middleware::map_response(no_store))
        .with_state(state)
}

async fn no_store(mut res: Response) -> Response {
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

// ---- problems ----

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
            eprintln!("maeum-server: database error: {e}");
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

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        code::METHOD_NOT_ALLOWED,
        "이 주소에서는 쓸 수 없는 요청 방식이에요",
    )
}

fn unauthorized(detail: &str) -> ApiError {
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

// ---- request plumbing ----

/// The user a valid `Authorization: Bearer` token names.
pub(crate) fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<String, ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(unauthorized(
            "로그인 정보가 없어요. 카카오톡 앱에서 마음 패키지를 다시 열어 주세요.",
        ));
    };
    let invalid = || {
        unauthorized(
            "로그인 정보가 맞지 않거나 만료됐어요. 카카오톡 앱에서 마음 패키지를 다시 열어 주세요.",
        )
    };
    let text = value.to_str().map_err(|_| invalid())?;
    let (scheme, token) = text.split_once(' ').ok_or_else(invalid)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(invalid());
    }
    state
        .tokens
        .verify(token.trim(), system_now().0 / 1000)
        .ok_or_else(invalid)
}

pub(crate) async fn load_settings(state: &AppState) -> Result<Settings, ApiError> {
    Ok(state.store.read(db::settings).await?)
}

/// Refuses, and records, a request for a gated endpoint before the release instant.
pub(crate) async fn refuse_if_early(
    state: &AppState,
    settings: &Settings,
    user: &str,
    endpoint: &'static str,
) -> Result<Timestamp, ApiError> {
    let now = state.clock.now();
    if let Phase::BeforeOpen { .. } = settings.phase(now) {
        let user = user.to_string();
        state
            .store
            .write(move |c| db::record_early_attempt(c, now, Some(&user), endpoint))
            .await?;
        return Err(not_open(settings.release_at, now));
    }
    Ok(now)
}

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

fn parse_claim_request(headers: &HeaderMap, body: &[u8]) -> Result<ClaimRequest, ApiError> {
    parse_json(headers, body, "{\"item_ids\": [...]}")
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

// ---- handlers ----

async fn get_status(State(state): State<Shared>) -> Result<Response, ApiError> {
    let settings = load_settings(&state).await?;
    Ok(Json(settings.status(state.clock.now())).into_response())
}

async fn get_package(
    State(state): State<Shared>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let user = authenticate(&state, &headers)?;
    let settings = load_settings(&state).await?;
    let now = refuse_if_early(&state, &settings, &user, "GET /v1/package").await?;
    let package = state.store.read(move |c| db::package(c, now)).await?;
    Ok(Json(package).into_response())
}

async fn get_my_claims(
    State(state): State<Shared>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let user = authenticate(&state, &headers)?;
    let settings = load_settings(&state).await?;
    refuse_if_early(&state, &settings, &user, "GET /v1/me/claims").await?;
    let claims = state.store.read(move |c| db::my_claims(c, &user)).await?;
    Ok(Json(claims).into_response())
}

/// The gate for writes: refuses (and records) early requests, and refuses when
/// closed or paused. The write transaction checks it again, atomically.
pub(crate) async fn write_gate(
    state: &AppState,
    user: &str,
    endpoint: &'static str,
) -> Result<(), ApiError> {
    let settings = load_settings(state).await?;
    refuse_if_early(state, &settings, user, endpoint).await?;
    match settings.phase(state.clock.now()) {
        Phase::Closed => Err(closed()),
        Phase::Paused => Err(paused(state.pause_retry_after_seconds)),
        Phase::BeforeOpen { .. } | Phase::Open => Ok(()),
    }
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

pub(crate) fn key_reused() -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        code::IDEMPOTENCY_KEY_REUSED,
        "같은 요청 키로 다른 요청을 보냈어요",
    )
    .detail("새 요청에는 새 요청 키를 써 주세요.")
}

async fn post_claims(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let user = authenticate(&state, &headers)?;
    rate_limit(&state, &user, &headers)?;
    // A first look at the gate, so refusals need no valid body; the claim
    // transaction checks it again, atomically.
    write_gate(&state, &user, db::CLAIMS_ENDPOINT).await?;
    let key = idempotency_key(&headers)?;
    let body = body.map_err(body_rejection)?;
    let request = parse_claim_request(&headers, &body)?;
    let item_ids: Vec<String> = match request.validated() {
        Ok(ids) => ids.into_iter().map(str::to_string).collect(),
        Err(why) => {
            return Err(bad_request(
                code::BAD_REQUEST,
                "요청 내용이 올바르지 않아요",
                why,
            ))
        }
    };
    let canonical = serde_json::to_vec(&request).map_err(|_| internal())?;
    let request_hash = request_hash(None, &canonical);

    let clock = state.clock.clone();
    let outcome = state
        .store
        .write(move |conn| {
            let input = ClaimInput {
                user,
                key,
                request_hash,
                item_ids,
                now: clock.now(),
            };
            db::claim(conn, &input)
        })
        .await?;

    match outcome {
        ClaimOutcome::Done(body) => Ok(json_answer(StatusCode::OK, body, false)),
        ClaimOutcome::Replay(body) => Ok(json_answer(StatusCode::OK, body, true)),
        ClaimOutcome::KeyReused => Err(key_reused()),
        ClaimOutcome::UnknownItems(ids) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            code::UNKNOWN_ITEM,
            "없는 선물이에요",
        )
        .detail(format!("알 수 없는 항목: {}", ids.join(", ")))),
        ClaimOutcome::NotOpen { release_at } => Err(not_open(release_at, state.clock.now())),
        ClaimOutcome::Closed => Err(closed()),
        ClaimOutcome::Paused => Err(paused(state.pause_retry_after_seconds)),
    }
}

#[derive(Deserialize)]
struct LoginQuery {
    user: Option<String>,
}

/// `--dev` only: a token for any user, handed to the app the way KakaoTalk would.
async fn dev_login(
    State(state): State<Shared>,
    query: Result<Query<LoginQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let user = query.ok().and_then(|Query(q)| q.user).unwrap_or_default();
    if !valid_user_id(&user) {
        return Err(bad_request(
            code::BAD_REQUEST,
            "사용자 아이디가 올바르지 않아요",
            "?user= 에 1~64자의 영문, 숫자, _, - 를 넣어 주세요.",
        ));
    }
    let token = state.tokens.issue(&user, system_now().0 / 1000);
    let location =
        HeaderValue::from_str(&format!("/#access_token={token}")).map_err(|_| internal())?;
    Ok((StatusCode::FOUND, [(header::LOCATION, location)]).into_response())
}
