//! Designers' preview (debug builds only; `lib.rs` compiles this module under
//! `cfg(debug_assertions)`, so a release bundle carries neither the bar nor
//! the fixtures).
//!
//! `trunk serve` shows a bar marked 미리보기 at the bottom of the page. It
//! switches the API client between the real backend and in-app fixtures for
//! every state of the page; the whole app then runs unchanged on that data.

mod fixtures;

use std::cell::Cell;

use leptos::prelude::*;
use wasm_bindgen::JsValue;

use crate::api::{storage, ApiError};
use crate::state::AppCtx;

/// Installs the fixtures in place of the network (at mount, before the app
/// asks anything): they answer while a scenario is chosen.
pub fn install() {
    crate::api::responder::install(fixtures::Fixtures);
}

const STORAGE_KEY: &str = "maeum.preview";
/// The fixture token (also the marker the release-bundle test looks for).
pub const FIXTURE_TOKEN: &str = "maeum-preview-fixture";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    BeforeOpen,
    OpeningNow,
    Open,
    AllClaimed,
    SoldOut,
    Ineligible,
    Paused,
    Closed,
    NoToken,
    BackendDown,
    SlowNetwork,
    BizStart,
    BizCheck,
    BizDone,
    BizReviewing,
    BizRejected,
}

impl Scenario {
    pub const ALL: [Scenario; 16] = [
        Scenario::BeforeOpen,
        Scenario::OpeningNow,
        Scenario::Open,
        Scenario::AllClaimed,
        Scenario::SoldOut,
        Scenario::Ineligible,
        Scenario::Paused,
        Scenario::Closed,
        Scenario::NoToken,
        Scenario::BackendDown,
        Scenario::SlowNetwork,
        Scenario::BizStart,
        Scenario::BizCheck,
        Scenario::BizDone,
        Scenario::BizReviewing,
        Scenario::BizRejected,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Scenario::BeforeOpen => "before-open",
            Scenario::OpeningNow => "opening-now",
            Scenario::Open => "open",
            Scenario::AllClaimed => "all-claimed",
            Scenario::SoldOut => "sold-out",
            Scenario::Ineligible => "ineligible",
            Scenario::Paused => "paused",
            Scenario::Closed => "closed",
            Scenario::NoToken => "no-token",
            Scenario::BackendDown => "backend-down",
            Scenario::SlowNetwork => "slow-network",
            Scenario::BizStart => "biz-start",
            Scenario::BizCheck => "biz-check",
            Scenario::BizDone => "biz-done",
            Scenario::BizReviewing => "biz-reviewing",
            Scenario::BizRejected => "biz-rejected",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Scenario::BeforeOpen => "열리기 전 (카운트다운)",
            Scenario::OpeningNow => "지금 열리는 중",
            Scenario::Open => "열림",
            Scenario::AllClaimed => "모두 받음",
            Scenario::SoldOut => "이용권 마감",
            Scenario::Ineligible => "대상 아님",
            Scenario::Paused => "일시 중지",
            Scenario::Closed => "종료",
            Scenario::NoToken => "토큰 없음 (카카오톡에서 열기)",
            Scenario::BackendDown => "서버 연결 안 됨",
            Scenario::SlowNetwork => "느린 네트워크 (요청마다 2초)",
            Scenario::BizStart => "사업자 신청: 첫 단계 (빈 신청서)",
            Scenario::BizCheck => "사업자 신청: 확인 단계 (채운 신청서)",
            Scenario::BizDone => "사업자 신청: 접수 완료",
            Scenario::BizReviewing => "사업자 신청: 검토 중",
            Scenario::BizRejected => "사업자 신청: 반려 (사유 포함)",
        }
    }

    /// Whether this is one of the small-business journey's scenarios.
    pub fn is_business(self) -> bool {
        matches!(
            self,
            Scenario::BizStart
                | Scenario::BizCheck
                | Scenario::BizDone
                | Scenario::BizReviewing
                | Scenario::BizRejected
        )
    }

    fn from_id(id: &str) -> Option<Scenario> {
        Scenario::ALL.into_iter().find(|s| s.id() == id)
    }
}

thread_local! {
    static ACTIVE: Cell<Option<Option<Scenario>>> = const { Cell::new(None) };
}

/// The scenario in use; `None` means the real backend.
pub fn active() -> Option<Scenario> {
    ACTIVE.with(|a| {
        a.get().unwrap_or_else(|| {
            let stored = web_sys::window()
                .and_then(|w| w.session_storage().ok().flatten())
                .and_then(|s| s.get_item(STORAGE_KEY).ok().flatten())
                .and_then(|id| Scenario::from_id(&id));
            a.set(Some(stored));
            stored
        })
    })
}

fn choose(ctx: AppCtx, scenario: Option<Scenario>) {
    ACTIVE.with(|a| a.set(Some(scenario)));
    if let Some(s) = web_sys::window().and_then(|w| w.session_storage().ok().flatten()) {
        let _ = match scenario {
            Some(sc) => s.set_item(STORAGE_KEY, sc.id()),
            None => s.remove_item(STORAGE_KEY),
        };
        let _ = s.remove_item("maeum.intents");
    }
    fixtures::reset();
    let token = match scenario {
        None | Some(Scenario::NoToken) => None,
        Some(_) => Some(FIXTURE_TOKEN),
    };
    if scenario.is_some() || storage::token().as_deref() == Some(FIXTURE_TOKEN) {
        storage::set_token(token);
    }
    // The small-business scenarios seed the journey's stored state (draft,
    // receipts) and land on their screen once the gate opens.
    if let Some(path) = scenario.and_then(fixtures::seed_business) {
        crate::route::navigate(ctx, &path);
    }
    ctx.boot();
}

/// Room below the content so the fixed bar hides nothing.
fn make_room() {
    if let Some(main) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("main"))
    {
        let _ = main.set_attribute(
            "style",
            "padding-bottom:calc(96px + env(safe-area-inset-bottom))",
        );
    }
}

/// An error reply used by the fixtures.
pub(crate) fn offline() -> Result<wasm_bindgen::JsValue, ApiError> {
    Err(ApiError::Offline)
}

const BAR_STYLE: &str = "position:fixed;left:0;right:0;bottom:0;z-index:10;display:flex;align-items:center;gap:10px;\
    padding:8px 12px calc(8px + env(safe-area-inset-bottom));background:#2b1f5c;color:#fff;font-size:0.875rem;\
    box-shadow:0 -2px 8px rgba(0,0,0,.2)";

/// The bar itself.
#[component]
pub fn PreviewBar() -> impl IntoView {
    let ctx = AppCtx::expect();
    make_room();
    let current = active().map_or("live", Scenario::id);
    let options = Scenario::ALL
        .into_iter()
        .map(|s| view! { <option value=s.id() selected=s.id() == current>{s.label()}</option> })
        .collect_view();
    let on_change = move |ev: leptos::ev::Event| {
        let value = ev
            .target()
            .and_then(|t| js_sys::Reflect::get(&t, &JsValue::from_str("value")).ok())
            .and_then(|v| v.as_string())
            .unwrap_or_default();
        choose(ctx, Scenario::from_id(&value));
    };
    // Styles inline: the bar's CSS must not ship in the release stylesheet.
    view! {
        <aside class="preview" aria-label="미리보기" data-testid="preview-bar" style=BAR_STYLE>
            <strong style="background:#ffd84d;color:#191919;border-radius:6px;padding:2px 8px">"미리보기"</strong>
            <label style="flex:1">
                <span class="sr-only">"장면 "</span>
                <select
                    style="width:100%;min-height:44px;font:inherit;border-radius:8px;padding:0 8px"
                    on:change=on_change
                >
                    <option value="live" selected=current == "live">"실제 서버"</option>
                    {options}
                </select>
            </label>
        </aside>
    }
}
