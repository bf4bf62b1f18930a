//! The error summary at the top of a form page (GOV.UK pattern): shown after a
//! failed submit, announced (`role="alert"`), focused, one link per error
//! that moves focus to the field, the same words as next to the field. While
//! it shows, the page title starts with "오류: ".

use leptos::prelude::*;
use maeum_contract::business::FieldError;
use wasm_bindgen::JsCast;

use super::field::field_dom_id;

pub const TITLE_PREFIX: &str = "오류: ";

/// Sets `document.title` to `title`, prefixed while there are errors.
pub fn set_title(title: &str, errors: bool) {
    if let Some(doc) = web_sys::window().and_then(|w| w.document()) {
        let prefix = if errors { TITLE_PREFIX } else { "" };
        doc.set_title(&format!("{prefix}{title}"));
    }
}

/// Moves focus to the control of `field` and brings its question into view.
pub fn focus_field(field: &str) {
    let id = field_dom_id(field);
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let Some(el) = doc
        .get_element_by_id(&id)
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    else {
        return;
    };
    // The whole question (label and hint), not just the box.
    if let Ok(Some(q)) = el.closest(".field") {
        q.scroll_into_view();
    }
    let _ = el.focus();
}

/// The summary; nothing while `errors` is empty. Every time `errors` is set
/// to a non-empty list it takes focus again.
#[component]
pub fn ErrorSummary(
    #[prop(into)] errors: Signal<Vec<FieldError>>,
    /// The page title without the prefix; when given, `document.title` follows the errors.
    #[prop(optional, into)]
    title: Option<Signal<String>>,
) -> impl IntoView {
    let box_ref = NodeRef::<leptos::html::Div>::new();
    Effect::new(move |_| {
        let any = errors.with(|e| !e.is_empty());
        if let Some(title) = title {
            set_title(&title.get(), any);
        }
        if any {
            request_animation_frame(move || {
                if let Some(el) = box_ref.get_untracked() {
                    let _ = el.focus();
                }
            });
        }
    });
    move || {
        let list = errors.get();
        (!list.is_empty()).then(|| {
            let items = list
                .into_iter()
                .map(|e| {
                    let field = e.field.clone();
                    view! {
                        <li>
                            <a
                                href=format!("#{}", field_dom_id(&e.field))
                                data-field=e.field
                                on:click=move |ev| {
                                    ev.prevent_default();
                                    focus_field(&field);
                                }
                            >
                                {e.message}
                            </a>
                        </li>
                    }
                })
                .collect_view();
            view! {
                <div
                    class="error-summary"
                    role="alert"
                    tabindex="-1"
                    aria-labelledby="error-summary-title"
                    data-testid="error-summary"
                    node_ref=box_ref
                >
                    <h2 class="error-summary__title" id="error-summary-title">"입력한 내용을 확인해 주세요"</h2>
                    <ul class="error-summary__list">{items}</ul>
                </div>
            }
        })
    }
}
