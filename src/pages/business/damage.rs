//! Step 2: the damage (services, paid or free, period, loss with the live
//! support amount, description with a character counter).

use leptos::prelude::*;
use maeum_contract::business::{Service, MAX_DESCRIPTION_CHARS};
use maeum_contract::money::group_thousands;

use super::info::setter;
use super::Biz;
use crate::business_draft::{service_slug, support_label};
use crate::components::erased::{on_event, pick, text, when, OnEvent};
use crate::components::field::{field_dom_id, Control, Field, FieldSet};

/// The outage window (`OUTAGE_FIRST_DAY..=OUTAGE_LAST_DAY` of the contract).
const FIRST_DAY: &str = "2022-10-15";
const LAST_DAY: &str = "2022-10-20";

/// The support the typed loss leads to, from the contract's tiers, updated as
/// the amount is typed ("예상 지원금: 30,000원" / "피해 입증 후 추가 지원").
/// Announced politely: the text only changes when the tier does.
#[component]
pub fn SupportPreview(#[prop(into)] loss: Signal<String>) -> impl IntoView {
    let shown = move || support_label(&loss.read());
    view! {
        <p
            class=pick(move || if shown().is_some() { "support support--amount" } else { "support" })
            aria-live="polite"
            data-testid="support-preview"
        >
            {text(move || shown().unwrap_or_else(|| "금액을 적으면 예상 지원금을 바로 보여 드려요.".to_string()))}
        </p>
    }
}

/// `1,000자 중 12자`, or how far over the limit the text is.
fn counter_text(n: usize) -> String {
    let max = group_thousands(MAX_DESCRIPTION_CHARS as u64);
    if n > MAX_DESCRIPTION_CHARS {
        format!("{max}자를 넘었어요 ({}자)", group_thousands(n as u64))
    } else {
        format!("{max}자 중 {}자", group_thousands(n as u64))
    }
}

pub(super) fn view(biz: Biz) -> impl IntoView {
    let d = biz.draft.get_untracked();
    let other = move || biz.draft.read().services.contains(&Service::Other);
    let loss = Signal::derive(move || biz.draft.read().loss.clone());
    let chars = move || biz.draft.read().description.chars().count();

    let services = Service::ALL
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            let id = if i == 0 {
                field_dom_id("services")
            } else {
                format!("{}-{}", field_dom_id("services"), service_slug(s))
            };
            let toggle = move |ev: leptos::ev::Event| {
                let on = event_target_checked(&ev);
                biz.edit(|d| {
                    d.services.retain(|x| *x != s);
                    if on {
                        d.services.push(s);
                    }
                });
            };
            choice(
                id,
                "checkbox",
                "services",
                service_slug(s),
                s.label(),
                d.services.contains(&s),
                on_event(toggle),
            )
        })
        .collect_view();
    let paid = [
        (true, "유료 서비스", "paid"),
        (false, "무료 서비스", "free"),
    ]
    .into_iter()
    .map(|(value, label, slug)| {
        let id = if value {
            field_dom_id("paid_service")
        } else {
            format!("{}-free", field_dom_id("paid_service"))
        };
        choice(
            id,
            "radio",
            "paid_service",
            slug,
            label,
            d.paid == Some(value),
            on_event(move |_| biz.edit(|d| d.paid = Some(value))),
        )
    })
    .collect_view();

    view! {
        <FieldSet
            name="services"
            legend="장애로 피해를 입은 서비스"
            hint="해당하는 것을 모두 골라 주세요."
            error=biz.error_for("services")
        >
            <div class="choices">{services}</div>
            <div class="choice__reveal" hidden=when(move || !other())>
                <Field
                    name="services_other"
                    label="기타 서비스 이름"
                    error=biz.error_for("services_other")
                    value=d.services_other.clone()
                    on_input=setter(biz, |d, v| d.services_other = v)
                />
            </div>
        </FieldSet>
        <FieldSet
            name="paid_service"
            legend="피해를 입은 서비스는 유료였나요, 무료였나요?"
            hint="카카오에 돈을 내고 쓰던 서비스라면 유료예요. 예: 선물하기 입점, 카카오T 가맹"
            error=biz.error_for("paid_service")
        >
            <div class="choices">{paid}</div>
        </FieldSet>
        <FieldSet name="period" legend="피해 기간" hint="2022년 10월 15일부터 10월 20일 사이의 날짜를 골라 주세요.">
            <div class="period">
                <Field
                    name="period_from"
                    label="시작일"
                    error=biz.error_for("period_from")
                    value=d.period_from.clone()
                    on_input=setter(biz, |d, v| d.period_from = v)
                    control=Control::Date { min: FIRST_DAY, max: LAST_DAY }
                    narrow=true
                />
                <Field
                    name="period_to"
                    label="종료일"
                    error=biz.error_for("period_to")
                    value=d.period_to.clone()
                    on_input=setter(biz, |d, v| d.period_to = v)
                    control=Control::Date { min: FIRST_DAY, max: LAST_DAY }
                    narrow=true
                />
            </div>
        </FieldSet>
        <Field
            name="loss_won"
            label="장애로 줄어든 매출 (원)"
            hint="원 단위 숫자로 적어 주세요. 쉼표는 넣어도 돼요. 예: 450,000"
            error=biz.error_for("loss_won")
            value=d.loss.clone()
            on_input=setter(biz, |d, v| d.loss = v)
            control=Control::Numeric
            narrow=true
            extra=true
        />
        <div class="field__extra" id=format!("{}-extra", field_dom_id("loss_won"))>
            <SupportPreview loss />
        </div>
        <Field
            name="description"
            label="피해 내용"
            hint="장애로 어떤 일이 있었는지 적어 주세요. 예: 주문 알림이 오지 않아 예약 손님을 받지 못했어요."
            error=biz.error_for("description")
            value=d.description.clone()
            on_input=setter(biz, |d, v| d.description = v)
            control=Control::TextArea
            extra=true
        />
        <div class="field__extra" id=format!("{}-extra", field_dom_id("description"))>
            <p
                class=pick(move || if chars() > MAX_DESCRIPTION_CHARS { "counter counter--over" } else { "counter" })
                data-testid="description-count"
            >
                {text(move || counter_text(chars()))}
            </p>
        </div>
    }
}

/// One checkbox or radio with its label (the whole row is the target).
pub(super) fn choice(
    id: String,
    kind: &'static str,
    name: &'static str,
    value: &'static str,
    label: &'static str,
    checked: bool,
    on_change: OnEvent,
) -> impl IntoView {
    view! {
        <div class="choice">
            <input
                class="choice__input"
                type=kind
                id=id.clone()
                name=name
                value=value
                checked=checked
                data-testid=format!("{name}-{value}")
                on:change=on_change
            />
            <label class="choice__label" for=id>{label}</label>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use maeum_contract::business::{OUTAGE_FIRST_DAY, OUTAGE_LAST_DAY};

    #[test]
    fn date_inputs_are_limited_to_the_contract_window() {
        assert_eq!(super::FIRST_DAY, OUTAGE_FIRST_DAY.to_string());
        assert_eq!(super::LAST_DAY, OUTAGE_LAST_DAY.to_string());
    }
}
