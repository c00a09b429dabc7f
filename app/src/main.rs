//! Lockstep's browser playground: one page that plays a lesson step by step.
//!
//! Engine state lives in one place, a [`session::Session`] held in a signal provided by
//! context; every panel is a component in `components/` that reads it. Presentation (labels,
//! colours, layout) stays here; engine facts come from the engine's views and events.

mod components;
mod diff;
mod export;
mod markdown;
mod progress;
mod sandbox;
mod session;
mod url;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(components::app::App);
}
