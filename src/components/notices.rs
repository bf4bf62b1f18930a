use leptos::error::Errors;
use leptos::prelude::*;

use super::RetryButton;
use crate::api::ApiError;
use crate::network::{self, Wait};

/// A waiting state (also painted by the static shell of `index.html`, with the
/// same markup, so taking over causes no layout shift).
#[component]
pub fn Loading(
    /// What we are waiting for, in Korean.
    text: &'static str,
) -> impl IntoView {
    view! {
        <div class="state" role="status" data-testid="loading">
            <span class="spinner" aria-hidden="true"></span>
            <p class="state__text">{text}</p>
        </div>
    }
}

/// A failed request: what happened, in Korean, and a retry button. Announced
/// at once (`role="alert"`).
#[component]
pub fn ErrorNotice(
    /// The failure to explain.
    error: ApiError,
    /// Sends the failed request again.
    on_retry: Callback<()>,
    /// Takes focus when the screen changes to it.
    #[prop(optional)]
    focus: bool,
    /// Heading instead of the error's own.
    #[prop(optional)]
    title: Option<&'static str>,
) -> impl IntoView {
    view! {
        <div class="notice notice--error" role="alert" data-testid="error-notice" data-error-code=error.code().to_string()>
            <h2 class="notice__title" tabindex="-1" data-focus=focus.then_some("")>
                {title.unwrap_or(error.title())}
            </h2>
            <p class="notice__text">{error.message()}</p>
            <RetryButton on_retry />
        </div>
    }
}

/// The read's failure an `ErrorBoundary` caught (a read throws one
/// `ApiError`), for the fallback to explain with [`ErrorNotice`].
pub fn caught(errors: &ArcRwSignal<Errors>) -> Option<ApiError> {
    errors.with(|errors| {
        errors
            .iter()
            .find_map(|(_, e)| e.clone().into_inner().downcast_ref::<ApiError>().cloned())
    })
}

/// The line above every screen: "오프라인이에요 …" (`offline-notice`) or
/// "연결 중" (`connecting`) while requests fail over; nothing otherwise.
#[component]
pub fn NetNotice() -> impl IntoView {
    let net = network::connection();
    let line = move || {
        if !net.online.get() {
            (
                "offline-notice",
                "notice notice--info",
                "오프라인이에요. 연결되면 이어서 할게요",
            )
        } else if net.connecting.get() > 0 {
            ("connecting", "panel__hint", "연결 중")
        } else {
            ("net-notice", "", "")
        }
    };
    view! {
        <p id="net-notice" role="status" data-testid=move || line().0 class=move || line().1>
            {move || line().2}
        </p>
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

/// The waiting room: why, the seconds to the next try, the place in line when
/// known, and 취소 (`waiting-cancel`). The owner re-draws it as `wait` changes.
pub fn waiting(wait: Wait, on_cancel: Callback<()>) -> impl IntoView {
    let title = if wait.held {
        "오프라인이라 잠시 기다리고 있어요"
    } else {
        network::CROWDED
    };
    note(
        "waiting",
        Some(title),
        network::wait_text(&wait),
        Some(("취소", "waiting-cancel", on_cancel)),
    )
}
