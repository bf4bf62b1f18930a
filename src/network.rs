//! The network as the user meets it: online or not (`online` / `offline`
//! events), the page visible or not, a short "연결 중" while the client fails
//! over to another backend, and the waiting room shown when the claim path is
//! crowded. Waits here send nothing: they only look at the browser's state.

use std::cell::Cell;

use leptos::prelude::*;
use wasm_bindgen::JsValue;

use crate::app::{AppCtx, Screen};
use crate::browser::{mono_ms, sleep};

thread_local! {
    /// Requests currently failing over or retrying.
    static CONNECTING: Cell<u32> = const { Cell::new(0) };
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
    CONNECTING.set(CONNECTING.get().saturating_add_signed(delta));
    notice();
}

/// The line above every screen: "오프라인이에요 …" (`offline-notice`), "연결 중"
/// (`connecting`), or nothing. Drawn straight into the DOM, outside the app's
/// views (like the static fallback), so any code may update it.
pub fn notice() {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let el = doc.get_element_by_id("net-notice").or_else(|| {
        let el = doc.create_element("p").ok()?;
        el.set_id("net-notice");
        let _ = el.set_attribute("role", "status");
        let app = doc.get_element_by_id("app");
        let parent = app
            .as_ref()
            .and_then(|a| a.parent_node())
            .or_else(|| doc.body().map(Into::into))?;
        parent
            .insert_before(&el, app.as_ref().map(|a| a.as_ref()))
            .ok()?;
        Some(el)
    });
    let Some(el) = el else { return };
    let (id, class, text) = if !online() {
        (
            "offline-notice",
            "notice notice--info",
            "오프라인이에요. 연결되면 이어서 할게요",
        )
    } else if CONNECTING.get() > 0 {
        ("connecting", "panel__hint", "연결 중")
    } else {
        ("net-notice", "", "")
    };
    let _ = el.set_attribute("data-testid", id);
    el.set_class_name(class);
    if el.text_content().as_deref() != Some(text) {
        el.set_text_content(Some(text));
    }
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

/// Follows `online` / `offline`; back online, an unreachable app starts over.
pub fn install(ctx: AppCtx) {
    notice();
    for name in ["online", "offline"] {
        let _ = window_event_listener_untyped(name, move |_| {
            notice();
            if online()
                && ctx
                    .screen
                    .with_untracked(|s| matches!(s, Screen::Unreachable(_)))
            {
                ctx.boot();
            }
        });
    }
}

/// The one shape of every notice here (one view type keeps the wasm small):
/// an optional title, a line of text, and an optional button (label, testid, action).
pub fn note(
    testid: &'static str,
    title: Option<&'static str>,
    text: String,
    action: Option<(&'static str, &'static str, Callback<()>)>,
) -> impl IntoView {
    view! {
        <div class="notice notice--info" data-testid=testid>
            {title.map(|t| view! { <p class="notice__title">{t}</p> })}
            <p class="notice__text" data-testid="note-text">{text}</p>
            {action.map(|(label, id, run)| view! {
                <button type="button" class="btn btn--secondary" data-testid=id on:click=move |_| run.run(())>
                    {label}
                </button>
            })}
        </div>
    }
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

/// The waiting room: why, the seconds to the next try, the place in line when
/// known, and 취소 (`waiting-cancel`). The owner re-draws it as `wait` changes.
pub fn waiting(wait: Wait, on_cancel: Callback<()>) -> impl IntoView {
    let title = if wait.held {
        "오프라인이라 잠시 기다리고 있어요"
    } else {
        CROWDED
    };
    note(
        "waiting",
        Some(title),
        wait_text(&wait),
        Some(("취소", "waiting-cancel", on_cancel)),
    )
}
