use leptos::prelude::*;
use maeum_contract::time::kst_day_time;
use maeum_contract::Timestamp;

use crate::api::{self, storage};
use crate::components::GiftBox;

/// After `closes_at`: the campaign has ended; the user still sees what they hold.
#[component]
pub fn ClosedPage(
    /// When it ended, if the server said.
    closes_at: Option<Timestamp>,
) -> impl IntoView {
    // (items, claims) once the 선물함 is known; `None` without a token.
    let held = LocalResource::new(|| async {
        storage::token()?;
        // Best effort: a closed campaign may refuse the package, not the 선물함.
        let (package, mine) = (api::package(), api::my_claims());
        let (package, mine) = (package.await, mine.await);
        let mine = mine.ok()?;
        Some((package.map(|p| p.items).unwrap_or_default(), mine.claims))
    });
    let ended = closes_at
        .map(|t| format!("{}에 끝났어요. ", kst_day_time(t)))
        .unwrap_or_default();
    view! {
        <section class="panel" data-testid="closed-notice" aria-labelledby="closed-title">
            <h2 class="panel__title" id="closed-title" tabindex="-1" data-focus="">
                "전 국민 마음 패키지가 끝났어요"
            </h2>
            <p class="panel__text">{ended} "함께해 주셔서 고맙습니다. 받은 선물은 사용 기한까지 쓸 수 있어요."</p>
        </section>
        <Suspense>
            {move || Suspend::new(async move {
                held.await.map(|(items, claims)| view! { <GiftBox items claims /> })
            })}
        </Suspense>
    }
}
