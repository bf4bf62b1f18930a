fn main() {
    maeum::install_panic_hook();
    maeum::mount();
}
