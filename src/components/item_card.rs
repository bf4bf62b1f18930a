use leptos::prelude::*;
use maeum_contract::money::{format_won, group_thousands};
use maeum_contract::time::kst_hm;
use maeum_contract::Item;

use super::Held;
use crate::model::CardState;

/// One item of the package with its 받기 button, drawn for one `state`.
///
/// The page re-draws the card in place whenever its state changes (the same
/// DOM nodes are updated, so focus stays on the button), which makes 받기 →
/// 받는 중 happen in the tap's own frame, before the network answers.
#[component]
pub fn ItemCard(
    /// The item as `GET /v1/package` lists it.
    item: Item,
    /// What the card shows now.
    state: CardState,
    /// Called with the item id when 받기 is tapped on an available item.
    on_claim: Callback<String>,
) -> impl IntoView {
    let available = state == CardState::Available;
    let label = state.button_label();
    let stock = match (&state, item.cap, item.remaining) {
        (CardState::Available | CardState::Pending, Some(_), Some(left)) if left > 0 => {
            Some(format!(
                "잔여 {}개 · {} 기준",
                group_thousands(left),
                kst_hm(item.as_of)
            ))
        }
        (CardState::SoldOut, _, _) => Some("준비한 수량이 모두 나갔어요".to_string()),
        _ => None,
    };
    let reason = match &state {
        CardState::Ineligible(reason) => reason.clone(),
        _ => None,
    };
    let name = state.name();
    let aria_label = format!("{} {label}", item.title);
    let kind = item.kind;
    let held = match state {
        CardState::Claimed(claim) => Some(view! { <Held claim kind /> }),
        _ => None,
    };
    let id = item.id.clone();
    view! {
        <li class="card" data-testid="item-card" data-item-id=item.id data-state=name>
            <div class="card__main">
                <p class="card__kind" data-testid="item-kind">{kind.label()}</p>
                <h3 class="card__title" data-testid="item-title">{item.title}</h3>
                <p class="card__meta">
                    <span class="card__price" data-testid="item-price">"소비자가 " {format_won(item.price_won)}</span>
                    " "
                    <span data-testid="item-validity">{item.validity.label()}</span>
                </p>
                {stock.map(|text| view! { <p class="card__stock" data-testid="item-remaining">{text}</p> })}
                {reason.map(|text| view! { <p class="card__reason" data-testid="item-reason">{text}</p> })}
            </div>
            <button
                type="button"
                class="btn card__btn"
                data-testid="item-claim"
                disabled=!available
                aria-busy=(name == "pending").then_some("true")
                aria-label=aria_label
                on:click=move |_| {
                    if available {
                        on_claim.run(id.clone());
                    }
                }
            >
                {label}
            </button>
            {held}
        </li>
    }
}
