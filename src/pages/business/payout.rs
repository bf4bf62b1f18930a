//! Step 4: the payout account (bank from the KFTC list, account number, holder).
//! The account number is kept in this tab only, never in localStorage.

use leptos::prelude::*;
use maeum_contract::business::BANKS;

use super::info::setter;
use super::Biz;
use crate::components::field::{Control, Field};

pub(super) fn view(biz: Biz) -> impl IntoView {
    let d = biz.draft.get_untracked();
    let forgotten = (!d.bank_code.is_empty() && d.account_no.is_empty()).then(|| {
        view! {
            <div class="notice notice--info" data-testid="account-forgotten">
                <p class="notice__text">
                    "계좌번호는 안전을 위해 이 기기에 오래 저장하지 않아요. 계좌번호를 다시 적어 주세요."
                </p>
            </div>
        }
    });
    view! {
        {forgotten}
        <Field
            name="payout.bank_code"
            label="은행"
            error=biz.error_for("payout.bank_code")
            value=d.bank_code
            on_input=setter(biz, |d, v| d.bank_code = v)
            control=Control::Select(BANKS)
        />
        <Field
            name="payout.account_no"
            label="계좌번호"
            hint="통장에 적힌 번호를 그대로 적어 주세요. 하이픈(-)은 넣어도 돼요."
            error=biz.error_for("payout.account_no")
            value=d.account_no
            on_input=setter(biz, |d, v| d.account_no = v)
            control=Control::Numeric
        />
        <Field
            name="payout.holder"
            label="예금주"
            hint="상호나 대표자 이름의 계좌여야 해요."
            error=biz.error_for("payout.holder")
            value=d.holder
            on_input=setter(biz, |d, v| d.holder = v)
            autocomplete="name"
        />
    }
}
