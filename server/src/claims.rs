//! The gift endpoints: status, the package, my claims, claiming, and the
//! `--dev` login.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use maeum_contract::problem::code;
use maeum_contract::{ClaimRequest, ClaimResponse, ClaimStatus};
use serde::Deserialize;

use crate::auth::User;
use crate::clock::system_now;
use crate::db::{self, ClaimInput, ClaimOutcome};
use crate::extract::{
    body_rejection, idempotency_key, json_answer, parse_json, rate_limit, request_hash,
};
use crate::gate::{claim_gate, load_settings, refuse_if_early};
use crate::metrics::Metrics;
use crate::problem::{bad_request, closed, internal, key_reused, not_open, paused, ApiError};
use crate::state::Shared;
use crate::token::valid_user_id;

pub(crate) async fn get_status(State(state): State<Shared>) -> Result<Response, ApiError> {
    let settings = load_settings(&state).await?;
    Ok(Json(settings.status(state.clock.now())).into_response())
}

pub(crate) async fn get_package(
    State(state): State<Shared>,
    User(user): User,
) -> Result<Response, ApiError> {
    let settings = load_settings(&state).await?;
    let now = refuse_if_early(&state, &settings, &user, "GET /v1/package").await?;
    let package = state.store.package(now).await?;
    Ok(Json(package).into_response())
}

pub(crate) async fn get_my_claims(
    State(state): State<Shared>,
    User(user): User,
) -> Result<Response, ApiError> {
    let settings = load_settings(&state).await?;
    refuse_if_early(&state, &settings, &user, "GET /v1/me/claims").await?;
    let claims = state.store.my_claims(user).await?;
    Ok(Json(claims).into_response())
}

pub(crate) async fn post_claims(
    State(state): State<Shared>,
    User(user): User,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    rate_limit(&state, &user, &headers)?;
    // A first look at the gate, so refusals need no valid body; the claim
    // transaction checks it again, atomically.
    claim_gate(&state, &user, db::CLAIMS_ENDPOINT).await?;
    let key = idempotency_key(&headers)?;
    let body = body.map_err(body_rejection)?;
    let request: ClaimRequest = parse_json(&headers, &body, "{\"item_ids\": [...]}")?;
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

    let input = ClaimInput {
        user,
        key,
        request_hash,
        item_ids,
        now: state.clock.now(),
    };
    let outcome = state.store.claim(input).await?;

    match outcome {
        ClaimOutcome::Done(body) => {
            count_grants(&state.metrics, &body);
            Ok(json_answer(StatusCode::OK, body, false))
        }
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

/// Counts the gifts a fresh claim answer grants (replays were counted the first time).
fn count_grants(metrics: &Metrics, body: &str) {
    if let Ok(answer) = serde_json::from_str::<ClaimResponse>(body) {
        for r in answer.results {
            if r.status == ClaimStatus::Granted {
                metrics.claim_granted(&r.item_id);
            }
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct LoginQuery {
    user: Option<String>,
}

/// `--dev` only: a token for any user, handed to the app the way KakaoTalk would.
pub(crate) async fn dev_login(
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
