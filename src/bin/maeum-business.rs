//! The small-business bundle (`business.html`, served under `/business/`).

fn main() {
    maeum::install_panic_hook();
    maeum::mount(maeum::pages::business::JOURNEY);
}
