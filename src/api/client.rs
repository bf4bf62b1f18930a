//! The HTTP client: web-sys `fetch` with a time limit per request (an
//! `AbortController` fired by a timer), status checked before decoding, and
//! problem documents decoded into [`ApiError`]. JSON goes through the
//! browser's own parser (`Response.json()`, `JSON.stringify`) and into the
//! contract's types via [`super::json`], so no JSON library ships in the wasm.
//!
//! A request starts the moment it is created ([`start`]), so two calls made
//! one after the other run in parallel without a join combinator. It goes to
//! the API bases of [`super::backends`] in turn while one cannot be reached.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use maeum_contract::{
    ClaimRequest, ClaimResponse, MyClaims, Package, Status, Timestamp, IDEMPOTENCY_KEY,
};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, Headers, RequestCache, RequestInit, Response};

use super::errors::ProblemBrief;
use super::json::{field, FromJs};
use super::{backends, retry, storage, ApiError};
use crate::browser::sleep;
use crate::{config, network};

/// Longest wait for one request, headers and body together.
pub const TIMEOUT_MS: i32 = 12_000;

type Reply = Pin<Box<dyn Future<Output = Result<JsValue, ApiError>>>>;

/// Starts `GET /v1/status`.
pub fn status() -> impl Future<Output = Result<Status, ApiError>> {
    let reply = start("GET", "/v1/status", None, None, false);
    async move { decode(reply.await?) }
}

/// Starts `GET /v1/package` (kept in storage for offline reads).
pub fn package() -> impl Future<Output = Result<Package, ApiError>> {
    let reply = read_kept("/v1/package", storage::KEPT_PACKAGE);
    async move { decode(reply.await?) }
}

/// Starts `GET /v1/me/claims` (kept in storage for offline reads).
pub fn my_claims() -> impl Future<Output = Result<MyClaims, ApiError>> {
    let reply = read_kept("/v1/me/claims", storage::KEPT_CLAIMS);
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
            config::RUNTIME_CONFIG_URL.to_string(),
            "GET",
            None,
            None,
            false,
        );
        let promise = wasm_bindgen_futures::future_to_promise(async move {
            let raw = reply.await.unwrap_or(JsValue::NULL);
            // `{"api_bases": [...]}` (missing: none); no file changes nothing.
            if raw.is_object() {
                if let Some(bases) = field::<Option<Vec<String>>>(&raw, "api_bases") {
                    backends::configure(&bases.unwrap_or_default());
                }
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
    // `{"release_at": "…"}`
    async move { field::<Option<Timestamp>>(&reply.await.ok()?, "release_at")? }
}

pub(crate) fn decode<T: FromJs>(raw: JsValue) -> Result<T, ApiError> {
    T::from_js(&raw).ok_or(ApiError::Decode)
}

/// A read that also keeps its answer in storage for when the network is gone.
fn read_kept(path: &str, key: &'static str) -> Reply {
    let reply = start("GET", path, None, None, true);
    Box::pin(async move {
        let raw = reply.await?;
        storage::keep(key, &raw);
        Ok(raw)
    })
}

/// The last package and 선물함 read successfully in this tab, with the time
/// of the older of the two reads.
pub fn kept_package() -> Option<(Package, MyClaims, Timestamp)> {
    let (package, a) = storage::kept(storage::KEPT_PACKAGE)?;
    let (mine, b) = storage::kept(storage::KEPT_CLAIMS)?;
    Some((decode(package).ok()?, decode(mine).ok()?, a.min(b)))
}

/// Starts a request to the API: at once (so two calls made one after the
/// other run in parallel), through every backend in turn while one cannot be
/// reached, and — for a GET — again after a backoff when none could.
/// Requests with an idempotency key are sent once per pass; the caller
/// decides about waiting and sending again.
pub(crate) fn start(
    method: &'static str,
    path: &str,
    body: Option<JsValue>,
    key: Option<&str>,
    auth: bool,
) -> Reply {
    let (path, key) = (path.to_string(), key.map(str::to_string));
    let slot: Rc<RefCell<Option<Result<JsValue, ApiError>>>> = Rc::default();
    let out = slot.clone();
    let done = wasm_bindgen_futures::future_to_promise(async move {
        let result = exchange(method, &path, body, key.as_deref(), auth).await;
        *out.borrow_mut() = Some(result);
        Ok(JsValue::UNDEFINED)
    });
    Box::pin(async move {
        let _ = JsFuture::from(done).await;
        let result = slot.borrow_mut().take();
        result.unwrap_or(Err(ApiError::Offline))
    })
}

/// GETs get this many passes over the backends.
const GET_PASSES: usize = 3;

thread_local! {
    /// HTTP status of the answer [`fetch`] just decoded (0: none).
    static STATUS: Cell<u16> = const { Cell::new(0) };
}

async fn exchange(
    method: &'static str,
    path: &str,
    body: Option<JsValue>,
    key: Option<&str>,
    auth: bool,
) -> Result<JsValue, ApiError> {
    let _ = runtime_config(false).await;
    let urls = backends::urls(path);
    let n = urls.len().max(1);
    let (mut tries, mut failing) = (0, false);
    let result = loop {
        let Some((i, url)) = urls.get(tries % n) else {
            break Err(ApiError::Offline);
        };
        STATUS.set(0);
        let e = match fetch(url.clone(), method, body.clone(), key, auth).await {
            Ok(v) => {
                backends::worked(*i, tries > 0);
                break Ok(v);
            }
            Err(e) => e,
        };
        tries += 1;
        let over = fails_over(STATUS.get(), &e) && network::online();
        if over && !failing {
            failing = true;
            network::connecting(1);
        }
        if over && tries % n != 0 {
            continue; // the next backend, at once
        }
        let busy = matches!(e, ApiError::Busy { .. }) && network::online();
        if method != "GET" || !(over || busy) || tries >= GET_PASSES * n {
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

/// Sends the request now and returns its answer's JSON (or the failure),
/// noting the answer's HTTP status in `STATUS`.
pub(crate) fn fetch(
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
        STATUS.set(resp.status());
        if body.is_err() && timed_out {
            return Err(ApiError::Timeout);
        }
        if resp.ok() {
            return body.map_err(|_| ApiError::Decode);
        }
        let problem = body.ok().and_then(|b| ProblemBrief::from_js(&b));
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
