//! Step 7: the confirmation of the claim just filed: 접수번호, what happens
//! next, the way to its status page, and the channel message cash.

use leptos::either::Either;
use leptos::prelude::*;
use maeum_contract::business::Support;
use maeum_contract::money::format_won;
use maeum_contract::time::kst_day_time;

use super::cash::ChannelCashPanel;
use crate::business_draft::receipts;
use crate::components::error_summary::set_title;

pub fn support_text(s: Option<Support>) -> String {
    match s {
        Some(Support::Won { won }) => format!("지원금 {}", format_won(won)),
        Some(Support::Review { .. }) => "증빙을 검토한 뒤 추가 지원 금액을 정해요".to_string(),
        None => "심사 후 알려 드려요".to_string(),
    }
}

pub(super) fn done_page() -> impl IntoView {
    set_title("신청 접수 완료 - 소상공인 피해 지원 | 카카오 나우", false);
    let Some(r) = receipts().into_iter().next() else {
        return Either::Left(view! {
            <section class="panel" data-testid="receipt-missing" aria-labelledby="receipt-title">
                <h2 class="panel__title" id="receipt-title" tabindex="-1" data-focus="">"접수한 신청이 없어요"</h2>
                <p class="panel__text">"이 기기에서 접수한 피해 지원 신청이 없어요."</p>
                <a class="btn btn--primary" href="/business">"피해 지원 신청하기"</a>
            </section>
        });
    };
    let status_path = format!("/business/claims/{}", r.receipt_no);
    let when = r.submitted_at.map(kst_day_time);
    Either::Right(view! {
        <section class="panel receipt" data-testid="receipt" aria-labelledby="receipt-title">
            <h2 class="panel__title" id="receipt-title" tabindex="-1" data-focus="">"피해 지원 신청이 접수됐어요"</h2>
            <div class="receipt__box">
                <p class="receipt__label">"접수번호"</p>
                <p class="receipt__no" data-testid="receipt-no">{r.receipt_no.clone()}</p>
                <p class="receipt__support" data-testid="receipt-support">{support_text(r.support)}</p>
                {when.map(|w| view! { <p class="receipt__when">{w} " 접수"</p> })}
            </div>
            <p class="panel__text">"접수번호를 메모하거나 이 화면을 캡처해 두세요. 마음 패키지 화면에서도 언제든 진행 상황을 볼 수 있어요."</p>
            <h3 class="receipt__heading">"이제 이렇게 진행돼요"</h3>
            <ol class="steps">
                <li>"올려 주신 서류로 피해 내용을 검토해요. 보통 영업일 기준 7일 안에 끝나요."</li>
                <li>"승인되면 적어 주신 계좌로 지원금을 보내 드려요."</li>
                <li>"서류가 더 필요하면 적어 주신 연락처로 알려 드려요."</li>
            </ol>
            <a class="btn btn--primary btn--block" href=status_path data-testid="status-link">"진행 상황 보기"</a>
        </section>
        <ChannelCashPanel brn=Some(r.brn.clone()) />
        <p class="biz__home"><a href="/" data-testid="home-link">"마음 패키지로 돌아가기"</a></p>
    })
}
