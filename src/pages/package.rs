//! The 전 국민 마음 패키지 page: the items, 받기 / 모두 받기, and 내 선물함.
//!
//! All of the page's state is one value in one signal, drawn by one function:
//! every change re-draws in place (tachys updates only what differs), which
//! keeps the wasm small and the states consistent.

use leptos::prelude::*;
use leptos::task::spawn_local;
use maeum_contract::Item;

use crate::api::{self, storage, ApiError, Intent};
use crate::app::AppCtx;
use crate::browser::{new_idempotency_key, random_ms, sleep};
use crate::components::{ErrorNotice, GiftBox, ItemCard, Loading};
use crate::model::Holdings;

/// Automatic resends of one intent before the user is asked.
const AUTO_RETRIES: u32 = 2;
/// Longest `Retry-After` honoured automatically; longer waits go to the user.
const MAX_AUTO_WAIT_S: u32 = 10;

#[derive(Clone, Debug, Default, PartialEq)]
struct Page {
    /// `None` while loading; `Some(Err)` when the page could not load.
    loaded: Option<Result<(), ApiError>>,
    items: Vec<Item>,
    holdings: Holdings,
    /// Idempotency keys with a request in flight.
    inflight: Vec<String>,
    /// The last claim failure the user has to act on.
    claim_error: Option<ApiError>,
}

impl Page {
    fn claim_all_label(&self) -> &'static str {
        let h = &self.holdings;
        if !h.claimable(&self.items).is_empty() {
            "모두 받기"
        } else if !h.pending.is_empty() {
            "받는 중"
        } else if h.ineligible_reason.is_some() {
            "대상 아님"
        } else if self.items.iter().all(|i| h.claim_for(&i.id).is_some()) {
            "모두 받았어요"
        } else {
            "더 받을 선물이 없어요"
        }
    }
}

#[derive(Clone, Copy)]
struct Controller {
    ctx: AppCtx,
    page: RwSignal<Page>,
}

impl Controller {
    /// Package and 선물함 together; then resend whatever intents a previous
    /// visit left unanswered (same keys, so nothing is granted twice).
    fn load(self) {
        self.page.update(|p| p.loaded = None);
        let (package, mine) = (api::package(), api::my_claims());
        spawn_local(async move {
            let (package, mine) = (package.await, mine.await);
            match package.and_then(|p| mine.map(|m| (p, m))) {
                Ok((package, mine)) => {
                    self.page.try_update(|p| {
                        p.items = package.items;
                        p.holdings.claims = mine.claims;
                        p.holdings.ineligible_reason = mine.ineligible_reason;
                        p.loaded = Some(Ok(()));
                    });
                    for intent in storage::intents() {
                        self.send(intent);
                    }
                }
                Err(e) => {
                    if !self.ctx.handle(&e) {
                        self.page.try_update(|p| p.loaded = Some(Err(e)));
                    }
                }
            }
        });
    }

    /// A tap on 받기 (one id) or 모두 받기 (`None`: every available item).
    fn tap(self, only: Option<String>) {
        let mut wanted: Vec<String> = self.page.with_untracked(|p| {
            p.holdings
                .claimable(&p.items)
                .into_iter()
                .filter(|i| only.as_ref().is_none_or(|id| *id == i.id))
                .map(|i| i.id.clone())
                .collect()
        });
        if wanted.is_empty() {
            return;
        }
        // An earlier intent for these items that failed is retried as it was,
        // with its own key, instead of becoming a second intent.
        for intent in storage::intents() {
            if intent.item_ids.iter().any(|id| wanted.contains(id)) {
                wanted.retain(|id| !intent.item_ids.contains(id));
                self.send(intent);
            }
        }
        if !wanted.is_empty() {
            let intent = Intent {
                key: new_idempotency_key(),
                item_ids: wanted,
            };
            storage::push_intent(&intent);
            self.send(intent);
        }
    }

    /// Sends one intent until the server answers definitively. Its items show
    /// 받는 중 at once (the signal changes before any network activity).
    fn send(self, intent: Intent) {
        if self
            .page
            .with_untracked(|p| p.inflight.contains(&intent.key))
        {
            return;
        }
        self.page.update(|p| {
            p.inflight.push(intent.key.clone());
            for id in &intent.item_ids {
                if !p.holdings.pending.contains(id) {
                    p.holdings.pending.push(id.clone());
                }
            }
            p.claim_error = None;
        });

        spawn_local(async move {
            let mut attempt = 0;
            let result = loop {
                match api::claim(&intent.item_ids, &intent.key).await {
                    Err(e)
                        if e.retryable()
                            && attempt < AUTO_RETRIES
                            && e.retry_after_s().unwrap_or(0) <= MAX_AUTO_WAIT_S =>
                    {
                        attempt += 1;
                        // Full jitter, and at least what the server asked for.
                        sleep(
                            random_ms(1000 << attempt).max(e.retry_after_s().unwrap_or(0) * 1000),
                        )
                        .await;
                    }
                    other => break other,
                }
            };
            if let Ok(response) = &result {
                storage::remove_intent(&intent.key);
                let said = self.page.try_update(|p| {
                    let items = std::mem::take(&mut p.items);
                    let said = p.holdings.apply(&items, response);
                    p.items = items;
                    said
                });
                if let Some(said) = said {
                    self.ctx.announce(said);
                }
            }
            let error = result.err();
            if let Some(e) = &error {
                // A definitive refusal can never succeed with this key.
                let keep = e.retryable()
                    || matches!(
                        e,
                        ApiError::Unauthorized | ApiError::NotOpen { .. } | ApiError::Paused { .. }
                    );
                if !keep {
                    storage::remove_intent(&intent.key);
                }
            }
            let global = error.as_ref().is_some_and(|e| self.ctx.handle(e));
            self.page.try_update(|p| {
                p.inflight.retain(|key| *key != intent.key);
                p.holdings
                    .pending
                    .retain(|id| !intent.item_ids.contains(id));
                if !global && error.is_some() {
                    p.claim_error = error;
                }
            });
        });
    }

    fn retry_failed(self) {
        self.page.update(|p| p.claim_error = None);
        for intent in storage::intents() {
            self.send(intent);
        }
    }
}

/// The open campaign page.
#[component]
pub fn PackagePage() -> impl IntoView {
    let c = Controller {
        ctx: AppCtx::expect(),
        page: RwSignal::new(Page::default()),
    };
    c.load();
    let on_claim = Callback::new(move |id: String| c.tap(Some(id)));
    let reload = Callback::new(move |()| c.load());
    let retry = Callback::new(move |()| c.retry_failed());

    let body = move || {
        let p = c.page.get();
        let loading = p
            .loaded
            .is_none()
            .then(|| view! { <Loading text="선물을 불러오고 있어요" /> });
        let failed = match &p.loaded {
            Some(Err(error)) => {
                Some(view! { <ErrorNotice error=error.clone() on_retry=reload focus=true /> })
            }
            _ => None,
        };
        let ready = matches!(p.loaded, Some(Ok(()))).then(|| {
            let label = p.claim_all_label();
            let ineligible = p.holdings.ineligible_reason.clone().map(|reason| view! {
                <div class="notice notice--info" data-testid="ineligible-notice">
                    <h3 class="notice__title">"대상 아님"</h3>
                    <p class="notice__text">{reason}</p>
                </div>
            });
            let claim_error = p.claim_error.clone().map(|error| view! { <ErrorNotice error on_retry=retry /> });
            let cards = p
                .items
                .iter()
                .map(|item| view! { <ItemCard item=item.clone() state=p.holdings.card_state(item) on_claim /> })
                .collect_view();
            view! {
                <div class="claim-all">
                    <button
                        type="button"
                        class="btn btn--primary btn--block"
                        data-testid="claim-all"
                        disabled=label != "모두 받기"
                        aria-busy=(label == "받는 중").then_some("true")
                        on:click=move |_| c.tap(None)
                    >
                        {label}
                    </button>
                </div>
                {ineligible}
                {claim_error}
                <ul class="cards" data-testid="item-list">{cards}</ul>
            }
        });
        let gift_box = matches!(p.loaded, Some(Ok(())))
            .then(|| view! { <GiftBox items=p.items.clone() claims=p.holdings.claims.clone() /> });
        view! {
            <section class="package" aria-labelledby="package-title">
                <h2 class="section__title" id="package-title" tabindex="-1" data-focus="">
                    "마음 패키지"
                </h2>
                {loading}
                {failed}
                {ready}
            </section>
            {gift_box}
        }
    };
    view! { {body} }
}
