//! Step 6: check your answers, each with a 변경 link that returns here, then
//! submit (one Idempotency-Key per claim, kept with the draft; a failed
//! network send stays queued on the device).

use leptos::prelude::*;
use maeum_contract::business::{bank_name, Brn, Service};
use maeum_contract::money::format_won;

use super::store::Submit;
use super::Biz;
use crate::api::ApiError;
use crate::business_draft::{date_label, mask_account, support_label, Draft, Step};
use crate::components::erased::{maybe, on_click, pick, text, when};

/// One answer: (question, answer, step that asks it, test id).
type Row = (&'static str, String, Step, &'static str);

fn or_none(s: &str) -> String {
    let s = s.trim();
    if s.is_empty() {
        "적지 않음".to_string()
    } else {
        s.to_string()
    }
}

fn rows(d: &Draft) -> Vec<(&'static str, Vec<Row>)> {
    let services = Service::ALL
        .into_iter()
        .filter(|s| d.services.contains(s))
        .map(|s| {
            if s == Service::Other {
                format!("기타 ({})", d.services_other.trim())
            } else {
                s.label().to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(", ");
    let loss = d.loss_won().map_or_else(|| d.loss.clone(), format_won);
    let evidence = {
        let list: Vec<String> = d
            .evidence
            .iter()
            .filter(|f| f.is_done())
            .map(|f| format!("{}: {}", f.category.label(), f.name))
            .collect();
        if list.is_empty() {
            "올리지 않음".to_string()
        } else {
            list.join("\n")
        }
    };
    vec![
        (
            "사업자 정보",
            vec![
                (
                    "사업자등록번호",
                    Brn::parse(&d.brn).map_or_else(|_| d.brn.clone(), |b| b.display()),
                    Step::Info,
                    "brn",
                ),
                (
                    "상호",
                    d.business_name.trim().to_string(),
                    Step::Info,
                    "business_name",
                ),
                (
                    "대표자명",
                    d.representative.trim().to_string(),
                    Step::Info,
                    "representative",
                ),
                ("연락처", d.request().phone, Step::Info, "phone"),
                ("이메일", or_none(&d.email), Step::Info, "email"),
            ],
        ),
        (
            "피해 내용",
            vec![
                ("피해를 입은 서비스", services, Step::Damage, "services"),
                (
                    "서비스 종류",
                    if d.paid == Some(true) {
                        "유료 서비스"
                    } else {
                        "무료 서비스"
                    }
                    .to_string(),
                    Step::Damage,
                    "paid_service",
                ),
                (
                    "피해 기간",
                    format!(
                        "{} ~ {}",
                        date_label(&d.period_from),
                        date_label(&d.period_to)
                    ),
                    Step::Damage,
                    "period",
                ),
                (
                    "줄어든 매출",
                    format!("{loss}\n{}", support_label(&d.loss).unwrap_or_default()),
                    Step::Damage,
                    "loss_won",
                ),
                (
                    "피해 내용",
                    d.description.trim().to_string(),
                    Step::Damage,
                    "description",
                ),
            ],
        ),
        (
            "증빙 서류",
            vec![("올린 파일", evidence, Step::Evidence, "evidence")],
        ),
        (
            "지급 계좌",
            vec![
                (
                    "은행",
                    bank_name(&d.bank_code).unwrap_or("").to_string(),
                    Step::Payout,
                    "bank",
                ),
                (
                    "계좌번호",
                    mask_account(&d.account_no),
                    Step::Payout,
                    "account_no",
                ),
                (
                    "예금주",
                    d.holder.trim().to_string(),
                    Step::Payout,
                    "holder",
                ),
            ],
        ),
        (
            "개인정보 동의",
            vec![
                (
                    "수집·이용 (필수)",
                    if d.privacy {
                        "동의함"
                    } else {
                        "동의하지 않음"
                    }
                    .to_string(),
                    Step::Consent,
                    "privacy",
                ),
                (
                    "혜택 안내 (선택)",
                    if d.marketing {
                        "동의함"
                    } else {
                        "동의하지 않음"
                    }
                    .to_string(),
                    Step::Consent,
                    "marketing",
                ),
            ],
        ),
    ]
}

pub(super) fn view(biz: Biz) -> impl IntoView {
    let d = biz.draft.get_untracked();
    let sections = rows(&d)
        .into_iter()
        .map(|(heading, rows)| {
            let rows = rows
                .into_iter()
                .map(|(question, answer, step, testid)| {
                    view! {
                        <div class="cya__row">
                            <dt class="cya__key">{question}</dt>
                            <dd class="cya__value" data-testid=format!("answer-{testid}")>{answer}</dd>
                            <dd class="cya__action">
                                <a
                                    class="cya__change"
                                    href=format!("{}?from=check", step.path())
                                    data-testid=format!("change-{testid}")
                                >
                                    "변경"
                                    <span class="sr-only">" " {question}</span>
                                </a>
                            </dd>
                        </div>
                    }
                })
                .collect_view();
            view! {
                <h3 class="cya__heading">{heading}</h3>
                <dl class="cya">{rows}</dl>
            }
        })
        .collect_view();

    let is = move |f: fn(&Submit) -> bool| f(&biz.submit.read());
    let receipt = move || match biz.submit.get() {
        Submit::Conflict(r) => r,
        _ => None,
    };
    let failed = move |f: fn(&ApiError) -> &'static str| match biz.submit.get() {
        Submit::Failed(e) => f(&e),
        _ => "",
    };
    // One polite live region says what happened; the notices below show it.
    let said = move || match biz.submit.get() {
        Submit::Sending => "보내는 중이에요.",
        Submit::Queued => "네트워크가 돌아오면 자동으로 접수해요.",
        Submit::Conflict(_) => "이미 신청한 사업자예요.",
        Submit::Failed(_) => "신청서를 보내지 못했어요.",
        Submit::Idle => "",
    };
    let sending = move || is(|s| *s == Submit::Sending);
    view! {
        <p class="biz__lead">"적은 내용이 맞는지 확인해 주세요. 고칠 내용이 있으면 변경을 눌러 주세요."</p>
        {sections}
        <h3 class="cya__heading">"신청하기"</h3>
        <p class="biz__lead">"신청하면 적은 내용과 올린 서류로 피해 지원을 심사해요. 사실과 다르면 지원금이 지급되지 않을 수 있어요."</p>
        <p class="sr-only" aria-live="polite" data-testid="submit-said">{pick(said)}</p>
        <div class="notice notice--info" data-testid="submit-queued" hidden=when(move || !is(|s| *s == Submit::Queued))>
            <h3 class="notice__title">"네트워크가 돌아오면 자동으로 접수해요"</h3>
            <p class="notice__text">
                "인터넷 연결이 끊겨 아직 보내지 못했어요. 적은 내용은 이 기기에 저장돼 있고, 연결되면 같은 신청서를 한 번만 보내요. 이 화면을 닫아도 다음에 열 때 보내요."
            </p>
            <button type="button" class="btn btn--secondary" data-testid="submit-retry" on:click=on_click(move |_| biz.flush())>
                "지금 다시 보내기"
            </button>
        </div>
        <div class="notice notice--error" data-testid="submit-conflict" hidden=when(move || !is(|s| matches!(s, Submit::Conflict(_))))>
            <h3 class="notice__title">"이미 신청한 사업자예요"</h3>
            <p class="notice__text">
                "이 사업자등록번호로 접수된 피해 지원 신청이 있어요. 사업자 하나당 한 번만 신청할 수 있어요."
            </p>
            <p class="notice__text" hidden=when(move || receipt().is_none())>
                "접수번호 " <strong data-testid="conflict-receipt-no">{text(move || receipt().unwrap_or_default())}</strong>
            </p>
            <a
                class="btn btn--secondary"
                href=text(move || format!("/business/claims/{}", receipt().unwrap_or_default()))
                hidden=when(move || receipt().is_none())
                data-testid="conflict-status-link"
            >
                "진행 상황 보기"
            </a>
        </div>
        <div class="notice notice--error" data-testid="error-notice" hidden=when(move || !is(|s| matches!(s, Submit::Failed(_))))>
            <h3 class="notice__title">{pick(move || failed(ApiError::title))}</h3>
            <p class="notice__text">"신청서를 보내지 못했어요. 적은 내용은 그대로 있으니 잠시 후 다시 신청해 주세요."</p>
        </div>
        <div class="biz__actions" hidden=when(move || is(|s| matches!(s, Submit::Queued | Submit::Conflict(_))))>
            <button
                type="button"
                class="btn btn--primary btn--block"
                data-testid="submit"
                aria-disabled=maybe(move || sending().then_some("true"))
                aria-busy=maybe(move || sending().then_some("true"))
                on:click=on_click(move |_| biz.submit())
            >
                {pick(move || if sending() { "보내는 중" } else { "피해 지원 신청하기" })}
            </button>
        </div>
    }
}
