//! The sandbox's state as the page holds it: the engine state in one signal, and why the
//! editor's spec did not load. Every sandbox panel reads these; they know no panel.

use super::examples;
use super::model::{LoadError, Loading, Sandbox};
use leptos::prelude::*;

/// The engine state of the sandbox; `None` while the editor holds a spec that does not load.
pub type SandboxSignal = RwSignal<Option<Sandbox>>;

/// Why the editor's spec did not load, ready to show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The message, with its line and column when it has them.
    pub message: String,
    /// The 1-based line and column, for the caret and the cursor.
    pub at: Option<(u32, u32)>,
    /// The offending line, for a caret under the column.
    pub excerpt: Option<String>,
}

impl Problem {
    fn of(error: &LoadError, text: &str) -> Problem {
        match error {
            LoadError::Spec(e) => Problem {
                message: format!("Line {}, column {}: {}", e.line, e.column, e.message),
                at: Some((e.line, e.column)),
                excerpt: text
                    .lines()
                    .nth(e.line.saturating_sub(1) as usize)
                    .map(str::to_string),
            },
            LoadError::Setup(e) => Problem {
                message: format!("The spec's setup failed: {e}"),
                at: None,
                excerpt: None,
            },
        }
    }
}

/// A spec's load: how far its setup has come, while it runs in frames.
#[derive(Clone, Copy)]
pub struct Loader {
    /// `(blocks run, blocks in all)` of the setup under way; `None` when none is running.
    pub progress: RwSignal<Option<(usize, usize)>>,
    /// The load whose frames count: a newer load stops an older one's.
    generation: StoredValue<u64>,
}

impl Loader {
    /// No load under way.
    pub fn new() -> Loader {
        Loader {
            progress: RwSignal::new(None),
            generation: StoredValue::new(0),
        }
    }
}

impl Default for Loader {
    fn default() -> Loader {
        Loader::new()
    }
}

/// Milliseconds of setup run before the page draws: a spec whose setup is short loads at
/// once, a heavy one goes on a frame at a time with its progress shown.
pub const SETUP_MS_PER_FRAME: f64 = 40.0;

/// Loads `text` into the sandbox (with the example's check if it is an example unchanged),
/// then calls `then`. A parse error is known at once; the setup runs block by block within
/// [`SETUP_MS_PER_FRAME`] a frame, so even a heavy one never holds the page.
pub fn load(
    text: &str,
    sandbox: SandboxSignal,
    problem: RwSignal<Option<Problem>>,
    loader: Loader,
    then: impl FnOnce() + 'static,
) {
    loader.generation.update_value(|g| *g += 1);
    let generation = loader.generation.get_value();
    let check = examples::example_with_text(text).and_then(|e| e.check);
    match Sandbox::begin(text, check) {
        Ok(loading) => {
            let load = Load {
                loading,
                text: text.to_string(),
                sandbox,
                problem,
                loader,
                generation,
            };
            load.frame(Box::new(then));
        }
        Err(e) => {
            loader.progress.set(None);
            problem.set(Some(Problem::of(&e, text)));
            sandbox.set(None);
        }
    }
}

/// A load going on in frames.
struct Load {
    loading: Loading,
    text: String,
    sandbox: SandboxSignal,
    problem: RwSignal<Option<Problem>>,
    loader: Loader,
    generation: u64,
}

impl Load {
    /// Runs setup blocks for a frame's budget; ends the load, or asks for the next frame.
    fn frame(mut self, then: Box<dyn FnOnce()>) {
        if self.loader.generation.get_value() != self.generation {
            return;
        }
        let deadline = js_sys::Date::now() + SETUP_MS_PER_FRAME;
        loop {
            match self.loading.run_next() {
                Ok(true) => {
                    self.loader.progress.set(None);
                    self.problem.set(None);
                    self.sandbox.set(Some(self.loading.into_sandbox()));
                    return then();
                }
                Err(e) => {
                    self.loader.progress.set(None);
                    self.problem.set(Some(Problem::of(&e, &self.text)));
                    self.sandbox.set(None);
                    return;
                }
                Ok(false) if js_sys::Date::now() >= deadline => break,
                Ok(false) => {}
            }
        }
        if self.sandbox.with_untracked(Option::is_some) {
            self.sandbox.set(None);
        }
        let progress = (self.loading.done(), self.loading.blocks());
        self.loader.progress.set(Some(progress));
        request_animation_frame(move || self.frame(then));
    }
}
