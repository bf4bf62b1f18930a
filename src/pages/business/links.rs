//! The way into the journey from the package page: start or continue the
//! damage claim, the status of claims filed on this device, the channel cash.

use leptos::prelude::*;

use crate::business_draft::{receipts, saved_draft, SavedDraft};

#[component]
pub fn BusinessEntry() -> impl IntoView {
    let draft = saved_draft();
    let saved = receipts();
    let filed = saved
        .iter()
        .map(|r| {
            let label = if r.business_name.is_empty() {
                r.receipt_no.clone()
            } else {
                format!("{} · {}", r.business_name, r.receipt_no)
            };
            view! {
                <li>
                    <a
                        class="biz-entry__receipt"
                        href=format!("/business/claims/{}", r.receipt_no)
                        data-testid="receipt-link"
                        data-receipt=r.receipt_no.clone()
                    >
                        {label}
                        <span class="biz-entry__more">" 진행 상황 보기"</span>
                    </a>
                </li>
            }
        })
        .collect_view();
    view! {
        <section class="biz-entry" aria-labelledby="biz-entry-title" data-testid="business-entry">
            <h2 class="section__title" id="biz-entry-title">"소상공인 피해 지원"</h2>
            // A claim filed offline and left goes out when the journey opens: say so.
            <p class="biz-entry__text" data-testid="business-entry-text">
                {if draft == SavedDraft::Queued {
                    "아직 보내지 못한 피해 지원 신청이 있어요. 열면 바로 보낼게요."
                } else {
                    "10월 15일 장애로 매출이 줄었다면 피해 지원금을 신청할 수 있어요. 채널 메시지 발송 캐시 50,000원도 받을 수 있어요."
                }}
            </p>
            {(!saved.is_empty()).then(|| view! { <ul class="biz-entry__list">{filed}</ul> })}
            <div class="biz-entry__actions">
                <a class="btn btn--primary btn--block" href="/business" data-testid="business-link">
                    {match draft {
                        SavedDraft::None => "피해 지원 신청하기",
                        SavedDraft::Started => "피해 지원 신청 이어서 하기",
                        SavedDraft::Queued => "피해 지원 신청 보내기",
                    }}
                </a>
                <a class="btn btn--secondary btn--block" href="/business/cash" data-testid="cash-link">
                    "채널 메시지 캐시 받기"
                </a>
            </div>
        </section>
    }
}
