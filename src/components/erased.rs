//! Type-erased reactive closures and event handlers for `view!`.
//!
//! tachys compiles its rendering code once per closure *type*, and every Rust
//! closure is a type of its own: a form with fifty reactive bits and handlers
//! would carry fifty copies. Boxing them as one `dyn` type per result type
//! shares that code (measured: about half the wasm per reactive attribute or
//! handler). Use these wherever a view has more than a couple of closures.

use leptos::ev::{Event, MouseEvent};

/// A reactive yes/no (`hidden=when(..)`, `class:x=when(..)`).
pub type When = Box<dyn FnMut() -> bool + Send>;
/// A reactive text (`{text(..)}`).
pub type Text = Box<dyn FnMut() -> String + Send>;
/// A reactive choice between fixed strings (classes, labels).
pub type Pick = Box<dyn FnMut() -> &'static str + Send>;
/// A reactive optional attribute (`aria-invalid`, `aria-busy`).
pub type Maybe = Box<dyn FnMut() -> Option<&'static str> + Send>;
/// A reactive optional text attribute (`data-upload-id`, `aria-describedby`).
pub type MaybeText = Box<dyn FnMut() -> Option<String> + Send>;
/// A handler of `input`, `change`, `submit`-like events.
pub type OnEvent = Box<dyn FnMut(Event)>;
/// A handler of clicks.
pub type OnClick = Box<dyn FnMut(MouseEvent)>;

pub fn when(f: impl FnMut() -> bool + Send + 'static) -> When {
    Box::new(f)
}

pub fn text(f: impl FnMut() -> String + Send + 'static) -> Text {
    Box::new(f)
}

pub fn pick(f: impl FnMut() -> &'static str + Send + 'static) -> Pick {
    Box::new(f)
}

pub fn maybe(f: impl FnMut() -> Option<&'static str> + Send + 'static) -> Maybe {
    Box::new(f)
}

pub fn maybe_text(f: impl FnMut() -> Option<String> + Send + 'static) -> MaybeText {
    Box::new(f)
}

pub fn on_event(f: impl FnMut(Event) + 'static) -> OnEvent {
    Box::new(f)
}

pub fn on_click(f: impl FnMut(MouseEvent) + 'static) -> OnClick {
    Box::new(f)
}
