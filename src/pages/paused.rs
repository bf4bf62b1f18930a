use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::browser::{random_ms, sleep};
use crate::state::{AppCtx, Screen};

/// Operators paused claims. Asks the server again by itself after the wait it
/// gave (plus jitter), until the pause ends.
#[component]
pub fn PausedPage(
    /// Seconds before asking again.
    retry_after_s: u32,
) -> impl IntoView {
    let ctx = AppCtx::expect();
    let paused = move || {
        ctx.screen
            .with_untracked(|s| matches!(s, Screen::Paused { .. }))
    };
    spawn_local(async move {
        // Ends when the screen leaves the pause (this page is then gone).
        while paused() {
            sleep(retry_after_s.max(1) * 1000 + random_ms(5000)).await;
            // Ask nothing while the page is hidden or offline.
            if crate::network::until_ready(&|| !paused()).await {
                let _ = ctx.refresh_status().await;
            }
        }
    });
    let check_now = Action::new_local(move |()| async move {
        let _ = ctx.refresh_status().await;
    });
    view! {
        <section class="panel" data-testid="paused-notice" aria-labelledby="paused-title">
            <h2 class="panel__title" id="paused-title" tabindex="-1" data-focus="">
                "선물 받기를 잠시 멈췄어요"
            </h2>
            <p class="panel__text" role="status">
                "선물 받기가 일시 중지되었어요. 다시 열리면 이 화면이 저절로 바뀌어요."
            </p>
            <p class="panel__hint">"받은 선물은 그대로 남아 있어요. 새로고침하지 않아도 돼요."</p>
            <button type="button" class="btn btn--secondary" data-testid="retry" on:click=move |_| {
                check_now.dispatch_local(());
            }>
                "지금 다시 확인"
            </button>
        </section>
    }
}
