//! The sandbox page's bundle (`sandbox.html`): an isolation-tester spec, run and shared.

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(lockstep_app::app::SandboxApp);
}
