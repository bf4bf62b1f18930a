//! The KakaoTalk channel message cash (채널 메시지 발송 캐시, 50,000원), once
//! per business. Its own Idempotency-Key per business, made on the first tap
//! and kept on the device until the server answers.

use leptos::prelude::*;
use maeum_contract::business::{Brn, ChannelCash, FieldError, CHANNEL_CASH_WON};
use maeum_contract::money::format_won;
use maeum_contract::time::kst_date;

use crate::api::{self, ApiError};
use crate::browser::new_idempotency_key;
use crate::business_draft::{self as draft, CashRecord};
use crate::components::erased::{maybe, on_click, pick, text, when};
use crate::components::error_summary::ErrorSummary;
use crate::components::field::{Control, Field};
use crate::state::AppCtx;

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
    // Granted before (kept on the device), or by the last tap.
    let kept = known
        .as_ref()
        .and_then(|b| draft::cash_record(b.digits()))
        .and_then(|r| r.granted);
    let fixed = known.map(|b| b.digits().to_string());
    let ask = fixed.is_none();

    // One request per tap under the business's kept key. `Invalid` shows at
    // the field; a refusal that changes the whole screen is the app's.
    let send = Action::new_local(move |record: &CashRecord| {
        let record = record.clone();
        let reply = api::business::channel_cash(&record.brn, &record.key);
        async move {
            let result = reply.await;
            match &result {
                Ok(granted) => {
                    draft::save_cash_record(&CashRecord {
                        granted: Some(granted.clone()),
                        ..record
                    });
                    ctx.announce(granted_text(granted));
                }
                Err(ApiError::Invalid(list)) => {
                    errors.try_set(list.clone());
                }
                Err(e) => {
                    ctx.handle(e);
                }
            }
            result
        }
    });
    let granted = Memo::new(move |_| match send.value().get() {
        Some(Ok(g)) => Some(g),
        _ => kept.clone(),
    });
    let sending = send.pending();

    let claim = {
        let fixed = fixed.clone();
        move || {
            if sending.get_untracked() {
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
            if record.granted.is_some() {
                send.value().set(record.granted.map(Ok));
                return;
            }
            draft::save_cash_record(&record);
            send.dispatch_local(record);
        }
    };
    let brn_error = Signal::derive(move || errors.read().first().map(|x| x.message.clone()));
    let granted = move || granted.get();
    let sending = move || sending.get();
    let failed = move |f: fn(&ApiError) -> &'static str| match &*send.value().read() {
        Some(Err(e)) if !matches!(e, ApiError::Invalid(_)) => f(e),
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
