use leptos::prelude::*;

use crate::api::ApiError;
use crate::components::ErrorNotice;
use crate::state::AppCtx;

/// The status request failed (backend down, no network, `trunk serve` alone).
#[component]
pub fn UnreachablePage(
    /// Why.
    error: ApiError,
) -> impl IntoView {
    let ctx = AppCtx::expect();
    view! {
        <div data-testid="unreachable">
            <ErrorNotice
                error
                on_retry=Callback::new(move |_| ctx.boot())
                focus=true
                title="서버에 연결할 수 없어요"
            />
        </div>
    }
}

/// An address the app does not know.
#[component]
pub fn NotFoundPage() -> impl IntoView {
    view! {
        <section class="panel" data-testid="not-found" aria-labelledby="not-found-title">
            <h2 class="panel__title" id="not-found-title" tabindex="-1" data-focus="">
                "페이지를 찾을 수 없어요"
            </h2>
            <p class="panel__text">"주소가 바뀌었거나 없는 페이지예요."</p>
            <a class="btn btn--primary" href="/">"마음 패키지로 가기"</a>
        </section>
    }
}
