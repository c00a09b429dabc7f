//! Lockstep's browser playground: one page that plays a lesson step by step.
//!
//! Engine state lives in one place, a [`session::Session`] held in a signal provided by
//! context ([`player`]); [`pages`] build it and lay out the panels of `components/`, which read
//! it; [`checker`] runs the explorer in the background. Presentation (labels,
//! colours, layout) stays here; engine facts come from the engine's views and events.

mod app;
mod challenge;
mod checker;
mod components;
mod diff;
mod embedding;
mod export;
mod markdown;
mod pages;
mod player;
mod progress;
mod remembered;
mod session;
mod url;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
