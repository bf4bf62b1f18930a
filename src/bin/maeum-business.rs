//! The small-business bundle (`business.html`, served under `/business/`).

fn main() {
    maeum::install_panic_hook();
    // Designers' preview (`trunk serve`): fixtures stand in for the network.
    #[cfg(debug_assertions)]
    maeum::preview::install();
    maeum::mount(maeum::pages::business::JOURNEY);
}
