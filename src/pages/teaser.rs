//! Before the release instant: the exact opening time in Korea time and a
//! countdown on the server's clock; then the random spread at opening.

use leptos::prelude::*;
use maeum_contract::time::kst_day_time;
use maeum_contract::Timestamp;
use std::time::Duration;

use leptos::task::spawn_local;

use crate::browser::{random_ms, sleep};
use crate::model::{countdown_coarse, countdown_text};
use crate::network;
use crate::state::{AppCtx, Screen};

/// How often the teaser asks the server again, at most: 40 s plus up to
/// 15 s of jitter (so open teasers do not ask in step), under a minute.
const FOLLOW_MS: u32 = 40_000;
const FOLLOW_JITTER_MS: u32 = 15_000;

/// The teaser, ticking on the server clock. Opens the page by itself when the
/// instant comes. Follows the operator: re-reads `/v1/status` about once a
/// minute (and when the page is shown again, see `app`), so a release moved
/// later or earlier shows here, and one moved into the past opens the page.
/// Sends no package or claim request.
#[component]
pub fn TeaserPage() -> impl IntoView {
    let ctx = AppCtx::expect();
    let first = ctx.opens_at().unwrap_or(Timestamp(0));
    // The last instant shown: kept while the screen leaves the teaser.
    let opens_at = Memo::new(move |last: Option<&Timestamp>| {
        ctx.opens_at().or(last.copied()).unwrap_or(first)
    });
    let now = RwSignal::new(ctx.server_now().unwrap_or(first));
    let tick = move || {
        let Some(n) = ctx.server_now() else { return };
        now.try_set(n);
        if opens_at.try_get_untracked().is_some_and(|at| n >= at) {
            ctx.start_opening();
        }
    };
    tick();
    if let Ok(handle) = set_interval_with_handle(tick, Duration::from_millis(500)) {
        on_cleanup(move || handle.clear());
    }
    // The operator moved the instant: say so (the heading and countdown follow).
    Effect::new(move |was: Option<Timestamp>| {
        let at = opens_at.get();
        if was.is_some_and(|was| was != at) {
            ctx.announce(format!(
                "여는 시간이 바뀌었어요. {}에 열립니다",
                kst_day_time(at)
            ));
            tick();
        }
        at
    });
    let alive = StoredValue::new(());
    spawn_local(async move {
        loop {
            sleep(FOLLOW_MS + random_ms(FOLLOW_JITTER_MS)).await;
            let teaser = ctx
                .screen
                .with_untracked(|s| matches!(s, Screen::Teaser { .. }));
            if alive.try_with_value(|_| ()).is_none() || !teaser {
                return;
            }
            // A failed read changes nothing: the countdown goes on, and the
            // next turn asks again.
            if network::online() && network::visible() {
                let _ = ctx.refresh_status().await;
            }
        }
    });
    view! { <Teaser opens_at now /> }
}

/// The teaser's content, driven by `now` (testable without a clock).
#[component]
pub fn Teaser(
    /// When the package opens.
    #[prop(into)]
    opens_at: Signal<Timestamp>,
    /// The server's time now.
    now: RwSignal<Timestamp>,
) -> impl IntoView {
    let remaining = move || opens_at.get().0 - now.get().0;
    view! {
        <section class="panel teaser" data-testid="teaser" aria-labelledby="teaser-title">
            <p class="panel__eyebrow">"전 국민 마음 패키지"</p>
            <h2 class="panel__title" id="teaser-title" tabindex="-1" data-focus="" data-testid="teaser-opens-at">
                {move || format!("{}에 열립니다", kst_day_time(opens_at.get()))}
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
