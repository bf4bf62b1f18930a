//! 전 국민 마음 패키지: the Leptos CSR app opened from the 카카오 나우 banner.
//!
//! `main.rs` only installs the panic hook and calls [`mount`]; everything is
//! public here so `tests/web.rs` can mount components.

#[cfg(test)]
mod acyclic;
pub mod api;
pub mod app;
pub mod browser;
pub mod business_draft;
pub mod components;
pub mod config;
pub mod model;
pub mod network;
pub mod pages;
#[cfg(debug_assertions)]
pub mod preview;
pub mod route;
pub mod state;

pub use app::{mount, App};

/// Logs panics to the console and swaps the page for the static "please
/// reload" message of `index.html`: a dead wasm app must not look alive.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        browser::show_fatal();
        console_error_panic_hook::hook(info);
    }));
}
