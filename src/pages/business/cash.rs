//! The KakaoTalk channel message cash (채널 메시지 발송 캐시, 50,000원), once
//! per business. Its own Idempotency-Key per business, made on the first tap
//! and kept on the device until the server answers.

use leptos::prelude::*;
use leptos::task::spawn_local;
use maeum_contract::business::{Brn, ChannelCash, FieldError, CHANNEL_CASH_WON};
use maeum_contract::money::format_won;
use maeum_contract::time::kst_date;

use crate::api::{self, ApiError};
use crate::app::AppCtx;
use crate::browser::new_idempotency_key;
use crate::business_draft::{self as draft, CashRecord};
use crate::components::erased::{maybe, on_click, pick, text, when};
use crate::components::error_summary::ErrorSummary;
use crate::components::field::{Control, Field};

#[derive(Clone, Debug, PartialEq)]
enum Cash {
    Idle,
    Sending,
    Granted(ChannelCash),
    Failed(ApiError),
}

fn granted_text(c: &ChannelCash) -> String {
    if c.newly_granted {
        format!(
            "{}을 받았어요. 카카오톡 채널 관리자센터에서 메시지를 보낼 때 쓸 수 있어요.",
            format_won(c.won)
        )
    } else {
        format!(
            "이미 받은 사업자예요. {}에 {}을 받았어요.",
            kst_date(c.granted_at),
            format_won(c.won)
        )
    }
}

/// The channel cash for one business. With `brn` (a filed claim's) it is one
/// button; without, it asks for the 사업자등록번호 first.
#[component]
pub fn ChannelCashPanel(brn: Option<String>) -> impl IntoView {
    let ctx = AppCtx::expect();
    let known = brn.as_deref().and_then(|b| Brn::parse(b).ok());
    let typed = RwSignal::new(String::new());
    let errors: RwSignal<Vec<FieldError>> = RwSignal::new(Vec::new());
    let start = known
        .as_ref()
        .and_then(|b| draft::cash_record(b.digits()))
        .and_then(|r| r.granted)
        .map_or(Cash::Idle, Cash::Granted);
    let state = RwSignal::new(start);
    let fixed = known.map(|b| b.digits().to_string());
    let ask = fixed.is_none();

    let claim = {
        let fixed = fixed.clone();
        move || {
            if state.get_untracked() == Cash::Sending {
                return;
            }
            let digits = match &fixed {
                Some(d) => d.clone(),
                None => match Brn::parse(&typed.get_untracked()) {
                    Ok(b) => b.digits().to_string(),
                    Err(e) => {
                        errors.set(vec![e]);
                        return;
                    }
                },
            };
            errors.set(Vec::new());
            let record = draft::cash_record(&digits).unwrap_or_else(|| CashRecord {
                brn: digits.clone(),
                key: new_idempotency_key(),
                granted: None,
            });
            if let Some(g) = record.granted.clone() {
                state.set(Cash::Granted(g));
                return;
            }
            draft::save_cash_record(&record);
            state.set(Cash::Sending);
            let reply = api::business::channel_cash(&record.brn, &record.key);
            spawn_local(async move {
                match reply.await {
                    Ok(granted) => {
                        draft::save_cash_record(&CashRecord {
                            granted: Some(granted.clone()),
                            ..record
                        });
                        ctx.announce(granted_text(&granted));
                        state.try_set(Cash::Granted(granted));
                    }
                    Err(ApiError::Invalid(list)) => {
                        errors.try_set(list);
                        state.try_set(Cash::Idle);
                    }
                    Err(e) => {
                        if !ctx.handle(&e) {
                            state.try_set(Cash::Failed(e));
                        }
                    }
                }
            });
        }
    };
    let brn_error = Signal::derive(move || errors.read().first().map(|x| x.message.clone()));
    let granted = move || match state.get() {
        Cash::Granted(g) => Some(g),
        _ => None,
    };
    let sending = move || *state.read() == Cash::Sending;
    let failed = move |f: fn(&ApiError) -> &'static str| match state.get() {
        Cash::Failed(e) => f(&e),
        _ => "",
    };
    view! {
        <section class="panel cash" data-testid="channel-cash" aria-labelledby="cash-title">
            {ask.then(|| view! { <ErrorSummary errors=errors /> })}
            <h2 class="panel__title" id="cash-title">"채널 메시지 발송 캐시 " {format_won(CHANNEL_CASH_WON)}</h2>
            <p class="panel__text">
                "소상공인이라면 사업자 하나당 한 번 받을 수 있어요. 카카오톡 채널로 손님에게 메시지를 보낼 때 써요."
            </p>
            {ask.then(|| view! {
                <Field
                    name="brn"
                    label="사업자등록번호"
                    hint="10자리 숫자. 예: 124-81-00998"
                    error=brn_error
                    value=String::new()
                    on_input=Callback::new(move |v| typed.set(v))
                    control=Control::Numeric
                    narrow=true
                />
            })}
            <p
                class="cash__result"
                role="status"
                data-testid="channel-cash-result"
                hidden=when(move || granted().is_none())
            >
                <strong>{text(move || granted().map(|g| granted_text(&g)).unwrap_or_default())}</strong>
            </p>
            <div class="notice notice--error" role="alert" hidden=when(move || failed(ApiError::title).is_empty())>
                <h3 class="notice__title">{pick(move || failed(ApiError::title))}</h3>
                <p class="notice__text">{pick(move || failed(ApiError::message))}</p>
            </div>
            <button
                type="button"
                class="btn btn--primary btn--block"
                data-testid="channel-cash-claim"
                hidden=when(move || granted().is_some())
                aria-busy=maybe(move || sending().then_some("true"))
                on:click=on_click(move |_| claim())
            >
                {pick(move || if sending() { "받는 중" } else { "캐시 받기" })}
            </button>
        </section>
    }
}

/// `/business/cash`: the channel cash on its own.
#[component]
pub fn CashPage() -> impl IntoView {
    crate::components::error_summary::set_title(
        "채널 메시지 발송 캐시 - 소상공인 | 카카오 나우",
        false,
    );
    view! {
        <a class="back-link" href="/" data-testid="back-link">"이전"</a>
        <h2 class="section__title" tabindex="-1" data-focus="">"소상공인 채널 메시지 캐시"</h2>
        <ChannelCashPanel brn=None />
    }
}
