//! `/business/claims/{receipt}`: where a filed claim is (접수, 검토 중, 승인,
//! 지급 완료, or 반려 with the reason), for the user who filed it.

use leptos::prelude::*;
use leptos::task::spawn_local;
use maeum_contract::business::{DamageClaimReceipt, DamageClaimStatus};
use maeum_contract::problem::code;
use maeum_contract::time::kst_day_time;

use super::cash::ChannelCashPanel;
use super::done::support_text;
use crate::api::{self, ApiError};
use crate::app::AppCtx;
use crate::business_draft::receipts;
use crate::components::erased::{maybe, on_click, pick, text, when};
use crate::components::error_summary::set_title;
use crate::components::Loading;

const ORDER: [DamageClaimStatus; 4] = [
    DamageClaimStatus::Received,
    DamageClaimStatus::Reviewing,
    DamageClaimStatus::Approved,
    DamageClaimStatus::Paid,
];

fn slug(s: DamageClaimStatus) -> &'static str {
    match s {
        DamageClaimStatus::Received => "received",
        DamageClaimStatus::Reviewing => "reviewing",
        DamageClaimStatus::Approved => "approved",
        DamageClaimStatus::Paid => "paid",
        DamageClaimStatus::Rejected => "rejected",
    }
}

fn explain(s: DamageClaimStatus) -> &'static str {
    match s {
        DamageClaimStatus::Received => "신청이 접수됐어요. 곧 검토를 시작해요.",
        DamageClaimStatus::Reviewing => "올려 주신 서류로 피해 내용을 검토하고 있어요.",
        DamageClaimStatus::Approved => {
            "지원이 승인됐어요. 곧 적어 주신 계좌로 지원금을 보내 드려요."
        }
        DamageClaimStatus::Paid => "지원금을 보냈어요. 계좌를 확인해 주세요.",
        DamageClaimStatus::Rejected => "신청이 반려됐어요.",
    }
}

pub(super) fn status_page(receipt: String) -> impl IntoView {
    set_title("신청 진행 상황 - 소상공인 피해 지원 | 카카오 나우", false);
    let ctx = AppCtx::expect();
    // `None` while loading.
    let state: RwSignal<Option<Result<DamageClaimReceipt, ApiError>>> = RwSignal::new(None);
    let load = {
        let receipt = receipt.clone();
        move || {
            state.set(None);
            let reply = api::business::damage_claim_status(&receipt);
            spawn_local(async move {
                let result = reply.await;
                if let Err(e) = &result {
                    if ctx.handle(e) {
                        return;
                    }
                }
                state.try_set(Some(result));
            });
        }
    };
    load();
    let reload = Callback::new(move |()| load());
    let brn = receipts()
        .into_iter()
        .find(|r| r.receipt_no == receipt)
        .map(|r| r.brn);

    let got = move || match &*state.read() {
        Some(Ok(r)) => Some(r.clone()),
        _ => None,
    };
    let now = move || got().map(|r| r.status);
    let missing = move || matches!(&*state.read(), Some(Err(ApiError::Rejected { code: c, .. })) if c == code::NOT_FOUND);
    let failed = move |f: fn(&ApiError) -> &'static str| match &*state.read() {
        Some(Err(e)) if !missing() => f(e),
        _ => "",
    };
    let steps = ORDER
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let place = move || {
                let at = now().and_then(|n| ORDER.iter().position(|x| *x == n));
                match at {
                    Some(a) if i < a => "done",
                    Some(a) if i == a => "current",
                    _ => "todo",
                }
            };
            view! {
                <li
                    class="track__step"
                    data-state=pick(place)
                    aria-current=maybe(move || (place() == "current").then_some("step"))
                >
                    {s.label()}
                </li>
            }
        })
        .collect_view();
    let rejected = move || now() == Some(DamageClaimStatus::Rejected);

    view! {
        <section class="panel status" data-testid="claim-status-page" aria-labelledby="status-title">
            <h2 class="panel__title" id="status-title" tabindex="-1" data-focus="">"피해 지원 진행 상황"</h2>
            <div hidden=when(move || state.read().is_some())>
                <Loading text="진행 상황을 불러오고 있어요" />
            </div>
            <div class="notice notice--error" data-testid="status-not-found" hidden=when(move || !missing())>
                <h3 class="notice__title">"접수번호를 찾을 수 없어요"</h3>
                <p class="notice__text">"접수번호를 다시 확인해 주세요. 신청한 카카오 계정으로 열어야 볼 수 있어요."</p>
            </div>
            <div class="notice notice--error" data-testid="error-notice" hidden=when(move || failed(ApiError::title).is_empty())>
                <h3 class="notice__title">{pick(move || failed(ApiError::title))}</h3>
                <p class="notice__text">{pick(move || failed(ApiError::message))}</p>
            </div>
            <div hidden=when(move || got().is_none())>
                <dl class="held status__facts">
                    <div class="held__row">
                        <dt>"접수번호"</dt>
                        <dd data-testid="status-receipt-no">{text(move || got().map(|r| r.receipt_no).unwrap_or_default())}</dd>
                    </div>
                    <div class="held__row">
                        <dt>"접수일"</dt>
                        <dd>{text(move || got().map(|r| kst_day_time(r.submitted_at)).unwrap_or_default())}</dd>
                    </div>
                    <div class="held__row">
                        <dt>"지원금"</dt>
                        <dd>{text(move || got().map(|r| support_text(Some(r.support))).unwrap_or_default())}</dd>
                    </div>
                </dl>
                <p class="status__now">
                    "현재 상태: "
                    <strong
                        class="status__label"
                        data-testid="claim-status"
                        data-status=pick(move || now().map_or("", slug))
                    >
                        {pick(move || now().map_or("", DamageClaimStatus::label))}
                    </strong>
                </p>
                <p class="panel__text">{pick(move || now().map_or("", explain))}</p>
                <div class="notice notice--error" data-testid="claim-reason" hidden=when(move || !rejected())>
                    <h3 class="notice__title">"반려 사유"</h3>
                    <p class="notice__text">
                        {text(move || {
                            got().and_then(|r| r.reason).unwrap_or_else(|| "사유를 확인하고 있어요.".to_string())
                        })}
                    </p>
                </div>
                <ol class="track" aria-label="진행 단계" hidden=when(rejected)>{steps}</ol>
            </div>
            <div aria-live="polite" class="sr-only">
                {pick(move || now().map_or("", DamageClaimStatus::label))}
            </div>
            <button
                type="button"
                class="btn btn--secondary"
                data-testid="status-refresh"
                on:click=on_click(move |_| reload.run(()))
            >
                "새로고침"
            </button>
        </section>
        {brn.map(|b| view! { <ChannelCashPanel brn=Some(b) /> })}
        <p class="biz__home"><a href="/" data-testid="home-link">"마음 패키지로 돌아가기"</a></p>
    }
}
