//! The app's one JSON path: serde's derives, carried through the browser's
//! own JSON (`Response.json()`, `JSON.parse`, `JSON.stringify`) by
//! serde-wasm-bindgen, so no JSON text parser or writer ships in
//! the wasm. Request bodies, answers, stored drafts, intents and kept reads
//! all go through here.
//!
//! Measured against gloo-net's `json()` (serde_json), same source otherwise,
//! with `cargo xtask build` and then `node xtask/sizes.mjs dist`: the package
//! wasm is 321,295 B raw / 111,768 B brotli this way, 341,076 / 117,411 with
//! serde_json (which also parses and formats the JSON text in the wasm).
//!
//! Decoding follows serde's derive: unknown fields are ignored, a missing or
//! `null` `Option` is `None`, anything else of the wrong shape fails the
//! whole value (`None` here, `ApiError::Decode` in the client).

use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::JsValue;

/// `value` as a plain JavaScript value (objects, arrays, `null` for `None`).
pub fn to_js<T: Serialize + ?Sized>(value: &T) -> Option<JsValue> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .ok()
}

/// A parsed JSON value read as `T`.
pub fn from_js<T: DeserializeOwned>(value: JsValue) -> Option<T> {
    serde_wasm_bindgen::from_value(value).ok()
}

/// `value` as JSON text (for storage).
pub fn to_text<T: Serialize + ?Sized>(value: &T) -> Option<String> {
    js_sys::JSON::stringify(&to_js(value)?).ok()?.as_string()
}

/// JSON text (from storage) read as `T`; anything unreadable is `None`.
pub fn from_text<T: DeserializeOwned>(text: &str) -> Option<T> {
    from_js(js_sys::JSON::parse(text).ok()?)
}
