//! Choosing files: a 파일 선택 button, a 카메라로 찍기 button (phones only,
//! by CSS), and a drop zone around them. Drag and drop is never the only way
//! in (WCAG 2.5.7). The chosen files go to `on_files`; nothing is read here.

use leptos::prelude::*;

use super::erased::on_click;
use wasm_bindgen::JsCast;
use web_sys::{File, FileList, HtmlInputElement};

/// What the pickers accept (the type is decided later from the bytes).
pub const ACCEPT: &str =
    "image/jpeg,image/png,image/heic,image/heif,.jpg,.jpeg,.png,.heic,.heif,application/pdf,.pdf";

fn files_of(list: Option<FileList>) -> Vec<File> {
    let Some(list) = list else { return Vec::new() };
    (0..list.length()).filter_map(|i| list.get(i)).collect()
}

fn click(input: NodeRef<leptos::html::Input>) {
    if let Some(el) = input.get_untracked() {
        el.click();
    }
}

/// The pickers and drop zone of one evidence category.
#[component]
pub fn FileDrop(
    /// Stable name for ids and test ids (`sales_loss`).
    slug: &'static str,
    /// What is being chosen, read before the button text (`매출 감소 증빙`).
    what: &'static str,
    /// Id of the 파일 선택 button (error summary links land here).
    #[prop(optional, into)]
    button_id: Option<String>,
    /// Called with the files chosen or dropped.
    on_files: Callback<Vec<File>, ()>,
) -> impl IntoView {
    let picker = NodeRef::<leptos::html::Input>::new();
    let camera = NodeRef::<leptos::html::Input>::new();
    let over = RwSignal::new(false);
    let changed = move |ev: leptos::ev::Event| {
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
        else {
            return;
        };
        let files = files_of(input.files());
        // Allows choosing the same file again after removing it.
        input.set_value("");
        if !files.is_empty() {
            on_files.run(files);
        }
    };
    let dropped = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        over.set(false);
        let files = files_of(ev.data_transfer().and_then(|d| d.files()));
        if !files.is_empty() {
            on_files.run(files);
        }
    };
    let dragging = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        if let Some(dt) = ev.data_transfer() {
            dt.set_drop_effect("copy");
        }
        over.set(true);
    };
    // One handler type for the four drag events (see `erased`).
    type OnDrag = Box<dyn FnMut(leptos::ev::DragEvent)>;
    let drag = |f: OnDrag| f;
    view! {
        <div
            class="drop"
            class:drop--over=move || over.get()
            data-testid=format!("drop-{slug}")
            on:dragenter=drag(Box::new(dragging))
            on:dragover=drag(Box::new(dragging))
            on:dragleave=drag(Box::new(move |_| over.set(false)))
            on:drop=drag(Box::new(dropped))
        >
            <p class="drop__text" aria-hidden="true">"파일을 여기에 끌어다 놓거나"</p>
            <div class="drop__buttons">
                <button
                    type="button"
                    class="btn btn--secondary drop__btn"
                    id=button_id
                    data-testid=format!("choose-{slug}")
                    on:click=on_click(move |_| click(picker))
                >
                    <span class="sr-only">{what} " "</span>
                    "파일 선택"
                </button>
                <button
                    type="button"
                    class="btn btn--secondary drop__btn drop__camera"
                    data-testid=format!("camera-{slug}")
                    on:click=on_click(move |_| click(camera))
                >
                    <span class="sr-only">{what} " "</span>
                    "카메라로 찍기"
                </button>
            </div>
            <input
                type="file"
                class="drop__input"
                multiple
                accept=ACCEPT
                tabindex="-1"
                aria-hidden="true"
                data-testid=format!("evidence-input-{slug}")
                node_ref=picker
                on:change=changed
            />
            <input
                type="file"
                class="drop__input"
                accept="image/*"
                capture="environment"
                tabindex="-1"
                aria-hidden="true"
                data-testid=format!("evidence-camera-{slug}")
                node_ref=camera
                on:change=changed
            />
        </div>
    }
}
