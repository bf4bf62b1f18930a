use leptos::prelude::*;

/// The way forward after a failure: sends the same request again.
#[component]
pub fn RetryButton(
    /// What to do on tap.
    on_retry: Callback<()>,
    /// Button text; `다시 시도` by default.
    #[prop(optional)]
    label: Option<&'static str>,
) -> impl IntoView {
    view! {
        <button type="button" class="btn btn--secondary" data-testid="retry" on:click=move |_| on_retry.run(())>
            {label.unwrap_or("다시 시도")}
        </button>
    }
}
