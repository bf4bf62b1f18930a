//! Small browser helpers: the monotonic clock, timers as futures, randomness,
//! focus. None of them can panic when an API is missing.

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// `performance.now()`: monotonic milliseconds, immune to device clock changes.
pub fn mono_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}

/// Resolves after `ms` milliseconds.
pub async fn sleep(ms: u32) {
    let _ = timer(ms).await;
}

/// A timer that starts now (not when first awaited) and resolves after `ms`.
pub fn timer(ms: u32) -> JsFuture {
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        let scheduled = web_sys::window().and_then(|w| {
            w.set_timeout_with_callback_and_timeout_and_arguments_0(
                &resolve,
                ms.min(i32::MAX as u32) as i32,
            )
            .ok()
        });
        if scheduled.is_none() {
            let _ = resolve.call0(&JsValue::UNDEFINED);
        }
    });
    JsFuture::from(promise)
}

/// Uniform in `0..max_ms`.
pub fn random_ms(max_ms: u32) -> u32 {
    (js_sys::Math::random() * f64::from(max_ms)) as u32
}

/// A fresh idempotency key: `crypto.randomUUID()` where the webview has it
/// (iOS 15.4+), else a v4 UUID from `crypto.getRandomValues`.
pub fn new_idempotency_key() -> String {
    let crypto = web_sys::window().and_then(|w| w.crypto().ok());
    if let Some(crypto) = &crypto {
        let uuid = js_sys::Reflect::get(crypto, &JsValue::from_str("randomUUID"))
            .ok()
            .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
            .and_then(|f| f.call0(crypto).ok())
            .and_then(|v| v.as_string());
        if let Some(uuid) = uuid.filter(|u| maeum_contract::valid_idempotency_key(u)) {
            return uuid;
        }
    }
    let mut bytes = [0u8; 16];
    let filled = crypto.is_some_and(|c| c.get_random_values_with_u8_array(&mut bytes).is_ok());
    if !filled {
        for b in bytes.iter_mut() {
            *b = (js_sys::Math::random() * 256.0) as u8;
        }
    }
    crate::model::uuid_v4(bytes)
}

thread_local! {
    /// A heading was to get focus but its screen was not built yet.
    static FOCUS_PENDING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Moves focus to the main heading of the current screen (it carries
/// `tabindex="-1"` and `data-focus`), after the DOM has been updated; or,
/// when the screen is still being built, once it is ([`focus_if_pending`]).
pub fn focus_heading() {
    leptos::prelude::request_animation_frame(|| {
        let target = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.query_selector("[data-focus]").ok().flatten())
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
        FOCUS_PENDING.set(target.is_none());
        if let Some(el) = target {
            let _ = el.focus();
        }
    });
}

/// For a screen built after the rest of the page: takes the focus a
/// [`focus_heading`] could not give yet.
pub fn focus_if_pending() {
    if FOCUS_PENDING.replace(false) {
        focus_heading();
    }
}

/// Marks the document so the static fallback message of `index.html` shows
/// (used by the panic hook: a dead app must not look alive).
pub fn show_fatal() {
    if let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    {
        let _ = root.class_list().add_1("app-failed");
    }
}
