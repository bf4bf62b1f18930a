//! Browser tests of the app's components in headless Chromium:
//! `CHROMEDRIVER=/usr/bin/chromedriver cargo test --target wasm32-unknown-unknown --test web`.
//! Components take plain data, so no server is needed.

#![cfg(target_arch = "wasm32")]

use leptos::prelude::*;
use maeum::api::codec;
use maeum::api::errors::ApiError;
use maeum::api::errors::ProblemBrief;
use maeum::api::storage;
use maeum::components::{ErrorNotice, GiftBox, ItemCard};
use maeum::model::CardState;
use maeum::pages::{OpenFromAppPage, Teaser};
use maeum_contract::business::{
    ChannelCash, DamageClaimReceipt, DamageClaimStatus, FieldError, Support, Upload,
};
use maeum_contract::problem::Problem;
use maeum_contract::{
    Claim, ClaimResponse, ClaimResult, ClaimStatus, Item, ItemKind, MyClaims, Package, Status,
    Timestamp, Validity,
};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement};

wasm_bindgen_test_configure!(run_in_browser);

fn t(s: &str) -> Timestamp {
    Timestamp::parse_rfc3339(s).unwrap()
}

fn item(
    id: &str,
    kind: ItemKind,
    title: &str,
    price: u64,
    validity: Validity,
    remaining: Option<u64>,
) -> Item {
    Item {
        id: id.into(),
        kind,
        title: title.into(),
        price_won: price,
        validity,
        cap: remaining.map(|_| 3_000_000),
        remaining,
        as_of: t("2023-01-05T09:41:00+09:00"),
    }
}

fn emoticon() -> Item {
    item(
        "emoticon-a",
        ItemKind::Emoticon,
        "카카오프렌즈 이모티콘 A",
        2000,
        Validity::DaysFromClaim { days: 90 },
        None,
    )
}

fn voucher(remaining: u64) -> Item {
    item(
        "drawer",
        ItemKind::Voucher,
        "톡서랍 플러스 1개월",
        1900,
        Validity::Months { months: 1 },
        Some(remaining),
    )
}

/// A fresh container in the page, and a handle that unmounts on drop.
fn mount<F, V>(f: F) -> (HtmlElement, impl Drop)
where
    F: FnOnce() -> V + 'static,
    V: IntoView + 'static,
{
    let document = web_sys::window().unwrap().document().unwrap();
    let host: HtmlElement = document.create_element("div").unwrap().unchecked_into();
    document.body().unwrap().append_child(&host).unwrap();
    let handle = leptos::mount::mount_to(host.clone(), f);
    (host, handle)
}

fn find(host: &HtmlElement, testid: &str) -> Element {
    host.query_selector(&format!("[data-testid='{testid}']"))
        .unwrap()
        .unwrap_or_else(|| panic!("no [data-testid={testid}] in {}", host.inner_html()))
}

fn text(host: &HtmlElement, testid: &str) -> String {
    find(host, testid).text_content().unwrap_or_default()
}

fn button(host: &HtmlElement) -> web_sys::HtmlButtonElement {
    find(host, "item-claim").unchecked_into()
}

fn card(state: CardState, item: Item) -> (HtmlElement, impl Drop) {
    mount(move || view! { <ItemCard item state on_claim=Callback::new(|_| {}) /> })
}

#[wasm_bindgen_test]
fn unclaimed_card_shows_name_kind_price_validity_and_a_claim_button() {
    let (host, _h) = card(CardState::Available, emoticon());
    assert_eq!(text(&host, "item-title"), "카카오프렌즈 이모티콘 A");
    assert_eq!(text(&host, "item-kind"), "이모티콘");
    assert!(text(&host, "item-price").contains("2,000원"));
    assert_eq!(text(&host, "item-validity"), "받은 날부터 90일");
    let b = button(&host);
    assert_eq!(b.text_content().unwrap(), "받기");
    assert!(!b.disabled());
    assert_eq!(
        b.get_attribute("aria-label").unwrap(),
        "카카오프렌즈 이모티콘 A 받기"
    );
    assert_eq!(
        find(&host, "item-card")
            .get_attribute("data-state")
            .unwrap(),
        "available"
    );
    assert!(
        host.query_selector("[data-testid='item-remaining']")
            .unwrap()
            .is_none(),
        "uncapped: no stock line"
    );
}

#[wasm_bindgen_test]
fn capped_voucher_shows_the_remaining_count_in_korea_time() {
    let (host, _h) = card(CardState::Available, voucher(1_234_567));
    assert_eq!(
        text(&host, "item-remaining"),
        "잔여 1,234,567개 · 09:41 기준"
    );
    assert!(text(&host, "item-price").contains("1,900원"));
    assert_eq!(text(&host, "item-validity"), "받은 날부터 1개월");
}

#[wasm_bindgen_test]
fn pending_card_is_disabled_and_busy() {
    let (host, _h) = card(CardState::Pending, emoticon());
    let b = button(&host);
    assert_eq!(b.text_content().unwrap(), "받는 중");
    assert!(b.disabled());
    assert_eq!(b.get_attribute("aria-busy").as_deref(), Some("true"));
}

#[wasm_bindgen_test]
fn claimed_card_shows_the_code_and_the_exact_expiry() {
    let claim = Claim {
        item_id: "emoticon-a".into(),
        claimed_at: t("2023-01-05T09:00:00+09:00"),
        expires_at: Some(t("2023-04-05T09:00:00+09:00")),
        code: Some("MAEUM-1234-ABCD".into()),
    };
    let (host, _h) = card(CardState::Claimed(claim), emoticon());
    let b = button(&host);
    assert_eq!(b.text_content().unwrap(), "받음");
    assert!(b.disabled());
    assert_eq!(text(&host, "item-code"), "MAEUM-1234-ABCD");
    assert_eq!(text(&host, "item-expiry"), "2023년 4월 5일까지");
}

#[wasm_bindgen_test]
fn claimed_permanent_item_says_permanent() {
    let claim = Claim {
        item_id: "e".into(),
        claimed_at: t("2023-01-05T00:00:00Z"),
        expires_at: None,
        code: None,
    };
    let item = item(
        "e",
        ItemKind::Emoticon,
        "이모티콘",
        2500,
        Validity::Permanent,
        None,
    );
    let (host, _h) = card(CardState::Claimed(claim), item);
    assert_eq!(text(&host, "item-expiry"), "영구 사용");
    assert!(host
        .query_selector("[data-testid='item-code']")
        .unwrap()
        .is_none());
}

#[wasm_bindgen_test]
fn sold_out_card_says_마감_and_cannot_be_tapped() {
    let (host, _h) = card(CardState::SoldOut, voucher(0));
    let b = button(&host);
    assert_eq!(b.text_content().unwrap(), "마감");
    assert!(b.disabled());
    assert_eq!(
        find(&host, "item-card")
            .get_attribute("data-state")
            .unwrap(),
        "sold-out"
    );
}

#[wasm_bindgen_test]
fn ineligible_card_says_대상_아님_with_the_reason() {
    let (host, _h) = card(
        CardState::Ineligible(Some("휴면 계정은 받을 수 없어요".into())),
        emoticon(),
    );
    let b = button(&host);
    assert_eq!(b.text_content().unwrap(), "대상 아님");
    assert!(b.disabled());
    assert_eq!(text(&host, "item-reason"), "휴면 계정은 받을 수 없어요");
}

#[wasm_bindgen_test]
async fn a_tap_turns_받기_into_받는_중_in_place() {
    let state = RwSignal::new(CardState::Available);
    let (host, _h) = mount(move || {
        let on_claim = Callback::new(move |_: String| state.set(CardState::Pending));
        move || view! { <ItemCard item=emoticon() state=state.get() on_claim /> }
    });
    let before = button(&host);
    before.click();
    leptos::task::tick().await;
    let after = button(&host);
    assert_eq!(after.text_content().unwrap(), "받는 중");
    assert!(after.disabled());
    assert!(
        before.is_same_node(Some(&after)),
        "the button is updated in place (focus stays)"
    );
}

/// Replaces `window.fetch` for one test: the package and 선물함 answer from
/// `package` and `mine`; a claim counts in `window.__claims` and never
/// answers (it stays in flight). Drop restores the real fetch.
struct FakeFetch;

impl FakeFetch {
    fn install(package: &Package, mine: &MyClaims) -> FakeFetch {
        let json = |v: String| wasm_bindgen::JsValue::from(v);
        js_sys::Function::new_with_args(
            "pkg, mine",
            r#"
            window.__realFetch = window.__realFetch || window.fetch;
            window.__claims = 0;
            window.fetch = (input, init) => {
              const url = typeof input === 'string' ? input : input.url;
              const method = (init && init.method) || (typeof input === 'string' ? 'GET' : input.method);
              const ok = (body) => Promise.resolve(new Response(body, { status: 200, headers: { 'Content-Type': 'application/json' } }));
              if (url.endsWith('/v1/claims') && method === 'POST') { window.__claims += 1; return new Promise(() => {}); }
              if (url.endsWith('/v1/package')) return ok(pkg);
              if (url.endsWith('/v1/me/claims')) return ok(mine);
              if (url.endsWith('/config.json')) return ok('{}');
              return Promise.resolve(new Response('{}', { status: 404, headers: { 'Content-Type': 'application/json' } }));
            };
            "#,
        )
        .call2(
            &wasm_bindgen::JsValue::NULL,
            &json(serde_json::to_string(package).unwrap()),
            &json(serde_json::to_string(mine).unwrap()),
        )
        .unwrap();
        FakeFetch
    }

    /// The claim requests sent, once `want` have gone out and as many frames
    /// again have passed: a second request started by the same taps would
    /// have left by then, since it takes the same steps as the first.
    async fn settled_claims(&self, want: u32) -> u32 {
        let mut frames = 0;
        while self.claims() < want {
            if frames == 300 {
                return self.claims();
            }
            frames += 1;
            frame().await;
        }
        for _ in 0..=frames {
            frame().await;
        }
        self.claims()
    }

    fn claims(&self) -> u32 {
        let window = web_sys::window().unwrap();
        js_sys::Reflect::get(&window, &"__claims".into())
            .unwrap()
            .as_f64()
            .unwrap() as u32
    }
}

impl Drop for FakeFetch {
    fn drop(&mut self) {
        let _ = js_sys::Function::new_no_args(
            "window.fetch = window.__realFetch; window.__realFetch = undefined;",
        )
        .call0(&wasm_bindgen::JsValue::NULL);
    }
}

/// Resolves on the next animation frame.
async fn frame() {
    let next = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window()
            .unwrap()
            .request_animation_frame(&resolve)
            .unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(next).await.unwrap();
}

#[wasm_bindgen_test]
async fn a_double_tap_sends_one_claim() {
    use maeum::state::{AppCtx, Screen};
    web_sys::window()
        .unwrap()
        .session_storage()
        .unwrap()
        .unwrap()
        .clear()
        .unwrap();
    storage::set_token(Some("test-token"));
    let package = Package {
        items: vec![emoticon(), voucher(5)],
    };
    let mine = MyClaims {
        claims: vec![],
        ineligible_reason: None,
    };
    let fetch = FakeFetch::install(&package, &mine);
    let (host, _h) = mount(|| {
        provide_context(AppCtx::new(Screen::Open, maeum::pages::PACKAGE));
        view! { <maeum::pages::PackagePage /> }
    });
    // The package arrives (a promise chain; each frame lets it move on).
    let mut frames = 0;
    while host
        .query_selector("[data-testid='item-claim']")
        .unwrap()
        .is_none()
    {
        assert!(
            frames < 600,
            "the package never showed: {}",
            host.inner_html()
        );
        frames += 1;
        frame().await;
    }
    let item = button(&host);
    let all: web_sys::HtmlButtonElement = find(&host, "claim-all").unchecked_into();
    item.click();
    item.click();
    assert_eq!(
        fetch.settled_claims(1).await,
        1,
        "one request for the first tap"
    );
    assert_eq!(item.text_content().unwrap(), "받는 중");
    // 모두 받기 now asks only for the other item: one more request, not two.
    all.click();
    all.click();
    assert_eq!(
        fetch.settled_claims(2).await,
        2,
        "모두 받기 sent once, without the item in flight"
    );
    for id in ["emoticon-a", "drawer"] {
        let card = host
            .query_selector(&format!("[data-item-id='{id}']"))
            .unwrap()
            .unwrap();
        assert_eq!(
            card.get_attribute("data-state").as_deref(),
            Some("pending"),
            "{id}"
        );
    }
    drop(fetch);
    web_sys::window()
        .unwrap()
        .session_storage()
        .unwrap()
        .unwrap()
        .clear()
        .unwrap();
    storage::set_token(None);
}

#[wasm_bindgen_test]
fn teaser_shows_the_opening_time_in_korea_time_and_a_countdown() {
    let now = RwSignal::new(t("2023-01-05T07:58:55+09:00"));
    let (host, _h) =
        mount(move || view! { <Teaser opens_at=t("2023-01-05T09:00:00+09:00") now /> });
    assert_eq!(
        text(&host, "teaser-opens-at"),
        "1월 5일 (목) 오전 9:00에 열립니다"
    );
    assert_eq!(text(&host, "countdown"), "01:01:05");
    assert!(host
        .text_content()
        .unwrap()
        .contains("열리기까지 1시간 남았어요"));
}

#[wasm_bindgen_test]
async fn teaser_follows_an_instant_moved_later_or_earlier() {
    let now = RwSignal::new(t("2023-01-05T07:58:55+09:00"));
    let opens_at = RwSignal::new(t("2023-01-05T09:00:00+09:00"));
    let (host, _h) = mount(move || view! { <Teaser opens_at now /> });
    let heading = find(&host, "teaser-opens-at");
    opens_at.set(t("2023-01-05T10:30:00+09:00"));
    leptos::task::tick().await;
    assert_eq!(
        text(&host, "teaser-opens-at"),
        "1월 5일 (목) 오전 10:30에 열립니다"
    );
    assert_eq!(text(&host, "countdown"), "02:31:05");
    opens_at.set(t("2023-01-05T08:00:00+09:00"));
    leptos::task::tick().await;
    assert_eq!(
        text(&host, "teaser-opens-at"),
        "1월 5일 (목) 오전 8:00에 열립니다"
    );
    assert_eq!(text(&host, "countdown"), "00:01:05");
    assert!(
        heading.is_same_node(Some(&find(&host, "teaser-opens-at"))),
        "updated in place"
    );
}

#[wasm_bindgen_test]
fn open_from_app_page_names_the_way_in() {
    let (host, _h) = mount(|| view! { <OpenFromAppPage /> });
    assert!(host
        .text_content()
        .unwrap()
        .contains("카카오톡 > 더보기 > 카카오 나우 배너"));
    assert!(host.query_selector("h2").unwrap().is_some());
}

#[wasm_bindgen_test]
async fn error_notice_is_korean_announced_and_retries() {
    let retries = RwSignal::new(0u32);
    let (host, _h) = mount(move || {
        view! { <ErrorNotice error=ApiError::Offline on_retry=Callback::new(move |()| retries.update(|n| *n += 1)) /> }
    });
    let notice = find(&host, "error-notice");
    assert_eq!(notice.get_attribute("role").as_deref(), Some("alert"));
    assert_eq!(
        notice.get_attribute("data-error-code").as_deref(),
        Some("offline")
    );
    assert!(notice
        .text_content()
        .unwrap()
        .contains("서버에 연결할 수 없어요"));
    let retry: HtmlElement = find(&host, "retry").unchecked_into();
    assert_eq!(retry.text_content().unwrap(), "다시 시도");
    retry.click();
    assert_eq!(retries.get_untracked(), 1);
}

#[wasm_bindgen_test]
fn gift_box_lists_what_the_user_holds() {
    let claims = vec![Claim {
        item_id: "drawer".into(),
        claimed_at: t("2023-01-31T10:00:00+09:00"),
        expires_at: Some(t("2023-02-28T10:00:00+09:00")),
        code: Some("DRAWER-0001".into()),
    }];
    let (host, _h) = mount(move || view! { <GiftBox items=vec![voucher(5)] claims /> });
    let row = find(&host, "gift-box-item");
    assert!(row.text_content().unwrap().contains("톡서랍 플러스 1개월"));
    assert!(row.text_content().unwrap().contains("DRAWER-0001"));
    assert!(row.text_content().unwrap().contains("2023년 2월 28일까지"));

    let (empty, _h2) = mount(|| view! { <GiftBox items=vec![] claims=vec![] /> });
    assert!(empty
        .text_content()
        .unwrap()
        .contains("아직 받은 선물이 없어요"));
}

/// `value` sent as the server sends it (serde_json text), read by the app's
/// one JSON path (the browser's parser, then serde); and the app's own
/// writing read back. Both must give `value` again.
fn round_trip<T>(value: &T) -> Option<T>
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let from_server: T = codec::from_text(&serde_json::to_string(value).unwrap())?;
    assert_eq!(&from_server, value, "as the server writes it");
    let ours = codec::to_text(value).unwrap();
    let back: T = serde_json::from_str(&ours).unwrap();
    assert_eq!(&back, value, "as the app writes it, read by the server");
    codec::from_js(codec::to_js(value)?)
}

/// Every answer and body round-trips through the app's JSON path and the
/// server's serde_json alike.
#[wasm_bindgen_test]
fn contract_values_round_trip_through_the_one_json_path() {
    let package = Package {
        items: vec![
            emoticon(),
            voucher(0),
            item(
                "p",
                ItemKind::Coupon,
                "쿠폰",
                3000,
                Validity::Permanent,
                None,
            ),
        ],
    };
    assert_eq!(round_trip(&package), Some(package));

    let mine = MyClaims {
        claims: vec![Claim {
            item_id: "a".into(),
            claimed_at: t("2023-01-05T00:00:00Z"),
            expires_at: None,
            code: Some("X".into()),
        }],
        ineligible_reason: Some("사유".into()),
    };
    assert_eq!(round_trip(&mine), Some(mine.clone()));

    let response = ClaimResponse {
        results: [
            ClaimStatus::Granted,
            ClaimStatus::AlreadyClaimed,
            ClaimStatus::SoldOut,
            ClaimStatus::Ineligible,
        ]
        .into_iter()
        .map(|status| ClaimResult {
            item_id: "a".into(),
            status,
            claim: (status == ClaimStatus::Granted).then(|| mine.claims[0].clone()),
            reason: (status == ClaimStatus::Ineligible).then(|| "사유".into()),
        })
        .collect(),
    };
    assert_eq!(round_trip(&response), Some(response));

    for status in [
        Status {
            server_time: t("2023-01-05T00:00:00.5Z"),
            release_at: t("2023-01-05T00:00:00Z"),
            open: true,
            paused: false,
            closes_at: None,
            spread_seconds: None,
        },
        Status {
            server_time: t("2023-01-05T00:00:00Z"),
            release_at: t("2023-01-05T00:00:00Z"),
            open: false,
            paused: true,
            closes_at: Some(t("2023-03-31T23:59:59+09:00")),
            spread_seconds: Some(30),
        },
    ] {
        assert_eq!(round_trip(&status), Some(status));
    }

    let mut problem = Problem::new(422, "validation", "입력 확인");
    problem.release_at = Some(t("2023-01-05T00:00:00Z"));
    problem.receipt_no = Some("D-2301-7Q4K93".into());
    problem.errors = vec![FieldError {
        field: "brn".into(),
        code: "invalid".into(),
        message: "사업자등록번호를 확인해 주세요.".into(),
    }];
    let brief: ProblemBrief = codec::from_text(&serde_json::to_string(&problem).unwrap()).unwrap();
    assert_eq!(brief.code, "validation");
    assert_eq!(brief.release_at, problem.release_at);
    assert_eq!(brief.receipt_no, problem.receipt_no);
    assert_eq!(brief.errors, problem.errors);

    for support in [
        Support::Won { won: 30_000 },
        Support::Review {
            requires_review: true,
        },
    ] {
        for status in [
            DamageClaimStatus::Received,
            DamageClaimStatus::Reviewing,
            DamageClaimStatus::Approved,
            DamageClaimStatus::Paid,
            DamageClaimStatus::Rejected,
        ] {
            let receipt = DamageClaimReceipt {
                receipt_no: "D-2301-7Q4K93".into(),
                status,
                support,
                submitted_at: t("2023-01-09T10:00:00+09:00"),
                reason: (status == DamageClaimStatus::Rejected).then(|| "사유".into()),
            };
            assert_eq!(round_trip(&receipt), Some(receipt));
        }
    }
    let cash = ChannelCash {
        brn: "1248100998".into(),
        won: 50_000,
        granted_at: t("2023-01-09T10:00:00+09:00"),
        newly_granted: false,
    };
    assert_eq!(round_trip(&cash), Some(cash));
    let upload = Upload {
        id: "u1".into(),
        sha256: "ab".into(),
        size: 12_345,
        content_type: "image/png".into(),
    };
    assert_eq!(round_trip(&upload), Some(upload));
}

#[wasm_bindgen_test]
fn decoding_ignores_unknown_fields_and_rejects_wrong_shapes_without_panicking() {
    let s: Status = codec::from_text(
        r#"{"server_time":"2023-01-05T00:00:00.5Z","release_at":"2023-01-05T00:00:00Z","open":true,"paused":false,"extra":[1,{"x":2.5}]}"#,
    )
    .unwrap();
    assert_eq!(s.closes_at, None);
    assert_eq!(s.server_time.0 - s.release_at.0, 500);

    for bad in [
        r#"{"items": 3}"#,
        r#"{"items": [{"id": 1}]}"#,
        "null",
        "[]",
        r#""x""#,
        r#"{"items":[{"id":"a","kind":"gift"}]}"#,
        r#"{"items":[{"id":"a","kind":"coupon","title":"t","price_won":-1,"validity":{"type":"permanent"},"as_of":"2023-01-05T00:00:00Z"}]}"#,
        r#"{"items":[{"id":"a","kind":"coupon","title":"t","price_won":1.5,"validity":{"type":"permanent"},"as_of":"2023-01-05T00:00:00Z"}]}"#,
        r#"{"items":[{"id":"a","kind":"coupon","title":"t","price_won":1,"validity":{"type":"days_from_claim"},"as_of":"2023-01-05T00:00:00Z"}]}"#,
        r#"{"items":[{"id":"a","kind":"coupon","title":"t","price_won":1,"validity":{"type":"permanent"},"as_of":"yesterday"}]}"#,
    ] {
        assert_eq!(codec::from_text::<Package>(bad), None, "{bad}");
    }
    let wrong = r#"{"claims": [], "ineligible_reason": 12}"#;
    assert_eq!(codec::from_text::<MyClaims>(wrong), None);
    let wrong = r#"{"results": [{"item_id": "a", "status": "lost"}]}"#;
    assert_eq!(codec::from_text::<ClaimResponse>(wrong), None);
    assert_eq!(codec::from_text::<Package>("{"), None, "not JSON at all");
}

#[wasm_bindgen_test]
fn intents_survive_in_session_storage_and_garbage_reads_as_none() {
    let session = web_sys::window()
        .unwrap()
        .session_storage()
        .unwrap()
        .unwrap();
    session.clear().unwrap();
    let a = storage::Intent {
        key: "k-1".into(),
        item_ids: vec!["a".into(), "b".into()],
    };
    let b = storage::Intent {
        key: "k-2".into(),
        item_ids: vec!["c".into()],
    };
    storage::push_intent(&a);
    storage::push_intent(&b);
    storage::push_intent(&a);
    assert_eq!(storage::intents(), vec![b.clone(), a.clone()]);
    storage::remove_intent("k-2");
    assert_eq!(storage::intents(), vec![a]);
    storage::remove_intent("k-1");
    assert!(session.get_item("maeum.intents").unwrap().is_none());

    // Garbage reads as no intents, and never panics.
    for garbage in [
        "{",
        "3",
        r#"[{"key": 1}]"#,
        r#"[{"key":"k","item_ids":[]}]"#,
    ] {
        session.set_item("maeum.intents", garbage).unwrap();
        assert_eq!(storage::intents(), Vec::new(), "{garbage}");
    }
    // A well-formed list next to the garbage still reads (the check above
    // cannot pass by reading nothing at all).
    let key = "0f8fad5b-d9cb-469f-a165-70867728950e";
    let good = storage::Intent {
        key: key.into(),
        item_ids: vec!["x".into()],
    };
    session
        .set_item(
            "maeum.intents",
            &format!(r#"[{{"key":"{key}","item_ids":["x"]}}]"#),
        )
        .unwrap();
    assert_eq!(storage::intents(), vec![good.clone()]);
    // A list with one bad entry yields at most the good one.
    session
        .set_item(
            "maeum.intents",
            &format!(r#"[null, {{"key":"{key}","item_ids":["x"]}}]"#),
        )
        .unwrap();
    let got = storage::intents();
    assert!(got.is_empty() || got == vec![good], "{got:?}");
    session.clear().unwrap();
}

#[wasm_bindgen_test]
fn idempotency_keys_are_fresh_uuids() {
    let a = maeum::browser::new_idempotency_key();
    let b = maeum::browser::new_idempotency_key();
    assert_ne!(a, b);
    assert_eq!(a.len(), 36);
    assert!(maeum_contract::valid_idempotency_key(&a));
}

// ---- Resilience (issue 5): backoff, failover order, waiting room, offline reads.

use maeum::api::{backends, client, retry};
use maeum::components::{waiting, NetNotice};
use maeum::network::{self, Wait};

#[wasm_bindgen_test]
fn backoff_has_full_jitter_a_cap_and_never_beats_retry_after() {
    for attempt in 1..=12u32 {
        let ceiling = (retry::BASE_MS << (attempt - 1).min(8)).min(retry::CAP_MS);
        for unit in [0.0, 0.25, 0.5, 0.999, 1.0, -3.0, 7.0, f64::NAN] {
            let d = retry::backoff_ms(attempt, None, unit);
            assert!(
                d <= ceiling,
                "attempt {attempt}, unit {unit}: {d} > {ceiling}"
            );
            let d = retry::backoff_ms(attempt, Some(2), unit);
            assert!((2000..=2000 + ceiling).contains(&d), "Retry-After 2 s: {d}");
        }
    }
    assert_eq!(retry::backoff_ms(1, None, 1.0), 500);
    assert_eq!(retry::backoff_ms(2, None, 1.0), 1000);
    assert_eq!(retry::backoff_ms(5, None, 1.0), retry::CAP_MS);
    assert_eq!(retry::backoff_ms(30, None, 1.0), retry::CAP_MS);
    // A huge Retry-After is bounded (an hour), never overflows.
    assert!(retry::backoff_ms(3, Some(u32::MAX), 1.0) <= 3_600_000 + retry::CAP_MS);
    // Random draws spread out.
    let draws: Vec<u32> = (0..50)
        .map(|_| retry::backoff_ms(4, None, js_sys::Math::random()))
        .collect();
    assert!(draws.iter().any(|d| *d != draws[0]), "jitter");
}

#[wasm_bindgen_test]
fn retry_after_reads_seconds_and_http_dates() {
    let now = t("2015-10-21T07:27:50Z").0 as f64;
    assert_eq!(retry::retry_after_at("1", now), Some(1));
    assert_eq!(retry::retry_after_at(" 120 ", now), Some(120));
    assert_eq!(retry::retry_after_at("99999999", now), Some(3600));
    assert_eq!(
        retry::retry_after_at("Wed, 21 Oct 2015 07:28:00 GMT", now),
        Some(10)
    );
    assert_eq!(
        retry::retry_after_at("Wed, 21 Oct 2015 07:20:00 GMT", now),
        Some(0),
        "a date in the past: now"
    );
    for bad in [
        "",
        "-1",
        "1.5",
        "soon",
        "Wed, 21 Oct 2015 07:28:00 KST",
        "Wed, 32 Oct 2015 07:28:00 GMT",
        "Wed, 21 Okt 2015 07:28:00 GMT",
        "Wed, 21 Oct 2015 07:28:00 GMT가",
    ] {
        assert_eq!(retry::retry_after_at(bad, now), None, "{bad:?}");
    }
    // The header as the client decodes it.
    assert_eq!(
        ApiError::from_response(429, None, Some("3")).retry_after_s(),
        Some(3)
    );
}

#[wasm_bindgen_test]
fn failover_order_prefers_the_working_base_and_rechecks_the_primary() {
    // Fresh: preference order.
    assert_eq!(backends::attempt_order(3, 0, 0.0, 10.0), vec![0, 1, 2]);
    // On base 1 since t=1000: base 1 first, then the others in order.
    assert_eq!(backends::attempt_order(3, 1, 1000.0, 5000.0), vec![1, 0, 2]);
    assert_eq!(backends::attempt_order(3, 2, 1000.0, 5000.0), vec![2, 0, 1]);
    // A minute later the primary is asked again first.
    assert_eq!(
        backends::attempt_order(3, 2, 1000.0, 1000.0 + backends::RECHECK_MS),
        vec![0, 1, 2]
    );
    assert_eq!(backends::attempt_order(1, 0, 0.0, 0.0), vec![0]);
    assert_eq!(
        backends::attempt_order(2, 5, 0.0, 0.0),
        vec![0, 1],
        "stale index"
    );

    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert_eq!(
        backends::clean_bases(&s(&[
            "https://a.example/api/",
            " /api ",
            "https://a.example/api",
            "ftp://x",
            "//evil",
            "http://127.0.0.1:8091/api"
        ])),
        s(&["https://a.example/api", "/api", "http://127.0.0.1:8091/api"])
    );
    assert_eq!(backends::clean_bases(&[]), s(&["/api"]));
    assert_eq!(backends::clean_bases(&s(&["nope"])), s(&["/api"]));

    // What moves a request to the next base.
    let busy = ApiError::from_response(503, None, Some("1"));
    assert!(client::fails_over(503, &busy));
    let limited = ApiError::from_response(429, None, Some("1"));
    assert!(
        !client::fails_over(429, &limited),
        "a rate limit is per user"
    );
    let paused = ApiError::from_response(
        503,
        Some(maeum::api::errors::ProblemBrief {
            code: "paused".into(),
            ..Default::default()
        }),
        Some("30"),
    );
    assert!(!client::fails_over(503, &paused), "a pause is everywhere");
    assert!(client::fails_over(0, &ApiError::Offline));
    assert!(client::fails_over(0, &ApiError::Timeout));
    assert!(client::fails_over(502, &ApiError::Server { status: 502 }));
    assert!(client::fails_over(504, &ApiError::Server { status: 504 }));
    assert!(!client::fails_over(500, &ApiError::Server { status: 500 }));
    assert!(!client::fails_over(401, &ApiError::Unauthorized));
}

#[wasm_bindgen_test]
fn waiting_room_says_why_when_and_where_and_cancels() {
    let cancels = RwSignal::new(0u32);
    let wait = Wait {
        seconds: 5,
        position: Some(1234),
        held: false,
    };
    let (host, _h) =
        mount(move || waiting(wait, Callback::new(move |()| cancels.update(|n| *n += 1))));
    let text = text(&host, "waiting");
    assert!(
        text.contains("접속자가 많아 순서대로 처리하고 있어요"),
        "{text}"
    );
    assert!(text.contains("5초 후 다시 시도해요"), "{text}");
    assert!(text.contains("대기 순서 1,234번째"), "{text}");
    assert!(!text.contains("오류"), "a wait, not an error");
    let cancel: HtmlElement = find(&host, "waiting-cancel").unchecked_into();
    assert_eq!(cancel.text_content().unwrap(), "취소");
    cancel.click();
    assert_eq!(cancels.get_untracked(), 1);

    assert_eq!(
        network::wait_text(&Wait {
            seconds: 0,
            position: None,
            held: false
        }),
        "지금 다시 시도하고 있어요."
    );
    assert_eq!(
        network::wait_text(&Wait {
            seconds: 3,
            position: None,
            held: true
        }),
        "연결되면 바로 보낼게요."
    );
}

#[wasm_bindgen_test]
async fn connecting_notice_shows_while_failing_over() {
    let (host, _h) = mount(|| view! { <NetNotice /> });
    let el = host.query_selector("#net-notice").unwrap().unwrap();
    assert_eq!(el.text_content().unwrap(), "", "nothing to say at first");
    network::connecting(1);
    leptos::task::tick().await;
    assert_eq!(
        el.get_attribute("data-testid").as_deref(),
        Some("connecting")
    );
    assert_eq!(el.text_content().unwrap(), "연결 중");
    network::connecting(-1);
    leptos::task::tick().await;
    assert_eq!(el.text_content().unwrap(), "");
}

#[wasm_bindgen_test]
fn last_package_and_claims_are_kept_with_their_time() {
    let session = web_sys::window()
        .unwrap()
        .session_storage()
        .unwrap()
        .unwrap();
    session.clear().unwrap();
    storage::set_token(Some("kept-user"));
    assert!(client::kept_package().is_none());
    let package = Package {
        items: vec![voucher(5)],
    };
    let mine = MyClaims {
        claims: vec![Claim {
            item_id: "drawer".into(),
            claimed_at: t("2023-01-05T00:00:00Z"),
            expires_at: None,
            code: Some("X".into()),
        }],
        ineligible_reason: None,
    };
    let before = js_sys::Date::now() as i64;
    storage::keep(storage::KEPT_PACKAGE, &codec::to_js(&package).unwrap());
    assert!(client::kept_package().is_none(), "both reads are needed");
    storage::keep(storage::KEPT_CLAIMS, &codec::to_js(&mine).unwrap());
    let (p, m, at) = client::kept_package().expect("kept");
    assert_eq!((p, m), (package, mine.clone()), "kept whole");
    assert!(at.0 >= before && at.0 <= js_sys::Date::now() as i64);

    // Garbage reads as nothing, never a panic.
    session.set_item(storage::KEPT_CLAIMS, "{").unwrap();
    assert!(client::kept_package().is_none());
    session
        .set_item(storage::KEPT_CLAIMS, r#"{"at":1,"v":{"claims":3}}"#)
        .unwrap();
    assert!(client::kept_package().is_none());

    // Another user's token: what the last one read is dropped.
    storage::keep(storage::KEPT_CLAIMS, &codec::to_js(&mine).unwrap());
    storage::set_token(Some("someone-else"));
    assert!(session.get_item(storage::KEPT_PACKAGE).unwrap().is_none());
    storage::set_token(None);
    session.clear().unwrap();
}

#[wasm_bindgen_test]
fn long_waits_are_said_in_minutes() {
    let w = |seconds| {
        network::wait_text(&Wait {
            seconds,
            position: None,
            held: false,
        })
    };
    assert_eq!(w(59), "59초 후 다시 시도해요.");
    assert_eq!(w(60), "1분 후 다시 시도해요.");
    assert_eq!(w(61), "2분 후 다시 시도해요.");
    assert_eq!(w(3600), "60분 후 다시 시도해요.");
}

// ---- Small-business journey (issue 4): fields, error summary, live support ----

mod business {
    use super::{find, mount, text};
    use leptos::prelude::*;
    use maeum::business_draft::{Draft, EvidenceFile, FileState, Step};
    use maeum::components::error_summary::ErrorSummary;
    use maeum::components::field::{Control, Field, FieldSet};
    use maeum::pages::business::SupportPreview;
    use maeum_contract::business::{EvidenceCategory, FieldError, Service};
    use wasm_bindgen::JsCast;
    use wasm_bindgen_test::*;
    use web_sys::{HtmlElement, HtmlInputElement};

    fn error(field: &str, message: &str) -> FieldError {
        FieldError {
            field: field.into(),
            code: "x".into(),
            message: message.into(),
        }
    }

    fn by_id(host: &HtmlElement, id: &str) -> HtmlElement {
        host.query_selector(&format!("#{id}"))
            .unwrap()
            .unwrap_or_else(|| panic!("no #{id} in {}", host.inner_html()))
            .unchecked_into()
    }

    /// Effects have run and the focus frame has drawn: the next animation
    /// frame comes after the one `focus_heading` asked for.
    async fn settle() {
        leptos::task::tick().await;
        let frame = js_sys::Promise::new(&mut |resolve, _| {
            web_sys::window()
                .unwrap()
                .request_animation_frame(&resolve)
                .unwrap();
        });
        wasm_bindgen_futures::JsFuture::from(frame).await.unwrap();
        leptos::task::tick().await;
    }

    #[wasm_bindgen_test]
    async fn field_wires_label_hint_and_error_and_keeps_what_was_typed() {
        let err = RwSignal::new(None::<String>);
        let typed = RwSignal::new(String::new());
        let (host, _h) = mount(move || {
            view! {
                <Field
                    name="brn"
                    label="사업자등록번호"
                    hint="10자리 숫자"
                    error=err
                    value="124"
                    on_input=Callback::new(move |v| typed.set(v))
                    control=Control::Numeric
                />
            }
        });
        let label = host.query_selector("label").unwrap().unwrap();
        assert_eq!(label.get_attribute("for").as_deref(), Some("f-brn"));
        assert_eq!(label.text_content().unwrap(), "사업자등록번호");
        let input: HtmlInputElement = by_id(&host, "f-brn").unchecked_into();
        settle().await; // tachys sets `value` in a queued task
        assert_eq!(input.value(), "124");
        assert_eq!(input.get_attribute("inputmode").as_deref(), Some("numeric"));
        assert_eq!(input.get_attribute("aria-invalid"), None);
        assert_eq!(
            input.get_attribute("aria-describedby").as_deref(),
            Some("f-brn-hint")
        );
        assert_eq!(
            by_id(&host, "f-brn-hint").text_content().unwrap(),
            "10자리 숫자"
        );

        input.set_value("124-81-00997");
        input
            .dispatch_event(&web_sys::Event::new("input").unwrap())
            .unwrap();
        assert_eq!(typed.get_untracked(), "124-81-00997");

        err.set(Some("사업자등록번호가 맞지 않아요.".into()));
        settle().await;
        let message = by_id(&host, "f-brn-error");
        assert_eq!(
            message.text_content().unwrap(),
            "오류: 사업자등록번호가 맞지 않아요."
        );
        let prefix = message.query_selector(".sr-only").unwrap().unwrap();
        assert_eq!(
            prefix.text_content().unwrap(),
            "오류: ",
            "the prefix is for screen readers only"
        );
        assert_eq!(input.get_attribute("aria-invalid").as_deref(), Some("true"));
        assert_eq!(
            input.get_attribute("aria-describedby").as_deref(),
            Some("f-brn-hint f-brn-error")
        );
        assert!(find(&host, "field-error").is_connected());
        assert_eq!(
            input.value(),
            "124-81-00997",
            "an error never clears the answer"
        );

        err.set(None);
        settle().await;
        assert_eq!(input.get_attribute("aria-invalid"), None);
        assert!(host.query_selector("#f-brn-error").unwrap().is_none());
    }

    #[wasm_bindgen_test]
    async fn field_set_groups_choices_under_a_legend_with_its_error() {
        let err = RwSignal::new(None::<String>);
        let (host, _h) = mount(move || {
            view! {
                <FieldSet name="services" legend="피해를 입은 서비스" hint="모두 골라 주세요." error=Signal::from(err)>
                    <input type="checkbox" id="f-services" />
                    <label for="f-services">"카카오톡 채널"</label>
                </FieldSet>
            }
        });
        let fieldset = host.query_selector("fieldset").unwrap().unwrap();
        assert_eq!(
            fieldset
                .query_selector("legend")
                .unwrap()
                .unwrap()
                .text_content()
                .unwrap(),
            "피해를 입은 서비스"
        );
        assert_eq!(
            fieldset.get_attribute("aria-describedby").as_deref(),
            Some("f-services-group-hint")
        );
        err.set(Some("하나 이상 골라 주세요.".into()));
        settle().await;
        assert_eq!(
            fieldset.get_attribute("aria-describedby").as_deref(),
            Some("f-services-group-hint f-services-group-error")
        );
        assert!(text(&host, "field-error").ends_with("하나 이상 골라 주세요."));
    }

    #[wasm_bindgen_test]
    async fn error_summary_is_announced_focused_titled_and_links_to_fields() {
        let errors = RwSignal::new(Vec::<FieldError>::new());
        let (host, _h) = mount(move || {
            view! {
                <ErrorSummary errors=errors title=Signal::stored("사업자 정보 | 카카오 나우".to_string()) />
                <Field
                    name="phone"
                    label="연락처"
                    error=Signal::stored(None::<String>)
                    value=""
                    on_input=Callback::new(|_| {})
                />
            }
        });
        settle().await;
        let doc = web_sys::window().unwrap().document().unwrap();
        assert!(host
            .query_selector("[data-testid='error-summary']")
            .unwrap()
            .is_none());
        assert_eq!(doc.title(), "사업자 정보 | 카카오 나우");

        errors.set(vec![
            error("brn", "사업자등록번호를 입력해 주세요."),
            error("phone", "연락처 형식이 맞지 않아요."),
        ]);
        settle().await;
        let summary = find(&host, "error-summary");
        assert_eq!(summary.get_attribute("role").as_deref(), Some("alert"));
        assert_eq!(doc.title(), "오류: 사업자 정보 | 카카오 나우");
        assert!(
            doc.active_element()
                .is_some_and(|a| a.is_same_node(Some(&summary))),
            "the summary takes focus"
        );
        let links = summary.get_elements_by_tag_name("a");
        assert_eq!(links.length(), 2);
        let second: HtmlElement = links.item(1).unwrap().unchecked_into();
        assert_eq!(second.get_attribute("href").as_deref(), Some("#f-phone"));
        assert_eq!(second.text_content().unwrap(), "연락처 형식이 맞지 않아요.");
        second.click();
        assert_eq!(
            doc.active_element().map(|a| a.id()).as_deref(),
            Some("f-phone")
        );

        errors.set(Vec::new());
        settle().await;
        assert!(host
            .query_selector("[data-testid='error-summary']")
            .unwrap()
            .is_none());
        assert_eq!(doc.title(), "사업자 정보 | 카카오 나우");
    }

    #[wasm_bindgen_test]
    async fn support_is_shown_live_from_the_contract_tiers() {
        let loss = RwSignal::new(String::new());
        let (host, _h) = mount(move || view! { <SupportPreview loss /> });
        let said = || text(&host, "support-preview");
        assert_eq!(
            find(&host, "support-preview")
                .get_attribute("aria-live")
                .as_deref(),
            Some("polite")
        );
        assert!(said().contains("금액을 적으면"));
        for (typed, expected) in [
            ("1", "예상 지원금: 30,000원"),
            ("300,000", "예상 지원금: 30,000원"),
            ("300001", "예상 지원금: 50,000원"),
            ("５００，０００원", "예상 지원금: 50,000원"),
            ("500,001", "피해 입증 후 추가 지원"),
        ] {
            loss.set(typed.into());
            settle().await;
            assert_eq!(said(), expected, "{typed}");
        }
        loss.set("-5".into());
        settle().await;
        assert!(said().contains("금액을 적으면"));
    }

    #[wasm_bindgen_test]
    fn the_draft_survives_storage_without_the_account_number() {
        let mut d = Draft::fresh();
        d.step = Step::Evidence;
        d.reached = Step::Payout;
        d.brn = "124-81-00998".into();
        d.services = vec![Service::KakaoPay, Service::Other];
        d.paid = Some(false);
        d.account_no = "3333-01-1234567".into();
        // Every other field set too, so the whole-draft comparison below
        // covers each one.
        d.business_name = "카카오 분식".into();
        d.representative = "김카카오".into();
        d.phone = "010-1234-5678".into();
        d.email = "owner@example.com".into();
        d.services_other = "카카오 T 대리".into();
        d.period_from = "2023-01-05".into();
        d.period_to = "2023-01-06".into();
        d.loss = "1,200,000".into();
        d.description = "주문이 끊겼어요.".into();
        d.next_file = 5;
        d.bank_code = "090".into();
        d.holder = "김카카오".into();
        d.privacy = true;
        d.marketing = true;
        d.key = "0f8fad5b-d9cb-469f-a165-70867728950e".into();
        d.queued = true;
        d.evidence.push(EvidenceFile {
            key: 3,
            name: "매출.pdf".into(),
            size: 1234,
            category: EvidenceCategory::SalesLoss,
            upload_id: Some("u-1".into()),
            state: FileState::Done,
        });
        d.evidence.push(EvidenceFile {
            key: 4,
            name: "사진.jpg".into(),
            size: 99,
            category: EvidenceCategory::ServiceUse,
            upload_id: None,
            state: FileState::Uploading(40),
        });
        maeum::business_draft::save(&d);
        let raw = web_sys::window()
            .unwrap()
            .local_storage()
            .unwrap()
            .unwrap()
            .get_item("maeum.biz.draft")
            .unwrap()
            .unwrap();
        assert!(
            !raw.contains("1234567"),
            "the account number stays out of localStorage"
        );
        let back = maeum::business_draft::load();
        assert_eq!(
            back.account_no, "3333-01-1234567",
            "…but this tab still has it"
        );
        // Every field comes back as it was, but for the upload the reload
        // cut off.
        let mut want = d.clone();
        want.evidence[1].state = FileState::Interrupted;
        assert_eq!(back, want);
        maeum::business_draft::clear();
        assert_eq!(maeum::business_draft::load(), Draft::fresh());
    }

    #[wasm_bindgen_test]
    fn the_package_page_reads_whether_a_saved_claim_is_started_or_waiting_to_be_sent() {
        use maeum::business_draft::{clear, save, saved_draft, SavedDraft};
        clear();
        assert_eq!(saved_draft(), SavedDraft::None);
        let mut d = Draft::fresh();
        save(&d);
        assert_eq!(saved_draft(), SavedDraft::None, "nothing typed yet");
        d.business_name = "카카오 분식".into();
        save(&d);
        assert_eq!(saved_draft(), SavedDraft::Started);
        d.queued = true;
        save(&d);
        assert_eq!(
            saved_draft(),
            SavedDraft::Started,
            "queued without an idempotency key cannot be sent as it was"
        );
        d.key = "k-1".into();
        save(&d);
        assert_eq!(saved_draft(), SavedDraft::Queued);
        clear();
        assert_eq!(saved_draft(), SavedDraft::None);
    }
}

/// The designers' preview plugs into the client this way: an installed
/// stand-in answers instead of the network, gets the body as sent (the
/// contract's serde shape), and its answer is decoded like a real one.
#[wasm_bindgen_test]
async fn an_installed_responder_answers_instead_of_the_network() {
    use futures::future::LocalBoxFuture;
    use maeum::api::errors::Reply;
    use maeum::api::errors::UploadError;
    use maeum::api::responder::{self, Progress, Responder};
    use maeum_contract::ClaimRequest;

    struct SoldOut;
    impl Responder for SoldOut {
        fn respond(
            &self,
            method: &str,
            url: &str,
            body: Option<&wasm_bindgen::JsValue>,
        ) -> Option<Reply> {
            if method != "POST" || !url.ends_with("/v1/claims") {
                return None;
            }
            let request: ClaimRequest = codec::from_js(body?.clone())?;
            let answer = ClaimResponse {
                results: request
                    .item_ids
                    .into_iter()
                    .map(|item_id| ClaimResult {
                        item_id,
                        status: ClaimStatus::SoldOut,
                        claim: None,
                        reason: None,
                    })
                    .collect(),
            };
            let answer = codec::to_js(&answer)?;
            Some(Box::pin(async move { Ok(answer) }))
        }
        fn upload(
            &self,
            _file: &web_sys::File,
            _on_progress: Progress,
        ) -> Option<LocalBoxFuture<'static, Result<Upload, UploadError>>> {
            None
        }
    }

    responder::install(SoldOut);
    storage::set_token(Some("stand-in"));
    let answer = maeum::api::claim(&["drawer".into(), "makers-2000".into()], "k-stand-in").await;
    // Later tests in this page talk to their own fake fetch.
    responder::uninstall();
    storage::set_token(None);
    let answer = answer.expect("the stand-in answered");
    assert_eq!(
        answer
            .results
            .iter()
            .map(|r| (r.item_id.as_str(), r.status))
            .collect::<Vec<_>>(),
        [
            ("drawer", ClaimStatus::SoldOut),
            ("makers-2000", ClaimStatus::SoldOut)
        ]
    );
}

/// The inline loader's reads (Trunk.toml): each is taken once, for its exact
/// URL only, `null` means "send it yourself", and `forget` drops the rest.
#[wasm_bindgen_test]
async fn loader_reads_are_taken_once_and_forgotten() {
    use maeum::api::boot;
    js_sys::eval(
        "self.maeumBoot = {reads: {
            '/api/v1/status': Promise.resolve(new Response('{}')),
            '/api/v1/package': Promise.resolve(null),
            '/api/v1/me/claims': Promise.resolve(new Response('{}')),
        }}",
    )
    .unwrap();
    assert!(boot::read("/api/v1/statu").is_none(), "only the exact URL");
    let status = boot::read("/api/v1/status").expect("the loader's status read");
    assert!(status.await.is_some(), "its response");
    assert!(boot::read("/api/v1/status").is_none(), "taken once");
    let package = boot::read("/api/v1/package").expect("the loader's package placeholder");
    assert!(package.await.is_none(), "null: send it yourself");
    boot::forget();
    assert!(boot::read("/api/v1/me/claims").is_none(), "forgotten");
    js_sys::eval("delete self.maeumBoot").unwrap();
}
