//! Who is asking: the [`User`] extractor reads `Authorization: Bearer` and
//! verifies the token (an identity JWT when a JWKS is configured, else the
//! server's own dev token), or rejects the request with a 401 problem document.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};

use crate::clock::system_now;
use crate::problem::{unauthorized, ApiError};
use crate::state::{AppState, Shared};

/// The signed-in user's id; a handler that takes it needs a valid token.
#[derive(Clone, Debug)]
pub struct User(pub String);

impl FromRequestParts<Shared> for User {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Shared) -> Result<User, ApiError> {
        authenticate(state, &parts.headers).await.map(User)
    }
}

/// The user a valid `Authorization: Bearer` token names.
async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<String, ApiError> {
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
    let token = token.trim();
    match &state.jwt {
        Some(jwt) => jwt.verify(token).await.map_err(|why| {
            tracing::debug!(?why, "identity token refused");
            invalid()
        }),
        None => state
            .tokens
            .verify(token, system_now().0 / 1000)
            .ok_or_else(invalid),
    }
}
