//! The HTTP client: gloo-net requests with a time limit each (an
//! `AbortSignal` fired by a timer), the status checked before decoding, and
//! problem documents decoded into [`ApiError`]. JSON goes through
//! [`super::codec`] (serde via the browser's own JSON).
//!
//! A request starts the moment it is created ([`start`]), so two calls made
//! one after the other run in parallel without a join combinator. It goes to
//! the API bases of [`super::backends`] in turn while one cannot be reached.

use std::cell::RefCell;
use std::future::Future;
use std::pin::pin;

use futures::channel::oneshot;
use futures::future::{select, Either, LocalBoxFuture};
use gloo_net::http::{Method, Request, RequestBuilder, Response};
use maeum_contract::{
    ClaimRequest, ClaimResponse, MyClaims, Package, Status, Timestamp, IDEMPOTENCY_KEY,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, RequestCache};

use super::errors::{ProblemBrief, Reply};
use super::{backends, boot, codec, retry, storage, ApiError};
use crate::browser::{sleep, timer};
use crate::{config, network};

/// Longest wait for one request, headers and body together.
pub const TIMEOUT_MS: u32 = 12_000;

/// Starts `GET /v1/status`.
pub fn status() -> impl Future<Output = Result<Status, ApiError>> {
    let reply = start(Method::GET, "/v1/status", None, None, false);
    async move { decode(reply.await?) }
}

/// Starts `GET /v1/package` (kept in storage for offline reads).
pub fn package() -> impl Future<Output = Result<Package, ApiError>> {
    read_kept("/v1/package", storage::KEPT_PACKAGE)
}

/// Starts `GET /v1/me/claims` (kept in storage for offline reads).
pub fn my_claims() -> impl Future<Output = Result<MyClaims, ApiError>> {
    read_kept("/v1/me/claims", storage::KEPT_CLAIMS)
}

/// Starts `POST /v1/claims` with the intent's idempotency key.
pub fn claim(
    item_ids: &[String],
    idempotency_key: &str,
) -> impl Future<Output = Result<ClaimResponse, ApiError>> {
    let body = ClaimRequest {
        item_ids: item_ids.to_vec(),
    };
    let reply = post("/v1/claims", &body, idempotency_key);
    async move { decode(reply.await?) }
}

/// Starts a `POST` of `body` as JSON under an idempotency key.
pub(crate) fn post<T: Serialize + ?Sized>(path: &str, body: &T, key: &str) -> Reply {
    match codec::to_js(body) {
        Some(body) => start(Method::POST, path, Some(body), Some(key), true),
        None => Box::pin(async { Err(ApiError::Decode) }),
    }
}

/// The runtime `config.json` (every field optional; each one read on its own,
/// so one unreadable field does not cost the others).
#[derive(Deserialize)]
struct ApiBases {
    api_bases: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct ReleaseAt {
    release_at: Option<Timestamp>,
}

thread_local! {
    /// The first read of `config.json`, shared by every request made before
    /// the API bases are known.
    static CONFIG: RefCell<Option<js_sys::Promise>> = const { RefCell::new(None) };
}

/// Reads the runtime `config.json` (a fresh copy when `fresh`, else the
/// first one, which is kept) and applies its `api_bases`. Unreadable means `{}`.
fn runtime_config(fresh: bool) -> JsFuture {
    let cached = CONFIG.with(|c| c.borrow().clone()).filter(|_| !fresh);
    let promise = cached.unwrap_or_else(|| {
        let reply = fetch(
            config::RUNTIME_CONFIG_URL.into(),
            Method::GET,
            None,
            None,
            false,
        );
        let promise = wasm_bindgen_futures::future_to_promise(async move {
            let raw = reply.await.unwrap_or(JsValue::NULL);
            if let Some(ApiBases { api_bases }) = codec::from_js(raw.clone()) {
                // No list changes nothing; an empty one means the built-in base.
                backends::configure(&api_bases.unwrap_or_default());
            }
            Ok(raw)
        });
        if !fresh {
            CONFIG.with(|c| *c.borrow_mut() = Some(promise.clone()));
        }
        promise
    });
    JsFuture::from(promise)
}

/// Starts reading the bundle's runtime `config.json`, which may postpone the
/// release instant (and lists the API bases). Best effort: anything
/// unreadable means "no postponement".
pub fn runtime_release_at() -> impl Future<Output = Option<Timestamp>> {
    let first = CONFIG.with(|c| c.borrow().is_none());
    let reply = runtime_config(!first);
    async move {
        let raw = reply.await.ok()?;
        codec::from_js::<ReleaseAt>(raw)?.release_at
    }
}

/// A 2xx answer's JSON read as the contract's `T`.
pub(crate) fn decode<T: DeserializeOwned>(raw: JsValue) -> Result<T, ApiError> {
    codec::from_js(raw).ok_or(ApiError::Decode)
}

/// A read that also keeps its answer in storage for when the network is gone.
fn read_kept<T: DeserializeOwned>(
    path: &str,
    key: &'static str,
) -> impl Future<Output = Result<T, ApiError>> {
    let reply = start(Method::GET, path, None, None, true);
    async move {
        let raw = reply.await?;
        let value: T = decode(raw.clone())?;
        storage::keep(key, &raw);
        Ok(value)
    }
}

/// The last package and 선물함 read successfully in this tab, with the time
/// of the older of the two reads.
pub fn kept_package() -> Option<(Package, MyClaims, Timestamp)> {
    let (package, a) = storage::kept(storage::KEPT_PACKAGE)?;
    let (mine, b) = storage::kept(storage::KEPT_CLAIMS)?;
    Some((package, mine, a.min(b)))
}

/// Starts a request to the API: at once (so two calls made one after the
/// other run in parallel), through every backend in turn while one cannot be
/// reached, and — for a GET — again after a backoff when none could.
/// Requests with an idempotency key are sent once per pass; the caller
/// decides about waiting and sending again.
pub(crate) fn start(
    method: Method,
    path: &str,
    body: Option<JsValue>,
    key: Option<&str>,
    auth: bool,
) -> Reply {
    let (path, key) = (path.to_string(), key.map(str::to_string));
    let (tx, rx) = oneshot::channel();
    wasm_bindgen_futures::spawn_local(async move {
        let _ = tx.send(exchange(method, &path, body, key.as_deref(), auth).await);
    });
    Box::pin(async move { rx.await.unwrap_or(Err(ApiError::Offline)) })
}

/// GETs get this many passes over the backends.
const GET_PASSES: usize = 3;

async fn exchange(
    method: Method,
    path: &str,
    body: Option<JsValue>,
    key: Option<&str>,
    auth: bool,
) -> Result<JsValue, ApiError> {
    let _ = runtime_config(false).await;
    let urls = backends::urls(path);
    let n = urls.len().max(1);
    let (mut tries, mut failing) = (0, false);
    let get = method == Method::GET;
    let result = loop {
        let Some((i, url)) = urls.get(tries % n) else {
            break Err(ApiError::Offline);
        };
        let (e, status) = match fetch(url.clone(), method.clone(), body.clone(), key, auth).await {
            Ok(v) => {
                backends::worked(*i, tries > 0);
                break Ok(v);
            }
            Err(failed) => failed,
        };
        tries += 1;
        let over = fails_over(status, &e) && network::online();
        if over && !failing {
            failing = true;
            network::connecting(1);
        }
        if over && tries % n != 0 {
            continue; // the next backend, at once
        }
        let busy = matches!(e, ApiError::Busy { .. }) && network::online();
        if !get || !(over || busy) || tries >= GET_PASSES * n {
            break Err(e);
        }
        // Every backend failed (or asked to wait): back off, then start over.
        let pass = tries.div_ceil(n);
        tries = pass * n;
        sleep(retry::backoff_ms(
            pass as u32,
            e.retry_after_s(),
            js_sys::Math::random(),
        ))
        .await;
    };
    if failing {
        network::connecting(-1);
    }
    result
}

/// Whether a failure on one backend sends the request to the next: no
/// answer, a time-out, or a gateway / overload status (never a pause, which
/// every backend shares, nor a per-user rate limit).
pub fn fails_over(status: u16, error: &ApiError) -> bool {
    match error {
        ApiError::Offline | ApiError::Timeout => true,
        ApiError::Busy { .. } => status == 503,
        ApiError::Server { status } => matches!(status, 502..=504),
        _ => false,
    }
}

/// One request's outcome: the answer's JSON, or the failure with the
/// answer's HTTP status (0: no answer).
type Exchange = LocalBoxFuture<'static, Result<JsValue, (ApiError, u16)>>;

/// Sends the request now (or takes the inline loader's answer to it, or the
/// installed stand-in's) and returns its answer's JSON.
fn fetch(
    url: String,
    method: Method,
    body: Option<JsValue>,
    key: Option<&str>,
    auth: bool,
) -> Exchange {
    #[cfg(debug_assertions)]
    if let Some(reply) = super::responder::respond(method.as_str(), &url, body.as_ref()) {
        return Box::pin(async move { reply.await.map_err(|e| (e, 0)) });
    }
    // The inline loader's reads, each taken once.
    if url == config::RUNTIME_CONFIG_URL {
        if let Some(read) = boot::config() {
            return Box::pin(async move { read.await.map_err(|_| (ApiError::Offline, 0)) });
        }
    }
    let early = (method == Method::GET).then(|| boot::read(&url)).flatten();
    let request = build(&url, method, body, key, auth);
    Box::pin(async move {
        let (request, controller) = request.map_err(|e| (e, 0))?;
        let exchange = async move {
            let early = match early {
                Some(answer) => answer.await,
                None => None,
            };
            let response = match early {
                Some(response) => response,
                None => request.send().await.map_err(|_| (ApiError::Offline, 0))?,
            };
            answer(response).await
        };
        // One time limit for headers and body together.
        match select(pin!(exchange), timer(TIMEOUT_MS)).await {
            Either::Left((result, _)) => result,
            Either::Right(_) => {
                controller.abort();
                Err((ApiError::Timeout, 0))
            }
        }
    })
}

/// The answer's JSON when it is a 2xx; otherwise the failure it describes.
async fn answer(response: Response) -> Result<JsValue, (ApiError, u16)> {
    let status = response.status();
    let raw = web_sys::Response::from(response);
    let body = match raw.json() {
        Ok(json) => JsFuture::from(json).await.ok(),
        Err(_) => None,
    };
    if raw.ok() {
        return body.ok_or((ApiError::Decode, status));
    }
    let problem = body.and_then(codec::from_js::<ProblemBrief>);
    let retry_after = raw.headers().get("Retry-After").ok().flatten();
    let error = ApiError::from_response(status, problem, retry_after.as_deref());
    Err((error, status))
}

fn build(
    url: &str,
    method: Method,
    body: Option<JsValue>,
    key: Option<&str>,
    auth: bool,
) -> Result<(Request, AbortController), ApiError> {
    let controller = AbortController::new().map_err(|_| ApiError::Offline)?;
    let mut builder = RequestBuilder::new(url)
        .method(method)
        .cache(RequestCache::NoStore)
        .header("Accept", "application/json, application/problem+json")
        .abort_signal(Some(&controller.signal()));
    if auth {
        let token = storage::token().ok_or(ApiError::Unauthorized)?;
        builder = builder.header("Authorization", &format!("Bearer {token}"));
    }
    if let Some(key) = key {
        builder = builder.header(IDEMPOTENCY_KEY, key);
    }
    let request = match body {
        Some(body) => {
            let json = js_sys::JSON::stringify(&body).map_err(|_| ApiError::Decode)?;
            builder
                .header("Content-Type", "application/json")
                .body(json)
        }
        None => builder.build(),
    };
    Ok((request.map_err(|_| ApiError::Offline)?, controller))
}
