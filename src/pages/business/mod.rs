//! 소상공인 피해 지원 신청: the damage-claim journey (GOV.UK question pages).
//!
//! - `/business` → the step the user is on (a new draft starts at 사업자 정보)
//! - `/business/{info,damage,evidence,payout,consent,check}` → one step each;
//!   `?from=check` marks a 변경 from the check page (continue returns there)
//! - `/business/done` → the confirmation of the claim just filed
//! - `/business/claims/{receipt}` → the status of a filed claim
//! - `/business/cash` → the channel message cash on its own
//!
//! A step validates only when the user continues (the contract's rules),
//! shows errors next to the fields and in a focused summary, and never clears
//! what was typed. Every answer is saved as it is typed ([`store`]).

mod cash;
mod check;
mod consent;
mod damage;
mod done;
mod evidence;
mod info;
mod links;
mod payout;
mod status;
pub mod store;

use leptos::either::{Either, EitherOf4, EitherOf6};
use leptos::prelude::*;
use maeum_contract::business::FieldError;
use wasm_bindgen::JsCast;

use crate::business_draft::{self as draft, Step};
use crate::components::error_summary::{set_title, ErrorSummary};
use crate::route::{query_has, receipt_in_path, replace_path, BizView, Route};
use crate::state::Journey;
pub use cash::{CashPage, ChannelCashPanel};
pub use damage::SupportPreview;
pub use links::BusinessEntry;
pub use store::{install, Biz};

/// The business bundle (`/business…`).
pub const JOURNEY: Journey = Journey {
    draws: |route| !matches!(route, Route::Package),
    page: |route| match route {
        Route::Business(view) => view! { <BusinessPage view /> }.into_any(),
        _ => view! { <crate::pages::NotFoundPage /> }.into_any(),
    },
    install,
};

/// The app's title, restored when the journey is left.
pub const APP_TITLE: &str = "전 국민 마음 패키지 | 카카오 나우";

/// The journey's screens.
///
/// They are mounted as a root of their own inside the app (`mount_to` on a
/// host element): a screen is built once and never re-rendered as a whole,
/// so no code to rebuild its static markup is compiled in. Only the reactive
/// pieces inside update.
#[component]
pub fn BusinessPage(view: BizView) -> impl IntoView {
    on_cleanup(|| set_title(APP_TITLE, false));
    let host = NodeRef::<leptos::html::Div>::new();
    let owner = Owner::current();
    let mounted = StoredValue::new_local(None::<Box<dyn std::any::Any>>);
    host.on_load(move |el| {
        let el: web_sys::HtmlElement = el.unchecked_into();
        // The screen is built in a task of its own, after the one that chose
        // it: two shorter main-thread tasks instead of one long one.
        leptos::task::spawn_local(async move {
            crate::browser::sleep(0).await;
            if mounted.try_with_value(|_| ()).is_none() {
                return; // left before it was built
            }
            let mount = move || leptos::mount::mount_to(el, move || screen(view));
            let handle = match owner {
                Some(o) => o.with(mount),
                None => mount(),
            };
            mounted.set_value(Some(Box::new(handle)));
            crate::browser::focus_if_pending();
        });
    });
    view! { <div class="biz-host" node_ref=host></div> }
}

fn screen(view: BizView) -> impl IntoView {
    match view {
        BizView::Form(step) => EitherOf4::A(form_page(step)),
        BizView::Done => EitherOf4::B(done::done_page()),
        BizView::Status => EitherOf4::C(match receipt_in_path() {
            Some(receipt) => Either::Left(status::status_page(receipt)),
            None => Either::Right(view! { <crate::pages::NotFoundPage /> }),
        }),
        BizView::Cash => EitherOf4::D(view! { <CashPage /> }),
    }
}

fn form_page(requested: Option<Step>) -> impl IntoView {
    let biz = Biz::get();
    let (saved_step, reached) = biz.draft.with_untracked(|d| (d.step, d.reached));
    let mut step = requested.unwrap_or(saved_step);
    if step > reached {
        step = reached;
    }
    let from_check = query_has("from=check") && step != Step::Check;
    if requested != Some(step) {
        replace_path(&step.path());
    }
    if saved_step != step {
        biz.edit(|d| d.step = step);
    }
    // Errors belong to the visit that produced them: another step starts clean.
    if biz
        .errors
        .with_untracked(|(s, e)| *s != step && !e.is_empty())
    {
        biz.clear_errors();
    }
    let title = format!(
        "{} ({}/6) - 소상공인 피해 지원 신청 | 카카오 나우",
        step.title(),
        step.number()
    );
    let errors = Signal::derive(move || biz.errors_on(step));
    let back = if from_check {
        Step::Check.path()
    } else {
        step.prev().map_or_else(|| "/".to_string(), Step::path)
    };
    let body = match step {
        Step::Info => EitherOf6::A(info::view(biz)),
        Step::Damage => EitherOf6::B(damage::view(biz)),
        Step::Evidence => EitherOf6::C(evidence::view(biz)),
        Step::Payout => EitherOf6::D(payout::view(biz)),
        Step::Consent => EitherOf6::E(consent::view(biz)),
        Step::Check => EitherOf6::F(check::view(biz)),
    };
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        continue_from(biz, step, from_check);
    };
    let form = if step == Step::Check {
        Either::Left(body)
    } else {
        Either::Right(view! {
            <form class="biz__form" novalidate on:submit=on_submit>
                {body}
                <div class="biz__actions">
                    <button type="submit" class="btn btn--primary btn--block" data-testid="continue">
                        {if from_check { "저장하고 확인 화면으로" } else { "다음" }}
                    </button>
                </div>
            </form>
        })
    };
    view! {
        <section class="biz" aria-labelledby="biz-title" data-testid="business-form" data-step=step.slug()>
            <a class="back-link" href=back data-testid="back-link">"이전"</a>
            <ErrorSummary errors title=Signal::stored(title) />
            <p class="biz__eyebrow">"소상공인 피해 지원 신청 · " {format!("6단계 중 {}단계", step.number())}</p>
            <h2 class="biz__title" id="biz-title" tabindex="-1" data-focus="">{step.title()}</h2>
            {form}
        </section>
    }
}

/// 다음: this step's rules; then the next step, or back to the check page
/// after a 변경 (or to whichever earlier answer the change made wrong).
fn continue_from(biz: Biz, step: Step, from_check: bool) {
    let errors: Vec<FieldError> = biz.draft.with_untracked(|d| draft::step_errors(d, step));
    if !errors.is_empty() {
        biz.errors.set((step, errors));
        return;
    }
    biz.clear_errors();
    let mut target = step.next();
    let mut query = "";
    if from_check {
        target = Step::Check;
        if let Some((s, e)) = biz.draft.with_untracked(draft::first_invalid_step) {
            biz.errors.set((s, e));
            target = s;
            query = "?from=check";
        }
    }
    biz.edit(|d| {
        d.step = target;
        d.reached = d.reached.max(target);
    });
    store::go(&format!("{}{query}", target.path()));
}
