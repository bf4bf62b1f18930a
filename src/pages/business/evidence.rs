//! Step 3: evidence by category. Each file is checked in the browser (count,
//! size, first bytes), uploaded with a real progress bar, retried by itself,
//! and can be removed. Uploaded files survive a reload (their upload ids are
//! in the draft).

use leptos::prelude::*;
use maeum_contract::business::{EvidenceCategory, MAX_EVIDENCE_FILES, TIER2_MAX_LOSS};
use wasm_bindgen::JsCast;

use super::Biz;
use crate::business_draft::{category_slug, size_label, EvidenceFile, FileState};
use crate::components::erased::{on_click, pick, text, when};
use crate::components::field::{field_dom_id, FieldError};
use crate::components::file_drop::FileDrop;

fn hint(c: EvidenceCategory) -> &'static str {
    match c {
        EvidenceCategory::SmallBusinessCert => "소상공인시장진흥공단에서 발급한 소상공인 확인서",
        EvidenceCategory::SalesLoss => {
            "장애 기간의 매출이 줄어든 것을 보여 주는 POS 매출 내역, 카드 매출 전표 등"
        }
        EvidenceCategory::ServiceUse => "카카오톡 채널 관리자 화면, 선물하기 판매 내역 등의 캡처",
        EvidenceCategory::Bankbook => "지급받을 계좌의 통장 사본 (상호나 대표자 이름의 계좌)",
    }
}

/// `data-state` of a file row.
fn state_name(s: &FileState) -> &'static str {
    match s {
        FileState::Interrupted => "interrupted",
        FileState::Queued => "queued",
        FileState::Uploading(_) => "uploading",
        FileState::Waiting(_) => "waiting",
        FileState::Done => "done",
        FileState::Failed { retry: true, .. } => "failed",
        FileState::Failed { retry: false, .. } => "refused",
    }
}

fn status_text(s: &FileState) -> String {
    match s {
        FileState::Interrupted => "올리기가 중단됐어요".into(),
        FileState::Queued => "올릴 차례를 기다리는 중".into(),
        FileState::Uploading(p) => format!("올리는 중 {p}%"),
        FileState::Waiting(n) if !crate::network::online() => {
            format!("인터넷 연결을 기다리는 중 (다시 시도 {n}회째)")
        }
        FileState::Waiting(n) => format!("연결이 끊겨 다시 올리는 중 ({n}회째)"),
        FileState::Done => "올리기 완료".into(),
        FileState::Failed { .. } => "올리지 못했어요".into(),
    }
}

/// Moves focus to a category's 파일 선택 button (after its row is removed).
fn focus_chooser(slug: &str) {
    let el = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| {
            d.query_selector(&format!("[data-testid=\"choose-{slug}\"]"))
                .ok()
                .flatten()
        })
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
    if let Some(el) = el {
        let _ = el.focus();
    }
}

/// One file of the claim, drawn from its current state (the list re-draws in
/// place as uploads progress).
fn file_row(biz: Biz, f: &EvidenceFile) -> impl IntoView {
    let key = f.key;
    let slug = category_slug(f.category);
    let progress = match f.state {
        FileState::Uploading(p) => Some(p),
        FileState::Queued | FileState::Waiting(_) => Some(0),
        _ => None,
    };
    let error = match &f.state {
        FileState::Failed { message, .. } => Some(message.clone()),
        FileState::Interrupted => {
            Some("화면을 다시 열어 올리기가 멈췄어요. 파일을 다시 골라 주세요.".to_string())
        }
        _ => None,
    };
    let can_retry = matches!(f.state, FileState::Failed { retry: true, .. });
    let no_error = error.is_none();
    let name = f.name.clone();
    view! {
        <li
            class="file"
            data-testid="evidence-file"
            data-state=state_name(&f.state)
            data-category=slug
            data-upload-id=f.upload_id.clone()
        >
            <div class="file__main">
                <p class="file__name" data-testid="file-name">{f.name.clone()}</p>
                <p class="file__meta">
                    {size_label(f.size)} " · "
                    <span data-testid="file-status">{status_text(&f.state)}</span>
                </p>
                <progress
                    class="file__progress"
                    max="100"
                    value=progress.unwrap_or(0).to_string()
                    hidden=progress.is_none()
                    aria-label=format!("{name} 올리기 진행률")
                    data-testid="upload-progress"
                ></progress>
                <p class="field__error file__error" data-testid="file-error" hidden=no_error>
                    <span class="sr-only">"오류: "</span>
                    {error.unwrap_or_default()}
                </p>
            </div>
            <div class="file__actions">
                <button
                    type="button"
                    class="btn btn--secondary file__btn"
                    data-testid="file-retry"
                    hidden=!can_retry
                    on:click=on_click(move |_| biz.retry_file(key))
                >
                    "다시 올리기"
                </button>
                <button
                    type="button"
                    class="btn btn--secondary file__btn"
                    data-testid="file-remove"
                    aria-label=format!("{name} 삭제")
                    on:click=on_click(move |_| {
                        biz.remove_file(key);
                        focus_chooser(slug);
                    })
                >
                    "삭제"
                </button>
            </div>
        </li>
    }
}

fn group(biz: Biz, c: EvidenceCategory, needed: Signal<bool>) -> impl IntoView {
    let slug = category_slug(c);
    let title_id = format!("evidence-{slug}-title");
    let labelled_by = title_id.clone();
    let files = move || {
        biz.draft
            .read()
            .evidence
            .iter()
            .filter(|f| f.category == c)
            .map(|f| file_row(biz, f))
            .collect_view()
    };
    let required = move || c == EvidenceCategory::SalesLoss && needed.get();
    view! {
        <section class="evidence__group" aria-labelledby=labelled_by data-testid=format!("evidence-{slug}")>
            <h3 class="evidence__title" id=title_id>
                {c.label()} " "
                <span class=pick(move || if required() { "badge badge--required" } else { "badge" })>
                    {pick(move || if required() { "필수" } else { "선택" })}
                </span>
            </h3>
            <p class="field__hint">{hint(c)}</p>
            <FileDrop
                slug=slug
                what=c.label()
                on_files=Callback::new(move |files| biz.add_files(c, files))
            />
            <ul class="files" data-testid=format!("files-{slug}")>{files}</ul>
        </section>
    }
}

pub(super) fn view(biz: Biz) -> impl IntoView {
    let needed = Signal::derive(move || {
        biz.draft
            .read()
            .loss_won()
            .is_some_and(|l| l > TIER2_MAX_LOSS)
    });
    let count = move || {
        biz.draft
            .read()
            .evidence
            .iter()
            .filter(|f| f.is_done())
            .count()
    };
    let error = biz.error_for("evidence");
    let groups = EvidenceCategory::ALL
        .into_iter()
        .map(|c| group(biz, c, needed))
        .collect_view();
    view! {
        <p class="biz__lead">
            "사진(JPG, PNG, HEIC)이나 PDF 파일을 올려 주세요. 파일 하나는 10MB까지, 모두 "
            {MAX_EVIDENCE_FILES} "개까지 올릴 수 있어요."
        </p>
        <div class="notice notice--info" data-testid="sales-loss-required" hidden=when(move || !needed.get())>
            <p class="notice__text">
                <strong>"매출 손실이 500,000원을 넘어 매출 감소 증빙이 꼭 필요해요."</strong>
                " 증빙을 검토한 뒤 추가 지원 금액을 정해요."
            </p>
        </div>
        <div class="field evidence" class:field--error=when(move || error.read().is_some()) id=field_dom_id("evidence") tabindex="-1" data-field="evidence">
            <FieldError id=field_dom_id("evidence") error=error />
            <p class="evidence__count" data-testid="evidence-count">
                {text(move || format!("올린 파일 {}개 / 최대 {}개", count(), MAX_EVIDENCE_FILES))}
            </p>
            {groups}
        </div>
        <div class="sr-only" aria-live="polite" aria-atomic="true" data-testid="upload-announcer">
            {text(move || biz.said.get())}
        </div>
    }
}
