//! The app shell: provides the shared [`AppCtx`], draws the screen the
//! release gate chose, and mounts.

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;

use crate::api::storage;
use crate::browser::sleep;
use crate::components::{Loading, NetNotice};
use crate::pages::{
    ClosedPage, OpenFromAppPage, OpeningPage, PausedPage, TeaserPage, UnreachablePage,
};
use crate::route;
pub use crate::state::{AppCtx, GateState, Journey, Screen};

/// Re-reads the server clock when the page becomes visible again: a phone
/// that slept may have paused the monotonic clock.
fn resync_on_visible(ctx: AppCtx) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let on_change = Closure::<dyn Fn()>::new(move || {
        let visible = web_sys::window()
            .and_then(|w| w.document())
            .is_some_and(|d| !d.hidden());
        let waiting = ctx
            .screen
            .with_untracked(|s| matches!(s, Screen::Teaser { .. } | Screen::Paused { .. }));
        if visible && waiting {
            spawn_local(async move {
                let _ = ctx.refresh_status().await;
            });
        }
    });
    let _ = document
        .add_event_listener_with_callback("visibilitychange", on_change.as_ref().unchecked_ref());
    on_change.forget(); // lives as long as the page
}

/// The whole app, below the static banner of `index.html`.
#[component]
pub fn App(journey: Journey) -> impl IntoView {
    let ctx = AppCtx::new(Screen::Loading, journey);
    provide_context(ctx);
    route::install(ctx);
    resync_on_visible(ctx);
    // Back online, an unreachable app starts over.
    crate::network::install(move || {
        if ctx
            .screen
            .with_untracked(|s| matches!(s, Screen::Unreachable(_)))
        {
            ctx.boot();
        }
    });
    (journey.install)(ctx);
    ctx.boot();

    // A new screen is drawn when the screen changes, but not when only the
    // teaser's instant moves: the teaser follows that itself (focus stays).
    let shown = Memo::new(move |_| match ctx.screen.get() {
        Screen::Teaser { .. } => Screen::Teaser {
            opens_at: maeum_contract::Timestamp(0),
        },
        other => other,
    });
    view! {
        <NetNotice />
        {move || match shown.get() {
            Screen::Loading => view! { <Loading text="잠시만 기다려 주세요" /> }.into_any(),
            Screen::Unreachable(error) => view! { <UnreachablePage error /> }.into_any(),
            Screen::Teaser { .. } => view! { <TeaserPage /> }.into_any(),
            Screen::Opening => view! { <OpeningPage /> }.into_any(),
            Screen::Open => (journey.page)(ctx.route.get()),
            Screen::Paused { retry_after_s } => view! { <PausedPage retry_after_s /> }.into_any(),
            Screen::Closed { closes_at } => view! { <ClosedPage closes_at /> }.into_any(),
            Screen::NeedApp => view! { <OpenFromAppPage /> }.into_any(),
        }}
        <div class="sr-only" aria-live="polite" aria-atomic="true" data-testid="announcer">
            {move || ctx.announcement.get()}
        </div>
        {preview_bar()}
    }
}

/// The designers' scenario switcher: debug builds (`trunk serve`) only.
#[cfg(debug_assertions)]
fn preview_bar() -> impl IntoView {
    view! { <crate::preview::PreviewBar /> }
}

#[cfg(not(debug_assertions))]
fn preview_bar() -> impl IntoView {}

/// Replaces the static loading placeholder inside `#app` with the app, in the
/// same frame, so the banner above never moves. It waits one timer turn
/// first: the wasm's instantiation and the first render then run as two
/// main-thread tasks instead of one long one (a tap meanwhile is answered).
pub fn mount(journey: Journey) {
    // The token leaves the address bar at once, in the first task.
    storage::adopt_token_from_url();
    // Not leptos' spawn_local: its executor starts with the mount.
    wasm_bindgen_futures::spawn_local(async move {
        sleep(0).await;
        mount_now(journey);
    });
}

fn mount_now(journey: Journey) {
    let root = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("app"))
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
    match root {
        Some(root) => {
            root.set_inner_html("");
            leptos::mount::mount_to(root, move || view! { <App journey /> }).forget();
        }
        None => leptos::mount::mount_to_body(move || view! { <App journey /> }),
    }
}
