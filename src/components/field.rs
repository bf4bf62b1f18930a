//! Form fields wired the GOV.UK way, by default: a real `<label>`, an optional
//! hint, and the error message after them (with a visually hidden "오류:"
//! prefix), the control marked `aria-invalid` and described by the hint and
//! the error. Inputs are uncontrolled: they start from `value` and report
//! every change through `on_input`, so an error never clears what was typed
//! (and the Korean IME is never interrupted by a re-render).

use leptos::either::EitherOf3;
use leptos::prelude::*;

use super::erased::{maybe_text, when};

/// The DOM id of the control that asks for body field `field`
/// (`payout.account_no` → `f-payout-account_no`). Error summary links use it.
pub fn field_dom_id(field: &str) -> String {
    format!("f-{}", field.replace(['.', '[', ']'], "-"))
}

/// What a [`Field`] asks with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Control {
    #[default]
    Text,
    /// Digits typed on a number pad (`inputmode="numeric"`), commas and hyphens allowed.
    Numeric,
    Tel,
    Email,
    /// `<input type="date">` between two `YYYY-MM-DD` days.
    Date {
        min: &'static str,
        max: &'static str,
    },
    TextArea,
    /// `<select>` of `(value, label)` with a first empty choice.
    Select(&'static [(&'static str, &'static str)]),
}

/// `aria-describedby` of a control: hint, extra description, error, in that order.
pub fn described_by(id: &str, hint: bool, extra: bool, error: bool) -> Option<String> {
    let mut parts = Vec::new();
    if hint {
        parts.push(format!("{id}-hint"));
    }
    if extra {
        parts.push(format!("{id}-extra"));
    }
    if error {
        parts.push(format!("{id}-error"));
    }
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// The error message under a label or legend.
#[component]
pub fn FieldError(
    /// DOM id of the control (the message is `{id}-error`).
    id: String,
    /// The message, when there is one.
    error: Signal<Option<String>>,
) -> impl IntoView {
    move || {
        error.get().map(|message| {
            view! {
                <p class="field__error" id=format!("{id}-error") data-testid="field-error">
                    <span class="sr-only">"오류: "</span>
                    {message}
                </p>
            }
        })
    }
}

/// One question with one control.
#[component]
pub fn Field(
    /// Body field name (`brn`, `payout.account_no`); the control's id comes from it.
    name: &'static str,
    label: &'static str,
    #[prop(optional)] hint: Option<&'static str>,
    /// The error to show, if any.
    #[prop(into)]
    error: Signal<Option<String>>,
    /// Starting value.
    #[prop(into)]
    value: String,
    /// Every change of the value.
    on_input: Callback<String>,
    #[prop(optional)] control: Control,
    /// `autocomplete` token (`organization`, `tel`, `name`…); `off` by default.
    #[prop(optional)]
    autocomplete: Option<&'static str>,
    /// The control is also described by an element with id `{id}-extra`
    /// that the caller puts right after the field (a counter, a live amount).
    #[prop(optional)]
    extra: bool,
    /// Narrow input (numbers, dates).
    #[prop(optional)]
    narrow: bool,
) -> impl IntoView {
    let id = field_dom_id(name);
    let has_extra = extra;
    let invalid = move || error.with(Option::is_some);
    let described = {
        let id = id.clone();
        move || described_by(&id, hint.is_some(), has_extra, invalid())
    };
    let input = move |ev: leptos::ev::Event| on_input.run(event_target_value(&ev));
    let autocomplete = autocomplete.unwrap_or("off");
    let class = if narrow {
        "input input--narrow"
    } else {
        "input"
    };
    let control_view = match control {
        Control::TextArea => EitherOf3::A(view! {
            <textarea
                class="input input--area"
                id=id.clone()
                name=name
                rows="6"
                aria-invalid=move || invalid().then_some("true")
                aria-describedby=described
                on:input=input
                prop:value=value
            ></textarea>
        }),
        Control::Select(options) => EitherOf3::B(view! {
            <select
                class="input input--select"
                id=id.clone()
                name=name
                aria-invalid=move || invalid().then_some("true")
                aria-describedby=described
                on:change=input
            >
                <option value="" selected=value.is_empty()>"선택해 주세요"</option>
                {options
                    .iter()
                    .map(|(v, l)| view! { <option value=*v selected=*v == value>{*l}</option> })
                    .collect_view()}
            </select>
        }),
        _ => {
            let (kind, mode, min, max) = match control {
                Control::Numeric => ("text", Some("numeric"), None, None),
                Control::Tel => ("tel", Some("tel"), None, None),
                Control::Email => ("email", Some("email"), None, None),
                Control::Date { min, max } => ("date", None, Some(min), Some(max)),
                _ => ("text", None, None, None),
            };
            EitherOf3::C(view! {
                <input
                    class=class
                    id=id.clone()
                    name=name
                    type=kind
                    inputmode=mode
                    min=min
                    max=max
                    autocomplete=autocomplete
                    spellcheck="false"
                    aria-invalid=move || invalid().then_some("true")
                    aria-describedby=described
                    on:input=input
                    prop:value=value
                />
            })
        }
    };
    view! {
        <div class="field" class:field--error=invalid data-field=name>
            <label class="field__label" for=id.clone()>{label}</label>
            {hint.map(|h| view! { <p class="field__hint" id=format!("{id}-hint")>{h}</p> })}
            <FieldError id=id.clone() error />
            {control_view}
        </div>
    }
}

/// A group of checkboxes or radios under one question (`<fieldset>` and
/// `<legend>`). The first control of the group should carry
/// `field_dom_id(name)` so the error summary can link to it.
#[component]
pub fn FieldSet<V: IntoView + 'static>(
    name: &'static str,
    legend: &'static str,
    #[prop(optional)] hint: Option<&'static str>,
    /// The group's error; `None` for a group whose fields carry their own.
    #[prop(optional)]
    error: Option<Signal<Option<String>>>,
    children: TypedChildren<V>,
) -> impl IntoView {
    let error = error.unwrap_or_else(|| Signal::stored(None));
    let id = format!("{}-group", field_dom_id(name));
    let described = {
        let id = id.clone();
        maybe_text(move || described_by(&id, hint.is_some(), false, error.read().is_some()))
    };
    view! {
        <div class="field" class:field--error=when(move || error.read().is_some()) data-field=name>
            <fieldset class="fieldset" aria-describedby=described>
                <legend class="field__label">{legend}</legend>
                {hint.map(|h| view! { <p class="field__hint" id=format!("{id}-hint")>{h}</p> })}
                <FieldError id=id.clone() error />
                {children.into_inner()()}
            </fieldset>
        </div>
    }
}
