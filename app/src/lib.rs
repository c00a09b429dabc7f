//! Lockstep's browser playground: the lesson pages, the sandbox page and the studio page, each
//! its own bundle (`src/bin/`), and the explorer in a Web Worker (the `worker/` crate) that
//! [`checker`] starts on the first check.
//!
//! Engine state lives in one place, a [`session::Session`] held in a signal provided by
//! context ([`player`]); [`pages`] build it and lay out the panels of `components/`, which read
//! it; [`checker`] runs the explorer in the background. Presentation (labels,
//! colours, layout) stays here; engine facts come from the engine's views and events.

pub mod app;
pub mod challenge;
pub mod checker;
pub mod components;
pub mod cursor;
pub mod diff;
pub mod embedding;
pub mod export;
pub mod link;
pub mod markdown;
pub mod origin;
pub mod pages;
pub mod player;
pub mod progress;
pub mod remembered;
pub mod session;
pub mod url;
pub mod warm_up;
