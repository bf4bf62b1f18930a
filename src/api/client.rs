//! The HTTP client: web-sys `fetch` with a time limit per request (an
//! `AbortController` fired by a timer), status checked before decoding, and
//! problem documents decoded into [`ApiError`]. JSON goes through the
//! browser's own parser (`Response.json()`, `JSON.stringify`) and into the
//! contract's serde types via [`super::json`], so no JSON library ships in the wasm.
//!
//! A request starts the moment it is created ([`Call::start`]), so two calls
//! made one after the other run in parallel without a join combinator.

use std::future::Future;
use std::pin::Pin;

use maeum_contract::{
    ClaimRequest, ClaimResponse, MyClaims, Package, Status, Timestamp, IDEMPOTENCY_KEY,
};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, Headers, RequestCache, RequestInit, Response};

use super::errors::ProblemBrief;
use super::json::from_js;
use super::{storage, ApiError};
use crate::config;

/// Longest wait for one request, headers and body together.
pub const TIMEOUT_MS: i32 = 12_000;

type Reply = Pin<Box<dyn Future<Output = Result<JsValue, ApiError>>>>;

/// Starts `GET /v1/status`.
pub fn status() -> impl Future<Output = Result<Status, ApiError>> {
    let reply = start("GET", "/v1/status", None, None, false);
    async move { decode(reply.await?) }
}

/// Starts `GET /v1/package`.
pub fn package() -> impl Future<Output = Result<Package, ApiError>> {
    let reply = start("GET", "/v1/package", None, None, true);
    async move { decode(reply.await?) }
}

/// Starts `GET /v1/me/claims`.
pub fn my_claims() -> impl Future<Output = Result<MyClaims, ApiError>> {
    let reply = start("GET", "/v1/me/claims", None, None, true);
    async move { decode(reply.await?) }
}

/// Starts `POST /v1/claims` with the intent's idempotency key.
pub fn claim(
    item_ids: &[String],
    idempotency_key: &str,
) -> impl Future<Output = Result<ClaimResponse, ApiError>> {
    let reply = start(
        "POST",
        "/v1/claims",
        Some(claim_body(item_ids)),
        Some(idempotency_key),
        true,
    );
    async move { decode(reply.await?) }
}

/// The [`ClaimRequest`] body, `{"item_ids": [...]}`.
pub fn claim_body(item_ids: &[String]) -> JsValue {
    let _: fn(ClaimRequest) -> Vec<String> = |r| r.item_ids; // keep the field name tied to the contract
    let body = js_sys::Object::new();
    let ids: js_sys::Array = item_ids.iter().map(|id| JsValue::from_str(id)).collect();
    let _ = js_sys::Reflect::set(&body, &JsValue::from_str("item_ids"), &ids);
    body.into()
}

#[derive(Deserialize)]
struct RuntimeConfig {
    #[serde(default)]
    release_at: Option<Timestamp>,
}

/// Starts reading the bundle's runtime `config.json`, which may postpone the
/// release instant. Best effort: anything unreadable means "no postponement".
pub fn runtime_release_at() -> impl Future<Output = Option<Timestamp>> {
    let reply = fetch(
        config::RUNTIME_CONFIG_URL.to_string(),
        "GET",
        None,
        None,
        false,
    );
    async move { from_js::<RuntimeConfig>(reply.await.ok()?).ok()?.release_at }
}

fn decode<T: DeserializeOwned>(raw: JsValue) -> Result<T, ApiError> {
    from_js(raw).map_err(|_| ApiError::Decode)
}

fn start(
    method: &'static str,
    path: &str,
    body: Option<JsValue>,
    key: Option<&str>,
    auth: bool,
) -> Reply {
    fetch(
        format!("{}{}", config::API_BASE, path),
        method,
        body,
        key,
        auth,
    )
}

/// Sends the request now and returns its answer's JSON (or the failure).
fn fetch(
    url: String,
    method: &'static str,
    body: Option<JsValue>,
    key: Option<&str>,
    auth: bool,
) -> Reply {
    #[cfg(debug_assertions)]
    if let Some(reply) = crate::preview::respond(&url, method, body.as_ref()) {
        return reply;
    }
    let sent = send(&url, method, body, key, auth);
    Box::pin(async move {
        let (window, promise, controller, on_timeout, timer) = sent?;
        let exchange = async {
            let resp: Response = JsFuture::from(promise).await?.dyn_into()?;
            let body = match resp.json() {
                Ok(json) => JsFuture::from(json).await,
                Err(e) => Err(e),
            };
            Ok::<_, JsValue>((resp, body))
        }
        .await;
        if let Some(t) = timer {
            window.clear_timeout_with_handle(t);
        }
        drop(on_timeout);
        let timed_out = controller.is_some_and(|c| c.signal().aborted());

        let (resp, body) = match exchange {
            Err(_) if timed_out => return Err(ApiError::Timeout),
            Err(_) => return Err(ApiError::Offline),
            Ok(pair) => pair,
        };
        if body.is_err() && timed_out {
            return Err(ApiError::Timeout);
        }
        if resp.ok() {
            return body.map_err(|_| ApiError::Decode);
        }
        let problem = body.ok().and_then(|b| from_js::<ProblemBrief>(b).ok());
        let retry_after = resp.headers().get("Retry-After").ok().flatten();
        Err(ApiError::from_response(
            resp.status(),
            problem,
            retry_after.as_deref(),
        ))
    })
}

type Sent = (
    web_sys::Window,
    js_sys::Promise,
    Option<AbortController>,
    Option<Closure<dyn FnMut()>>,
    Option<i32>,
);

fn send(
    url: &str,
    method: &str,
    body: Option<JsValue>,
    key: Option<&str>,
    auth: bool,
) -> Result<Sent, ApiError> {
    let window = web_sys::window().ok_or(ApiError::Offline)?;
    let headers = Headers::new().map_err(|_| ApiError::Offline)?;
    let _ = headers.set("Accept", "application/json, application/problem+json");
    if auth {
        let token = storage::token().ok_or(ApiError::Unauthorized)?;
        let _ = headers.set("Authorization", &format!("Bearer {token}"));
    }
    if let Some(key) = key {
        let _ = headers.set(IDEMPOTENCY_KEY, key);
    }
    let init = RequestInit::new();
    init.set_method(method);
    init.set_cache(RequestCache::NoStore);
    if let Some(body) = body {
        let json = js_sys::JSON::stringify(&body).map_err(|_| ApiError::Decode)?;
        let _ = headers.set("Content-Type", "application/json");
        init.set_body(&json);
    }
    init.set_headers(&headers);

    let controller = AbortController::new().ok();
    if let Some(c) = &controller {
        init.set_signal(Some(&c.signal()));
    }
    let on_timeout = controller.clone().map(|c| Closure::once(move || c.abort()));
    let timer = on_timeout.as_ref().and_then(|cb| {
        window
            .set_timeout_with_callback_and_timeout_and_arguments_0(
                cb.as_ref().unchecked_ref(),
                TIMEOUT_MS,
            )
            .ok()
    });
    let promise = window.fetch_with_str_and_init(url, &init);
    Ok((window, promise, controller, on_timeout, timer))
}
