//! `/business/claims/{receipt}`: where a filed claim is (접수, 검토 중, 승인,
//! 지급 완료, or 반려 with the reason), for the user who filed it.

use leptos::either::Either;
use leptos::prelude::*;
use maeum_contract::business::{DamageClaimReceipt, DamageClaimStatus};
use maeum_contract::problem::code;
use maeum_contract::time::kst_day_time;

use super::cash::ChannelCashPanel;
use super::done::support_text;
use crate::api::{self, ApiError};
use crate::business_draft::receipts;
use crate::components::erased::on_click;
use crate::components::error_summary::set_title;
use crate::components::{caught, ErrorNotice, Loading};
use crate::state::AppCtx;

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
    let status = LocalResource::new({
        let receipt = receipt.clone();
        move || {
            let reply = api::business::damage_claim_status(&receipt);
            async move {
                let result = reply.await;
                // Signed out, paused, closed: the whole app changes screen.
                if let Err(e) = &result {
                    ctx.handle(e);
                }
                result
            }
        }
    });
    let retry = Callback::new(move |()| status.refetch());
    let brn = receipts()
        .into_iter()
        .find(|r| r.receipt_no == receipt)
        .map(|r| r.brn);

    view! {
        <section class="panel status" data-testid="claim-status-page" aria-labelledby="status-title">
            <h2 class="panel__title" id="status-title" tabindex="-1" data-focus="">"피해 지원 진행 상황"</h2>
            // A refresh keeps what showed until the new answer is in. A failure
            // is thrown to the boundary, which explains it.
            <Transition fallback=|| view! { <Loading text="진행 상황을 불러오고 있어요" /> }>
                <ErrorBoundary fallback=move |errors| caught(&errors).map(|e| status_error(e, retry))>
                    {move || Suspend::new(async move { status.await.map(receipt_view) })}
                </ErrorBoundary>
            </Transition>
            <button
                type="button"
                class="btn btn--secondary"
                data-testid="status-refresh"
                on:click=on_click(move |_| status.refetch())
            >
                "새로고침"
            </button>
        </section>
        {brn.map(|b| view! { <ChannelCashPanel brn=Some(b) /> })}
        <p class="biz__home"><a href="/" data-testid="home-link">"마음 패키지로 돌아가기"</a></p>
    }
}

/// Why the status could not be read: an unknown receipt number, or the
/// failure (with 다시 시도).
fn status_error(error: ApiError, on_retry: Callback<()>) -> impl IntoView {
    let missing = matches!(&error, ApiError::Rejected { code: c, .. } if c == code::NOT_FOUND);
    if missing {
        Either::Left(view! {
            <div class="notice notice--error" data-testid="status-not-found">
                <h3 class="notice__title">"접수번호를 찾을 수 없어요"</h3>
                <p class="notice__text">"접수번호를 다시 확인해 주세요. 신청한 카카오 계정으로 열어야 볼 수 있어요."</p>
            </div>
        })
    } else {
        Either::Right(view! { <ErrorNotice error on_retry /> })
    }
}

/// A filed claim: its facts, where it is now, and the steps to payment.
fn receipt_view(r: DamageClaimReceipt) -> impl IntoView {
    let now = r.status;
    let at = ORDER.iter().position(|x| *x == now);
    let rejected = now == DamageClaimStatus::Rejected;
    let steps = ORDER
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let place = match at {
                Some(a) if i < a => "done",
                Some(a) if i == a => "current",
                _ => "todo",
            };
            view! {
                <li class="track__step" data-state=place aria-current=(place == "current").then_some("step")>
                    {s.label()}
                </li>
            }
        })
        .collect_view();
    view! {
        <dl class="held status__facts">
            <div class="held__row">
                <dt>"접수번호"</dt>
                <dd data-testid="status-receipt-no">{r.receipt_no}</dd>
            </div>
            <div class="held__row">
                <dt>"접수일"</dt>
                <dd>{kst_day_time(r.submitted_at)}</dd>
            </div>
            <div class="held__row">
                <dt>"지원금"</dt>
                <dd>{support_text(Some(r.support))}</dd>
            </div>
        </dl>
        <p class="status__now">
            "현재 상태: "
            <strong class="status__label" data-testid="claim-status" data-status=slug(now)>
                {now.label()}
            </strong>
        </p>
        <p class="panel__text">{explain(now)}</p>
        {if rejected {
            Either::Left(view! {
                <div class="notice notice--error" data-testid="claim-reason">
                    <h3 class="notice__title">"반려 사유"</h3>
                    <p class="notice__text">
                        {r.reason.unwrap_or_else(|| "사유를 확인하고 있어요.".to_string())}
                    </p>
                </div>
            })
        } else {
            Either::Right(view! { <ol class="track" aria-label="진행 단계">{steps}</ol> })
        }}
        <div aria-live="polite" class="sr-only">{now.label()}</div>
    }
}
