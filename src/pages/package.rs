//! The 전 국민 마음 패키지 page: the items, 받기 / 모두 받기, and 내 선물함.
//!
//! The read (package and 선물함 together) is a `LocalResource`, awaited under
//! a `Transition` and an `ErrorBoundary`. What the user
//! holds, what is in flight and what the server refused is one value in one
//! signal ([`Page`]), which the read folds its answer into as it lands (so
//! the cards never show a moment without the 선물함) and every claim answer
//! updates. Each intent (받기 or 모두 받기) is dispatched through one
//! `Action::new_local` that delivers it to its end; an intent's own state
//! (in flight, waiting) lives in [`Page`] and in storage, because an
//! `Action`'s `pending` cannot say it per item. The cards are a keyed
//! `<For>` (one card per item id, updating in place) and the conditions are
//! `<Show>`s.
//!
//! Size (`node xtask/sizes.mjs dist`, brotli first load, after
//! `MAEUM_RELEASE_AT=2023-01-05T09:00:00+09:00 cargo xtask build`): the
//! `Action`, the keyed `<For>`, the `<Show>`s and a memo per card cost
//! 10,981 bytes (package 129,690 → 140,671; business unchanged at about
//! 190.5 KB). The budget (110 KB) was already broken by the serde/gloo-net
//! client, so these bytes do not decide it; the plain-closure notices (not a
//! memo each) saved 1.5 KB of that without costing an idiom. The read's
//! `ErrorBoundary` then cost 4.6 KB more (145,250), and the closed page's
//! `LocalResource` and the paused page's `Action` 2.0 KB (147,277). The
//! first wait as a `Transition` with a `Suspend` (and the closed page's
//! `Suspense`, the claim status page's `Transition`): 6.2 KB (147,592 →
//! 153,793; business 197,815 → 203,491).

use leptos::prelude::*;
use maeum_contract::time::kst_hm;
use maeum_contract::{Item, Timestamp};

use crate::api::{self, retry, storage, ApiError, Intent};
use crate::browser::new_idempotency_key;
use crate::components::{caught, ErrorNotice, GiftBox, ItemCard, Loading};
use crate::model::Holdings;
use crate::network::{self, Wait};
use crate::state::AppCtx;

/// Tries of one intent while the server says it is crowded (429 / 503 busy),
/// about five minutes with the backoff cap, before the user is asked.
const SURGE_TRIES: u32 = 40;
/// Quiet resends after a failed connection (every backend unreachable).
const QUIET_TRIES: u32 = 4;

#[derive(Clone, Debug, Default, PartialEq)]
struct Page {
    items: Vec<Item>,
    holdings: Holdings,
    /// Idempotency keys with a request in flight.
    inflight: Vec<String>,
    /// The last claim failure the user has to act on.
    claim_error: Option<ApiError>,
    /// Showing the package and 선물함 as last read at this time (no network).
    stale: Option<Timestamp>,
    /// A claim waiting its turn (crowded) or for the network (offline).
    wait: Option<Wait>,
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
    /// Delivers one intent to its end (see [`Controller::deliver`]).
    claim: Action<Intent, ()>,
}

impl Controller {
    fn new(ctx: AppCtx, page: RwSignal<Page>) -> Self {
        // The delivery never sends again, so it needs no `Controller`.
        let claim = Action::new_local(move |intent: &Intent| {
            Delivery { ctx, page }.deliver(intent.clone())
        });
        Self { ctx, page, claim }
    }

    /// Package and 선물함 together, folded into the page; then resend
    /// whatever intents a previous visit left unanswered (same keys, so
    /// nothing is granted twice). With no network, the last read of this tab
    /// shows instead, with its time (`Ok(Some(time))`).
    async fn read(self) -> Result<Option<Timestamp>, ApiError> {
        let (package, mine) = (api::package(), api::my_claims());
        let (package, mine) = (package.await, mine.await);
        let read = package.and_then(|p| mine.map(|m| (p, m, None)));
        let read = match read {
            Err(e @ (ApiError::Offline | ApiError::Timeout)) => api::kept_package()
                .map(|(p, m, at)| (p, m, Some(at)))
                .ok_or(e),
            other => other,
        };
        match read {
            Ok((package, mine, stale)) => {
                self.page.try_update(|p| {
                    p.items = package.items;
                    p.holdings.claims = mine.claims;
                    p.holdings.ineligible_reason = mine.ineligible_reason;
                    p.stale = stale;
                });
                for intent in storage::intents() {
                    self.send(intent);
                }
                Ok(stale)
            }
            Err(e) => {
                // Signed out, not open, paused, closed: the app changes screen.
                self.ctx.handle(&e);
                Err(e)
            }
        }
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

    /// Sends one intent until the server answers definitively, the user
    /// cancels (the intent leaves storage), or the tries run out. Its items
    /// show 받는 중 at once. Offline it is held and sent when the network
    /// returns; while the page is hidden nothing is sent.
    fn send(self, intent: Intent) {
        if self
            .page
            .try_with_untracked(|p| p.inflight.contains(&intent.key))
            .unwrap_or(true)
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

        self.claim.dispatch_local(intent);
    }

    /// 취소 on the waiting notice: every waiting intent is dropped; their
    /// deliveries see it and stop, and the cards return to 받기.
    fn cancel(self) {
        let keys = self.page.with_untracked(|p| p.inflight.clone());
        for key in &keys {
            storage::remove_intent(key);
        }
        self.page.update(|p| p.wait = None);
        self.ctx.announce("선물 받기를 취소했어요.".to_string());
    }

    fn retry_failed(self) {
        self.page.update(|p| p.claim_error = None);
        for intent in storage::intents() {
            self.send(intent);
        }
    }
}

/// What one delivery needs: the page to update and the app to tell.
#[derive(Clone, Copy)]
struct Delivery {
    ctx: AppCtx,
    page: RwSignal<Page>,
}

impl Delivery {
    /// One intent, to its end: sent until the server answers definitively,
    /// the user cancels (the intent leaves storage), or the tries run out.
    async fn deliver(self, intent: Intent) {
        let key = intent.key.clone();
        // Cancelled (no longer stored), or the page is gone (the intent
        // stays stored and the next visit resumes it).
        let gone = move || {
            !storage::intents().iter().any(|i| i.key == key)
                || self.page.try_with_untracked(|_| ()).is_none()
        };
        let (mut surge, mut quiet) = (0, 0);
        let result = loop {
            if !(network::online() && network::visible()) {
                if !network::online() {
                    self.wait(Some(Wait {
                        seconds: 0,
                        position: None,
                        held: true,
                    }));
                }
                if !network::until_ready(&gone).await {
                    break None;
                }
                self.wait(None);
            }
            let e = match api::claim(&intent.item_ids, &intent.key).await {
                Err(ApiError::Offline | ApiError::Timeout) if !network::online() => continue,
                Err(e) => e,
                done => break Some(done),
            };
            let (attempt, position) = match &e {
                ApiError::Busy { queue_position, .. } => {
                    surge += 1;
                    (Some(surge).filter(|n| *n <= SURGE_TRIES), *queue_position)
                }
                _ if e.retryable() => {
                    quiet += 1;
                    (Some(quiet).filter(|n| *n <= QUIET_TRIES), None)
                }
                _ => (None, None),
            };
            let Some(attempt) = attempt else {
                break Some(Err(e));
            };
            let ms = retry::backoff_ms(attempt, e.retry_after_s(), js_sys::Math::random());
            let busy = matches!(e, ApiError::Busy { .. });
            if busy && surge == 1 {
                self.ctx.announce(network::CROWDED.to_string());
            }
            let tick = move |seconds| {
                if busy {
                    self.wait(Some(Wait {
                        seconds,
                        position,
                        held: false,
                    }));
                }
            };
            if !network::pause(ms, &gone, &tick).await {
                break None;
            }
        };
        self.wait(None);
        if let Some(Ok(response)) = &result {
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
        let error = result.and_then(Result::err);
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
    }

    fn wait(self, wait: Option<Wait>) {
        self.page.try_update(|p| p.wait = wait);
    }
}

/// The open campaign page.
#[component]
pub fn PackagePage() -> impl IntoView {
    let ctx = AppCtx::expect();
    let page = RwSignal::new(Page::default());
    let c = Controller::new(ctx, page);
    let read = LocalResource::new(move || c.read());

    let on_claim = Callback::new(move |id: String| c.tap(Some(id)));
    let reload = Callback::new(move |()| read.refetch());
    let retry = Callback::new(move |()| c.retry_failed());
    let cancel = Callback::new(move |()| c.cancel());
    // Back online: read again what showed from storage.
    let online = window_event_listener_untyped("online", move |_| {
        if page.try_with_untracked(|p| p.stale.is_some()) == Some(true) {
            read.refetch();
        }
    });
    on_cleanup(move || online.remove());

    // `None` while the first read is on its way.
    let loading = move || read.with(Option::is_none);
    let ready = move || read.with(|r| matches!(r, Some(Ok(_))));
    let items = Memo::new(move |_| page.with(|p| p.items.clone()));
    let label = Memo::new(move |_| page.with(Page::claim_all_label));
    // Derived, not memos: each re-draws in place, and a memo per type costs bytes.
    let claims = move || page.with(|p| p.holdings.claims.clone());
    let ineligible = move || page.with(|p| p.holdings.ineligible_reason.clone());
    let claim_error = move || page.with(|p| p.claim_error.clone());
    let stale = move || page.with(|p| p.stale);
    let wait = move || page.with(|p| p.wait);

    // One card per item id, re-drawn in place as its item or state changes
    // (tachys updates the same nodes, so focus stays on its button).
    let card = move |item: Item| {
        let id = item.id.clone();
        let item = Memo::new(move |_| {
            page.with(|p| p.items.iter().find(|i| i.id == id).cloned())
                .unwrap_or_else(|| item.clone())
        });
        let state =
            Memo::new(move |_| item.with(|item| page.with(|p| p.holdings.card_state(item))));
        move || view! { <ItemCard item=item.get() state=state.get() on_claim /> }
    };
    view! {
        <section class="package" aria-labelledby="package-title">
            <h2 class="section__title" id="package-title" tabindex="-1" data-focus="">
                "마음 패키지"
            </h2>
            // The first read's wait, then its failure, explained (with 다시 시도)
            // by the boundary. A re-read keeps what shows until its answer is in.
            // What the read brings is folded into `page`, which the parts below draw.
            <Transition fallback=|| view! { <Loading text="선물을 불러오고 있어요" /> }>
                <ErrorBoundary fallback=move |errors| {
                    caught(&errors).map(|error| view! { <ErrorNotice error on_retry=reload focus=true /> })
                }>
                    {move || Suspend::new(async move { read.await.map(|_| ()) })}
                </ErrorBoundary>
            </Transition>
            <Show when=ready>
                <div class="claim-all">
                    <button
                        type="button"
                        class="btn btn--primary btn--block"
                        data-testid="claim-all"
                        disabled=move || label.get() != "모두 받기"
                        aria-busy=move || (label.get() == "받는 중").then_some("true")
                        on:click=move |_| c.tap(None)
                    >
                        {move || label.get()}
                    </button>
                </div>
                {move || stale().map(|at| {
                    let text = format!("{} 기준 정보예요. 연결되면 새로 불러올게요.", kst_hm(at));
                    crate::components::note("stale-since", None, text, Some(("다시 시도", "retry", reload)))
                })}
                {move || wait().map(|wait| crate::components::waiting(wait, cancel))}
                <Show when=move || ineligible().is_some()>
                    <div class="notice notice--info" data-testid="ineligible-notice">
                        <h3 class="notice__title">"대상 아님"</h3>
                        <p class="notice__text">{move || ineligible()}</p>
                    </div>
                </Show>
                {move || claim_error().map(|error| view! { <ErrorNotice error on_retry=retry /> })}
                <ul class="cards" data-testid="item-list">
                    <For each=move || items.get() key=|item| item.id.clone() children=card />
                </ul>
            </Show>
        </section>
        <Show when=ready>
            {move || view! { <GiftBox items=items.get() claims=claims() /> }}
        </Show>
        // The way to the small-business journey, drawn once below the package and
        // shown only once the package has settled, so nothing above it moves (CLS 0).
        <div hidden=loading>
            <crate::pages::business::BusinessEntry />
        </div>
    }
}
