//! Step 1: the business (사업자등록번호, 상호, 대표자명, 연락처, 이메일).

use leptos::prelude::*;

use super::Biz;
use crate::business_draft::Draft;
use crate::components::field::{Control, Field};

/// An `on_input` that writes one answer into the draft (and saves it).
pub(super) fn setter(biz: Biz, set: fn(&mut Draft, String)) -> Callback<String> {
    Callback::new(move |v: String| biz.edit(|d| set(d, v)))
}

pub(super) fn view(biz: Biz) -> impl IntoView {
    let d = biz.draft.get_untracked();
    let intro = (!d.started()).then(|| {
        view! {
            <div class="notice notice--info biz__intro" data-testid="business-intro">
                <h3 class="notice__title">"신청하기 전에 준비해 주세요"</h3>
                <ul class="biz__list">
                    <li>"사업자등록번호와 지급받을 계좌"</li>
                    <li>"소상공인 확인서, 매출 감소 증빙 같은 서류의 사진이나 PDF"</li>
                    <li>"매출 손실이 300,000원 이하면 30,000원, 500,000원 이하면 50,000원을 드려요."</li>
                    <li>"손실이 500,000원을 넘으면 증빙을 검토한 뒤 추가로 지원해요."</li>
                </ul>
                <p class="notice__text">"적는 내용은 이 기기에 바로 저장돼요. 화면을 닫아도 이어서 쓸 수 있어요."</p>
            </div>
        }
    });
    view! {
        {intro}
        <Field
            name="brn"
            label="사업자등록번호"
            hint="사업자등록증에 있는 10자리 숫자예요. 예: 124-81-00998"
            error=biz.error_for("brn")
            value=d.brn
            on_input=setter(biz, |d, v| d.brn = v)
            control=Control::Numeric
            narrow=true
        />
        <Field
            name="business_name"
            label="상호"
            hint="사업자등록증에 적힌 가게나 회사 이름"
            error=biz.error_for("business_name")
            value=d.business_name
            on_input=setter(biz, |d, v| d.business_name = v)
            autocomplete="organization"
        />
        <Field
            name="representative"
            label="대표자명"
            error=biz.error_for("representative")
            value=d.representative
            on_input=setter(biz, |d, v| d.representative = v)
            autocomplete="name"
        />
        <Field
            name="phone"
            label="연락처"
            hint="휴대전화나 가게 전화번호. 예: 010-1234-5678, 02-123-4567"
            error=biz.error_for("phone")
            value=d.phone
            on_input=setter(biz, |d, v| d.phone = v)
            control=Control::Tel
            autocomplete="tel"
            narrow=true
        />
        <Field
            name="email"
            label="이메일 (선택)"
            hint="적으면 심사 결과를 이메일로도 알려 드려요."
            error=biz.error_for("email")
            value=d.email
            on_input=setter(biz, |d, v| d.email = v)
            control=Control::Email
            autocomplete="email"
        />
    }
}
