//! Tab-scoped storage (sessionStorage) for the access token, the claim
//! intents still waiting for a definitive answer, and the last package and
//! 선물함 read (shown, with their time, while the network is gone). Storage can be missing,
//! full, or hold anything at all: every read is checked and every failure
//! falls back to memory, never to a panic. Values are stored as JSON text
//! written and read by serde ([`super::codec`]).

use std::cell::RefCell;

use maeum_contract::Timestamp;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsValue;

use super::codec;

const TOKEN_KEY: &str = "maeum.token";
const INTENTS_KEY: &str = "maeum.intents";
pub const KEPT_PACKAGE: &str = "maeum.kept.package";
pub const KEPT_CLAIMS: &str = "maeum.kept.claims";

/// One user intent (a tap on 받기 or 모두 받기): its idempotency key is made
/// once and reused for every retry until the server gives a definitive answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Intent {
    pub key: String,
    pub item_ids: Vec<String>,
}

thread_local! {
    // Used when sessionStorage is unavailable (some private modes, disabled storage).
    static MEMORY_TOKEN: RefCell<Option<String>> = const { RefCell::new(None) };
    static MEMORY_INTENTS: RefCell<Option<Vec<Intent>>> = const { RefCell::new(None) };
}

fn session() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok().flatten()
}

fn read(key: &str) -> Option<String> {
    session()?.get_item(key).ok().flatten()
}

/// `true` when the value is stored; `false` means keep it in memory.
fn write(key: &str, value: Option<&str>) -> bool {
    let Some(s) = session() else { return false };
    match value {
        Some(v) => s.set_item(key, v).is_ok(),
        None => s.remove_item(key).is_ok(),
    }
}

pub fn token() -> Option<String> {
    MEMORY_TOKEN
        .with(|m| m.borrow().clone())
        .or_else(|| read(TOKEN_KEY))
        .filter(|t| !t.is_empty())
}

pub fn set_token(token: Option<&str>) {
    if self::token().as_deref() != token {
        // What another user's session read is not shown to this one.
        write(KEPT_PACKAGE, None);
        write(KEPT_CLAIMS, None);
    }
    let stored = write(TOKEN_KEY, token);
    MEMORY_TOKEN.with(|m| {
        *m.borrow_mut() = if stored {
            None
        } else {
            token.map(str::to_string)
        }
    });
}

/// Takes `access_token` from the URL fragment (`#access_token=...&...`), keeps
/// it for this tab and removes the fragment from the address bar at once.
/// Returns whether a token was found.
pub fn adopt_token_from_url() -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let location = window.location();
    let hash = location.hash().unwrap_or_default();
    let Some(token) = token_from_fragment(&hash) else {
        return false;
    };
    set_token(Some(&token));
    let clean = format!(
        "{}{}",
        location.pathname().unwrap_or_else(|_| "/".into()),
        location.search().unwrap_or_default()
    );
    if let Ok(history) = window.history() {
        let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&clean));
    }
    true
}

/// The `access_token` parameter of a URL fragment, percent-decoded.
pub fn token_from_fragment(hash: &str) -> Option<String> {
    let fragment = hash.strip_prefix('#').unwrap_or(hash);
    fragment.split('&').find_map(|pair| {
        let value = pair.strip_prefix("access_token=")?;
        let decoded = percent_decode(value)?;
        (!decoded.is_empty() && decoded.bytes().all(|b| b.is_ascii_graphic())).then_some(decoded)
    })
}

fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// The intents not yet answered, oldest first. Unreadable storage reads as none.
pub fn intents() -> Vec<Intent> {
    if let Some(list) = MEMORY_INTENTS.with(|m| m.borrow().clone()) {
        return list;
    }
    read(INTENTS_KEY)
        .map(|raw| parse_intents(&raw))
        .unwrap_or_default()
}

/// `[{"key": "...", "item_ids": ["..."]}]`; unreadable text reads as none,
/// and an entry with a malformed key or no items is skipped.
pub fn parse_intents(raw: &str) -> Vec<Intent> {
    let mut list: Vec<Intent> = codec::from_text(raw).unwrap_or_default();
    list.retain(|i| maeum_contract::valid_idempotency_key(&i.key) && !i.item_ids.is_empty());
    list
}

pub fn serialize_intents(list: &[Intent]) -> Option<String> {
    codec::to_text(list)
}

fn save_intents(list: &[Intent]) {
    let stored = if list.is_empty() {
        write(INTENTS_KEY, None)
    } else {
        serialize_intents(list).is_some_and(|raw| write(INTENTS_KEY, Some(&raw)))
    };
    MEMORY_INTENTS.with(|m| *m.borrow_mut() = if stored { None } else { Some(list.to_vec()) });
}

pub fn push_intent(intent: &Intent) {
    let mut list = intents();
    list.retain(|i| i.key != intent.key);
    list.push(intent.clone());
    save_intents(&list);
}

pub fn remove_intent(key: &str) {
    let mut list = intents();
    list.retain(|i| i.key != key);
    save_intents(&list);
}

/// A kept read as stored: the answer's JSON exactly as the server sent it
/// (passed through untouched, so the contract types need no `Serialize` in
/// the wasm) and when it was read (device clock, epoch ms).
#[derive(Serialize)]
struct Keep {
    at: f64,
    #[serde(with = "serde_wasm_bindgen::preserve")]
    v: JsValue,
}

/// A kept read as read back, decoded like a fresh answer.
#[derive(Deserialize)]
struct Kept<T> {
    at: f64,
    v: T,
}

/// Keeps a successful read's JSON under `key`, with the time (device clock).
pub fn keep(key: &str, answer: &JsValue) {
    let entry = Keep {
        at: js_sys::Date::now(),
        v: answer.clone(),
    };
    if let Some(raw) = codec::to_text(&entry) {
        write(key, Some(&raw));
    }
}

/// The value last kept under `key`, and when it was read.
pub fn kept<T: DeserializeOwned>(key: &str) -> Option<(T, Timestamp)> {
    let entry: Kept<T> = codec::from_text(&read(key)?)?;
    entry
        .at
        .is_finite()
        .then_some((entry.v, Timestamp(entry.at as i64)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_comes_from_the_fragment_only() {
        assert_eq!(
            token_from_fragment("#access_token=abc.def"),
            Some("abc.def".into())
        );
        assert_eq!(
            token_from_fragment("#state=1&access_token=a%2Bb&x=2"),
            Some("a+b".into())
        );
        assert_eq!(
            token_from_fragment("#access_token=a+b/c="),
            Some("a+b/c=".into())
        );
        assert_eq!(token_from_fragment("#access_token="), None);
        assert_eq!(token_from_fragment("#gift-box"), None);
        assert_eq!(token_from_fragment("#access_token=%ZZ"), None);
        assert_eq!(token_from_fragment("#access_token=a%20b"), None);
        assert_eq!(token_from_fragment(""), None);
    }
}
