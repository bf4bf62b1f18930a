//! Evidence uploads: `POST /v1/uploads` as `multipart/form-data` through
//! `XMLHttpRequest`, the one request not sent through gloo-net: fetch (and
//! so gloo-net) reports no upload progress. With real progress
//! events, a stall watchdog, and cancellation by the user.
//!
//! Retrying is the caller's business: [`UploadError::Transient`] says when a
//! resend may work.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::{Function, Promise, Uint8Array};
use maeum_contract::business::{Upload, SNIFF_BYTES};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, File, FormData, ProgressEvent, XmlHttpRequest, XmlHttpRequestResponseType};

use super::errors::{parse_retry_after, ProblemBrief, UploadError};
use super::{codec, storage, ApiError};
use crate::browser::mono_ms;

/// No progress for this long while sending: the connection is dead.
const STALL_MS: f64 = 30_000.0;
/// Longest wait for the answer once every byte is sent.
const ANSWER_MS: f64 = 60_000.0;
const WATCH_EVERY_MS: i32 = 5_000;

thread_local! {
    /// Requests in flight, by the file's local key (so removing a file can abort it).
    static ACTIVE: RefCell<Vec<(u32, XmlHttpRequest)>> = const { RefCell::new(Vec::new()) };
    static CANCELLED: RefCell<Vec<u32>> = const { RefCell::new(Vec::new()) };
}

/// Aborts the upload of file `key`, if it is sending.
pub fn abort(key: u32) {
    let xhr = ACTIVE.with(|a| {
        a.borrow()
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, x)| x.clone())
    });
    if let Some(xhr) = xhr {
        CANCELLED.with(|c| c.borrow_mut().push(key));
        let _ = xhr.abort();
    }
}

/// The first [`SNIFF_BYTES`] bytes of `blob` (fewer for a shorter file).
pub async fn read_head(blob: &Blob) -> Option<Vec<u8>> {
    let head = blob.slice_with_i32_and_i32(0, SNIFF_BYTES as i32).ok()?;
    // `Response.arrayBuffer()` reads a Blob on every webview that has fetch,
    // including those without `Blob.arrayBuffer()`.
    let response = web_sys::Response::new_with_opt_blob(Some(&head)).ok()?;
    let buffer = JsFuture::from(response.array_buffer().ok()?).await.ok()?;
    Some(Uint8Array::new(&buffer).to_vec())
}

/// Sends one file. `on_progress(sent, total)` follows the upload progress events.
pub async fn upload(
    key: u32,
    file: &File,
    category: &str,
    on_progress: impl Fn(f64, f64) + 'static,
) -> Result<Upload, UploadError> {
    let token = storage::token().ok_or(UploadError::Refused {
        error: ApiError::Unauthorized,
        message: ApiError::Unauthorized.message().to_string(),
    })?;
    let on_progress: Rc<dyn Fn(f64, f64)> = Rc::new(on_progress);
    #[cfg(debug_assertions)]
    if let Some(reply) = super::responder::upload(file, on_progress.clone()) {
        return reply.await;
    }
    let transient = UploadError::Transient {
        retry_after_s: None,
        offline: !crate::network::online(),
    };
    let Some(sent) = send(key, file, category, &token, move |a, b| on_progress(a, b)) else {
        return Err(transient);
    };
    let (xhr, done, stalled, _keep) = sent;
    let how = JsFuture::from(done)
        .await
        .ok()
        .and_then(|v| v.as_string())
        .unwrap_or_default();
    ACTIVE.with(|a| a.borrow_mut().retain(|(k, _)| *k != key));
    let cancelled = CANCELLED.with(|c| {
        let mut c = c.borrow_mut();
        let was = c.contains(&key);
        c.retain(|k| *k != key);
        was
    });
    if cancelled {
        return Err(UploadError::Aborted);
    }
    if how != "load" || stalled.get() {
        return Err(UploadError::Transient {
            retry_after_s: None,
            offline: !crate::network::online(),
        });
    }
    let status = xhr.status().unwrap_or(0);
    let body = xhr.response().unwrap_or(JsValue::NULL);
    if (200..300).contains(&status) {
        return codec::from_js::<Upload>(body)
            .filter(|u| !u.id.is_empty())
            .ok_or(UploadError::Transient {
                retry_after_s: None,
                offline: false,
            });
    }
    if status == 0 {
        return Err(transient);
    }
    let problem: Option<ProblemBrief> = codec::from_js(body);
    let said = problem
        .as_ref()
        .and_then(|p| p.detail.clone().or(p.title.clone()));
    let retry_after = xhr.get_response_header("Retry-After").ok().flatten();
    let error = ApiError::from_response(status, problem, retry_after.as_deref());
    if error.retryable() {
        return Err(UploadError::Transient {
            retry_after_s: retry_after.as_deref().and_then(parse_retry_after),
            offline: false,
        });
    }
    let message =
        said.unwrap_or_else(|| "파일을 올리지 못했어요. 다른 파일을 골라 주세요.".to_string());
    Err(UploadError::Refused { error, message })
}

/// What must live until the request ends: the event handlers and the watchdog.
struct Keep {
    _handlers: Vec<Closure<dyn FnMut()>>,
    _progress: Closure<dyn FnMut(ProgressEvent)>,
    watchdog: Option<i32>,
}

impl Drop for Keep {
    fn drop(&mut self) {
        if let (Some(id), Some(w)) = (self.watchdog, web_sys::window()) {
            w.clear_interval_with_handle(id);
        }
    }
}

type Sent = (XmlHttpRequest, Promise, Rc<Cell<bool>>, Keep);

fn send(
    key: u32,
    file: &File,
    category: &str,
    token: &str,
    on_progress: impl Fn(f64, f64) + 'static,
) -> Option<Sent> {
    let xhr = XmlHttpRequest::new().ok()?;
    // The API base in use (see `backends`); a failed upload is retried by
    // the caller, by which time a failover may have picked another base.
    let url = super::backends::urls("/v1/uploads").into_iter().next()?.1;
    xhr.open_with_async("POST", &url, true).ok()?;
    xhr.set_request_header("Authorization", &format!("Bearer {token}"))
        .ok()?;
    xhr.set_request_header("Accept", "application/json, application/problem+json")
        .ok()?;
    xhr.set_response_type(XmlHttpRequestResponseType::Json);

    let form = FormData::new().ok()?;
    form.append_with_str("category", category).ok()?;
    form.append_with_blob_and_filename("file", file, &file.name())
        .ok()?;

    let mut resolver: Option<Function> = None;
    let done = Promise::new(&mut |resolve, _reject| resolver = Some(resolve));
    let resolve = resolver?;
    let end = |tag: &'static str| {
        let resolve = resolve.clone();
        Closure::<dyn FnMut()>::new(move || {
            let _ = resolve.call1(&JsValue::NULL, &JsValue::from_str(tag));
        })
    };
    let handlers = vec![end("load"), end("error"), end("timeout"), end("abort")];
    xhr.set_onload(Some(handlers[0].as_ref().unchecked_ref()));
    xhr.set_onerror(Some(handlers[1].as_ref().unchecked_ref()));
    xhr.set_ontimeout(Some(handlers[2].as_ref().unchecked_ref()));
    xhr.set_onabort(Some(handlers[3].as_ref().unchecked_ref()));

    // Progress, and the time of the last sign of life.
    let last = Rc::new(Cell::new(mono_ms()));
    let all_sent = Rc::new(Cell::new(false));
    let progress = {
        let (last, all_sent) = (last.clone(), all_sent.clone());
        Closure::<dyn FnMut(ProgressEvent)>::new(move |ev: ProgressEvent| {
            last.set(mono_ms());
            let total = if ev.length_computable() {
                ev.total()
            } else {
                0.0
            };
            if total > 0.0 && ev.loaded() >= total {
                all_sent.set(true);
            }
            on_progress(ev.loaded(), total);
        })
    };
    let upload = xhr.upload().ok()?;
    upload.set_onprogress(Some(progress.as_ref().unchecked_ref()));
    {
        // Some webviews never fire a final progress event: `load` on the upload object marks it sent.
        let all_sent = all_sent.clone();
        let last = last.clone();
        let sent_cb = Closure::<dyn FnMut()>::new(move || {
            all_sent.set(true);
            last.set(mono_ms());
        });
        upload.set_onload(Some(sent_cb.as_ref().unchecked_ref()));
        sent_cb.forget(); // tiny, once per upload
    }

    let stalled = Rc::new(Cell::new(false));
    let watch = {
        let (xhr, stalled) = (xhr.clone(), stalled.clone());
        Closure::<dyn FnMut()>::new(move || {
            let quiet = mono_ms() - last.get();
            let limit = if all_sent.get() { ANSWER_MS } else { STALL_MS };
            if quiet > limit && !stalled.get() {
                stalled.set(true);
                let _ = xhr.abort();
            }
        })
    };
    let watchdog = web_sys::window().and_then(|w| {
        w.set_interval_with_callback_and_timeout_and_arguments_0(
            watch.as_ref().unchecked_ref(),
            WATCH_EVERY_MS,
        )
        .ok()
    });
    let mut handlers = handlers;
    handlers.push(watch);

    ACTIVE.with(|a| a.borrow_mut().push((key, xhr.clone())));
    if xhr.send_with_opt_form_data(Some(&form)).is_err() {
        ACTIVE.with(|a| a.borrow_mut().retain(|(k, _)| *k != key));
        return None;
    }
    let keep = Keep {
        _handlers: handlers,
        _progress: progress,
        watchdog,
    };
    Some((xhr, done, stalled, keep))
}
