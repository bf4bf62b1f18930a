//! Before the release instant: the exact opening time in Korea time and a
//! countdown on the server's clock; then the random spread at opening.

use leptos::prelude::*;
use maeum_contract::time::kst_day_time;
use maeum_contract::Timestamp;
use std::time::Duration;

use crate::app::AppCtx;
use crate::model::{countdown_coarse, countdown_text};

/// The teaser, ticking on the server clock. Opens the page by itself when the
/// instant comes. Sends no package or claim request.
#[component]
pub fn TeaserPage(
    /// When the package opens (the later of baked and server instants).
    opens_at: Timestamp,
) -> impl IntoView {
    let ctx = AppCtx::expect();
    let now = RwSignal::new(ctx.server_now().unwrap_or(opens_at));
    let tick = move || {
        let Some(n) = ctx.server_now() else { return };
        now.try_set(n);
        if n >= opens_at {
            ctx.start_opening();
        }
    };
    tick();
    if let Ok(handle) = set_interval_with_handle(tick, Duration::from_millis(500)) {
        on_cleanup(move || handle.clear());
    }
    view! { <Teaser opens_at now /> }
}

/// The teaser's content, driven by `now` (testable without a clock).
#[component]
pub fn Teaser(
    /// When the package opens.
    opens_at: Timestamp,
    /// The server's time now.
    now: RwSignal<Timestamp>,
) -> impl IntoView {
    let remaining = move || opens_at.0 - now.get().0;
    view! {
        <section class="panel teaser" data-testid="teaser" aria-labelledby="teaser-title">
            <p class="panel__eyebrow">"전 국민 마음 패키지"</p>
            <h2 class="panel__title" id="teaser-title" tabindex="-1" data-focus="" data-testid="teaser-opens-at">
                {format!("{}에 열립니다", kst_day_time(opens_at))}
            </h2>
            <p class="countdown">
                <span class="countdown__label">"남은 시간"</span>
                <span class="countdown__value" role="timer" data-testid="countdown">
                    {move || countdown_text(remaining())}
                </span>
            </p>
            <p class="sr-only" aria-live="polite">{move || countdown_coarse(remaining())}</p>
            <p class="panel__text">
                "열리는 시간이 되면 이 화면이 저절로 바뀌어요. 새로고침하지 않아도 돼요."
            </p>
        </section>
    }
}

/// The random wait at the opening instant.
#[component]
pub fn OpeningPage() -> impl IntoView {
    view! {
        <section class="panel" data-testid="opening" aria-labelledby="opening-title">
            <span class="spinner" aria-hidden="true"></span>
            <h2 class="panel__title" id="opening-title" tabindex="-1" data-focus="" role="status">
                "잠시만요, 순서대로 열고 있어요"
            </h2>
            <p class="panel__text">
                "많은 분이 한꺼번에 몰리지 않도록 조금씩 나누어 열고 있어요. 몇 초 안에 선물이 보여요."
            </p>
        </section>
    }
}
