//! The lesson page's bundle: the course list and the six lessons. The sandbox is a page of its
//! own (`sandbox.rs`), and the explorer runs in the worker, so neither is in this bundle.

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(lockstep_app::app::App);
}
