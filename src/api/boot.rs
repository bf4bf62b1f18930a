//! What the page's inline loader (`pattern_script` in Trunk.toml) started
//! before the wasm arrived, so those round trips overlap its download. On
//! `self.maeumBoot` it leaves `config` (`config.json` parsed, or `null`) and
//! `reads`, keyed by URL: `/v1/status` from the first API base, and — only
//! once that status said open — the reads the page lists in
//! `<meta name="maeum-early-reads">` with the tab's token. Each read is a
//! promise of a `Response`, or of `null` ("send it yourself"), taken once.
//! Absent (`trunk serve` of another page, tests) means the client fetches as
//! usual.

use futures::future::LocalBoxFuture;
use gloo_net::http::Response;
use js_sys::{Object, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// `self.maeumBoot[name]` (`None` for the whole object), when there is one.
fn boot(name: Option<&str>) -> Option<JsValue> {
    let boot = Reflect::get(&js_sys::global(), &JsValue::from_str("maeumBoot")).ok()?;
    match name {
        Some(name) => Reflect::get(&boot, &JsValue::from_str(name)).ok(),
        None => Some(boot),
    }
    .filter(JsValue::is_object)
}

/// Takes (removes) `holder[key]` when it is a promise.
fn take(holder: &JsValue, key: &str) -> Option<Promise> {
    let key = JsValue::from_str(key);
    let value = Reflect::get(holder, &key).ok()?;
    let _ = Reflect::delete_property(holder.unchecked_ref::<Object>(), &key);
    value.dyn_into().ok()
}

/// The loader's read of `config.json`: its JSON, or `null`.
pub fn config() -> Option<JsFuture> {
    take(&boot(None)?, "config").map(JsFuture::from)
}

/// The loader's `GET url`, when it sent that very request: its response, or
/// `None` when it got none ("send it yourself").
pub fn read(url: &str) -> Option<LocalBoxFuture<'static, Option<Response>>> {
    let early = JsFuture::from(take(&boot(Some("reads"))?, url)?);
    Some(Box::pin(async move {
        let response = early.await.ok()?.dyn_into::<web_sys::Response>().ok()?;
        // The answer is usually here before the app has mounted: go on in a
        // task of its own, so mounting and drawing the screen the status
        // calls for are two short main-thread tasks, not one long one (TBT).
        crate::browser::sleep(0).await;
        Some(Response::from(response))
    }))
}

/// Drops the reads not taken yet. The app calls this when the status does not
/// open the package for this page (a release instant baked into the build
/// still ahead): what the loader read is then stale by the time it opens.
pub fn forget() {
    if let Some(boot) = boot(None) {
        let _ = Reflect::set(&boot, &JsValue::from_str("reads"), &Object::new());
    }
}
