use leptos::prelude::*;

fn main() {
    mount_to_body(|| view! { <p>"안녕하세요"</p> });
}
