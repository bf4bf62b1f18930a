//! The network as the user meets it: online or not (`online` / `offline`
//! events), the page visible or not, and how many requests are failing over
//! to another backend ("연결 중"). It exposes that as signals
//! ([`connection`]); `components::NetNotice` draws it. Waits here send
//! nothing: they only look at the browser's state. No views here.

use leptos::prelude::*;
use wasm_bindgen::JsValue;

use crate::browser::{mono_ms, sleep};

/// The connection as signals: online, and requests failing over or retrying.
#[derive(Clone, Copy)]
pub struct Connection {
    pub online: RwSignal<bool>,
    pub connecting: RwSignal<u32>,
}

thread_local! {
    // Created with no owner, so no view disposes them: they live as long as the page.
    static CONNECTION: Connection = {
        let owner = Owner::current();
        if let Some(o) = owner.clone() {
            o.unset();
        }
        let c = Connection {
            online: RwSignal::new(online()),
            connecting: RwSignal::new(0),
        };
        if let Some(o) = owner {
            o.set();
        }
        c
    };
}

/// The page's connection signals.
pub fn connection() -> Connection {
    CONNECTION.with(|c| *c)
}

/// `navigator.onLine` (`true` when unknown).
pub fn online() -> bool {
    let Some(w) = web_sys::window() else {
        return true;
    };
    js_sys::Reflect::get(&w, &JsValue::from_str("navigator"))
        .and_then(|n| js_sys::Reflect::get(&n, &JsValue::from_str("onLine")))
        .ok()
        .and_then(|v| v.as_bool())
        .unwrap_or(true)
}

/// `!document.hidden`.
pub fn visible() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .is_none_or(|d| !d.hidden())
}

/// A request starts (`1`) or stops (`-1`) failing over.
pub fn connecting(delta: i32) {
    CONNECTION.with(|c| c.connecting.update(|n| *n = n.saturating_add_signed(delta)));
}

/// Waits, sending nothing, until the browser is online and the page visible.
/// `false` when `stop` said to give up first.
pub async fn until_ready(stop: &dyn Fn() -> bool) -> bool {
    while !(online() && visible()) {
        if stop() {
            return false;
        }
        sleep(400).await;
    }
    !stop()
}

/// Sleeps `ms` in short steps so that a cancel is seen at once, telling
/// `tick` the whole seconds left as they change. `false` when `stop` said to
/// give up.
pub async fn pause(ms: u32, stop: &dyn Fn() -> bool, tick: &dyn Fn(u32)) -> bool {
    let end = mono_ms() + f64::from(ms);
    let mut shown = u32::MAX;
    loop {
        if stop() {
            return false;
        }
        let left = end - mono_ms();
        let s = (left / 1000.0).ceil().max(0.0) as u32;
        if s != shown {
            shown = s;
            tick(s);
        }
        if left <= 0.0 {
            return true;
        }
        sleep(left.min(250.0) as u32).await;
    }
}

/// Follows `online` / `offline`; `back_online` runs when the network returns.
pub fn install(back_online: impl Fn() + 'static) {
    let set = move |now: bool| CONNECTION.with(|c| c.online.set(now));
    set(online());
    let _ = window_event_listener_untyped("offline", move |_| set(false));
    let _ = window_event_listener_untyped("online", move |_| {
        set(true);
        back_online();
    });
}

/// The waiting room's title when the server is crowded.
pub const CROWDED: &str = "접속자가 많아 순서대로 처리하고 있어요";

/// A claim waiting its turn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Wait {
    /// Whole seconds to the next try.
    pub seconds: u32,
    /// The place in line, when the server said.
    pub position: Option<u32>,
    /// Offline: held until the network returns, not timed.
    pub held: bool,
}

/// What the waiting room says under its title: the seconds to the next try
/// (or that it is held for the network), and the place in line when known.
pub fn wait_text(wait: &Wait) -> String {
    let mut text = match (wait.held, wait.seconds) {
        (true, _) => "연결되면 바로 보낼게요.".to_string(),
        (false, 0) => "지금 다시 시도하고 있어요.".to_string(),
        (false, s @ ..60) => format!("{s}초 후 다시 시도해요."),
        (false, s) => format!("{}분 후 다시 시도해요.", s.div_ceil(60)),
    };
    if let Some(p) = wait.position {
        text.push_str(" 대기 순서 ");
        text.push_str(&maeum_contract::money::group_thousands(u64::from(p)));
        text.push_str("번째");
    }
    text
}
