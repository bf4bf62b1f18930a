//! Step 5: consent to the collection and use of personal data (개인정보 보호법
//! 제15조 제2항): purpose, items, retention period, and the right to refuse
//! with its consequence, for the required consent and, separately, for the
//! optional one. Neither box is ticked in advance.

use leptos::prelude::*;

use super::damage::choice;
use super::Biz;
use crate::components::erased::on_event;
use crate::components::field::{field_dom_id, FieldSet};

/// One consent's four statutory items.
fn terms(
    testid: &'static str,
    purpose: &'static str,
    items: &'static str,
    period: &'static str,
    refusal: &'static str,
) -> impl IntoView {
    view! {
        <dl class="terms" data-testid=testid>
            <div class="terms__row">
                <dt>"수집·이용 목적"</dt>
                <dd>{purpose}</dd>
            </div>
            <div class="terms__row">
                <dt>"수집 항목"</dt>
                <dd>{items}</dd>
            </div>
            <div class="terms__row">
                <dt>"보유·이용 기간"</dt>
                <dd><strong class="terms__key">{period}</strong></dd>
            </div>
            <div class="terms__row">
                <dt>"동의를 거부할 권리와 불이익"</dt>
                <dd>{refusal}</dd>
            </div>
        </dl>
    }
}

pub(super) fn view(biz: Biz) -> impl IntoView {
    let d = biz.draft.get_untracked();
    let required_id = field_dom_id("consents.privacy_required");
    let marketing_id = field_dom_id("consents.marketing");
    view! {
        <p class="biz__lead">"피해 지원을 심사하고 지원금을 보내려면 아래 개인정보가 필요해요. 읽어 보고 동의해 주세요."</p>
        <FieldSet
            name="consents.privacy_required"
            legend="[필수] 개인정보 수집·이용 동의"
            error=biz.error_for("consents.privacy_required")
        >
            {terms(
                "consent-required-terms",
                "카카오 서비스 장애 소상공인 피해 지원금 심사와 지급, 신청 결과 안내",
                "사업자등록번호, 상호, 대표자명, 연락처, 이메일(적은 경우), 피해 내용과 매출 손실 금액, 증빙 서류, 지급 계좌(은행, 계좌번호, 예금주)",
                "지원금 지급이 끝난 날부터 5년 동안 보관한 뒤 파기해요 (관계 법령에 따른 보존 기간).",
                "동의하지 않을 수 있어요. 다만 동의하지 않으면 피해 지원을 신청할 수 없어요.",
            )}
            <div class="consent__box">
                {choice(
                    required_id,
                    "checkbox",
                    "consent",
                    "required",
                    "위 내용을 읽었고, 개인정보 수집·이용에 동의해요. (필수)",
                    d.privacy,
                    on_event(move |ev| {
                        let on = event_target_checked(&ev);
                        biz.edit(|d| d.privacy = on);
                    }),
                )}
            </div>
        </FieldSet>
        <FieldSet
            name="consents.marketing"
            legend="[선택] 소상공인 지원 혜택 안내를 위한 수집·이용 동의"
        >
            {terms(
                "consent-optional-terms",
                "카카오의 소상공인 지원 프로그램과 혜택 안내",
                "상호, 연락처, 이메일(적은 경우)",
                "동의를 철회할 때까지, 또는 이번 지원 사업이 끝나고 1년 뒤 파기해요.",
                "동의하지 않아도 돼요. 동의하지 않아도 피해 지원 신청과 지급에는 아무 영향이 없어요.",
            )}
            <div class="consent__box">
                {choice(
                    marketing_id,
                    "checkbox",
                    "consent",
                    "optional",
                    "혜택 안내를 위한 개인정보 수집·이용에 동의해요. (선택)",
                    d.marketing,
                    on_event(move |ev| {
                        let on = event_target_checked(&ev);
                        biz.edit(|d| d.marketing = on);
                    }),
                )}
            </div>
        </FieldSet>
    }
}
