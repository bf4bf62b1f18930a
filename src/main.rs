//! The package bundle (`index.html`). Debug builds carry every page, so
//! `trunk serve` previews the business journey as well.

fn main() {
    maeum::install_panic_hook();
    // Designers' preview (`trunk serve`): fixtures stand in for the network.
    #[cfg(debug_assertions)]
    maeum::preview::install();
    #[cfg(not(debug_assertions))]
    maeum::mount(maeum::pages::PACKAGE);
    #[cfg(debug_assertions)]
    maeum::mount(maeum::pages::EVERY);
}
