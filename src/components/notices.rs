use leptos::prelude::*;

use super::RetryButton;
use crate::api::ApiError;

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
