//! The studio page's bundle (`studio.html`): write a lesson, run it on the lesson stage, check
//! it, share it. The only bundle that reads TOML at run time.

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(lockstep_app::app::StudioApp);
}
