//! The smallest reactive Leptos app: one signal, a button, a `Show`. Only
//! `cargo xtask size` builds it, to show what reactivity alone costs next to
//! the static hello-world (which compiles its view away).
use leptos::prelude::*;

fn main() {
    mount_to_body(|| {
        let count = RwSignal::new(0);
        view! {
            <button on:click=move |_| count.update(|n| *n += 1)>"눌렀어요: " {move || count.get()}</button>
            <Show when=move || count.get() % 2 == 0><p>"짝수"</p></Show>
        }
    });
}
