use leptos::prelude::*;
use maeum_contract::time::kst_date;
use maeum_contract::{Claim, Item, ItemKind};

/// What the user holds of one item: the code where there is one, and until
/// when it can be used, in Korea time.
#[component]
pub fn Held(
    /// The claim as the server recorded it.
    claim: Claim,
    /// Names the code (쿠폰 번호, 이용권 번호).
    kind: ItemKind,
) -> impl IntoView {
    let code_label = match kind {
        ItemKind::Coupon => "쿠폰 번호",
        ItemKind::Voucher => "이용권 번호",
        ItemKind::Emoticon => "코드",
    };
    let expiry = claim.expires_at.map_or_else(
        || "영구 사용".to_string(),
        |t| format!("{}까지", kst_date(t)),
    );
    view! {
        <dl class="held" data-testid="item-held">
            {claim.code.map(|code| view! {
                <div class="held__row">
                    <dt>{code_label}</dt>
                    <dd><code class="held__code" data-testid="item-code">{code}</code></dd>
                </div>
            })}
            <div class="held__row">
                <dt>"사용 기한"</dt>
                <dd data-testid="item-expiry">{expiry}</dd>
            </div>
        </dl>
    }
}

/// 내 선물함: everything the user holds, as `GET /v1/me/claims` says.
#[component]
pub fn GiftBox(
    /// The package, to name each claim (may be empty).
    items: Vec<Item>,
    /// The user's claims.
    claims: Vec<Claim>,
) -> impl IntoView {
    let empty = claims
        .is_empty()
        .then(|| view! { <p class="giftbox__empty">"아직 받은 선물이 없어요."</p> });
    let rows = claims
        .into_iter()
        .map(|claim| {
            let item = items.iter().find(|i| i.id == claim.item_id);
            let kind = item.map_or(ItemKind::Coupon, |i| i.kind);
            let title = item.map_or_else(|| "선물".to_string(), |i| i.title.clone());
            let id = claim.item_id.clone();
            view! {
                <li class="giftbox__item" data-testid="gift-box-item" data-item-id=id>
                    <p class="giftbox__title">{title}</p>
                    <Held claim kind />
                </li>
            }
        })
        .collect_view();
    view! {
        <section class="giftbox" id="gift-box" aria-labelledby="gift-box-title" data-testid="gift-box">
            <h2 class="section__title" id="gift-box-title">"내 선물함"</h2>
            {empty}
            <ul class="giftbox__list">{rows}</ul>
        </section>
    }
}
