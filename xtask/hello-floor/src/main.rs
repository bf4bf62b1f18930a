//! The floor of the size budget: Leptos's hello-world counter (one signal and
//! a button), the app DEVELOPERS.md and the research measured at 70.9 KB. A
//! static `view!` alone would not do: it compiles the reactive system away,
//! which no real Leptos app can.
use leptos::prelude::*;

fn main() {
    mount_to_body(|| {
        let count = RwSignal::new(0);
        view! {
            <button on:click=move |_| count.update(|n| *n += 1)>"눌렀어요: " {move || count.get()}</button>
        }
    });
}
