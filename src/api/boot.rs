//! What the page's inline loader (`pattern_script` in Trunk.toml) started
//! before the wasm arrived, so those round trips overlap its download:
//! `config.json` (parsed, or `null`) and `/v1/status` from the first API base
//! it lists. The loader leaves them on `self.maeumBoot` as promises; each is
//! taken once. Absent (`trunk serve` of another page, tests) means the client
//! fetches as usual.

use futures::future::LocalBoxFuture;
use gloo_net::http::Response;
use js_sys::{Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// Takes (removes) `self.maeumBoot[name]` when it is a promise.
fn take(name: &str) -> Option<Promise> {
    let boot = Reflect::get(&js_sys::global(), &JsValue::from_str("maeumBoot"))
        .ok()
        .filter(JsValue::is_object)?;
    let key = JsValue::from_str(name);
    let value = Reflect::get(&boot, &key).ok()?;
    let _ = Reflect::delete_property(boot.unchecked_ref::<js_sys::Object>(), &key);
    value.dyn_into().ok()
}

/// The loader's read of `config.json`: its JSON, or `null`.
pub fn config() -> Option<JsFuture> {
    take("config").map(JsFuture::from)
}

/// The loader's `GET /v1/status`, when the app is about to ask `url` for it:
/// its response when the loader asked that very URL and got an answer
/// (`None` then means "send it yourself").
pub fn status(url: &str) -> Option<LocalBoxFuture<'static, Option<Response>>> {
    if !url.ends_with("/v1/status") {
        return None;
    }
    let early = JsFuture::from(take("status")?);
    let url = url.to_string();
    Some(Box::pin(async move {
        // `{url, response}`
        let answer = early.await.ok()?;
        let asked = Reflect::get(&answer, &JsValue::from_str("url")).ok()?;
        if asked.as_string()? != url {
            return None;
        }
        let response = Reflect::get(&answer, &JsValue::from_str("response")).ok()?;
        let response = response.dyn_into::<web_sys::Response>().ok()?;
        // The answer is usually here before the app has mounted: go on in a
        // task of its own, so mounting and drawing the screen the status
        // calls for are two short main-thread tasks, not one long one (TBT).
        crate::browser::sleep(0).await;
        Some(Response::from(response))
    }))
}
