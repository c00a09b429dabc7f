//! The sandbox's state as the page holds it: the engine state in one signal, and why the
//! editor's spec did not load. Every sandbox panel reads these; they know no panel.

use super::examples;
use super::model::{LoadError, Sandbox};
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

/// Loads `text` into the sandbox (with the example's check if it is an example unchanged).
pub fn load(text: &str, sandbox: SandboxSignal, problem: RwSignal<Option<Problem>>) {
    let check = examples::example_with_text(text).and_then(|e| e.check);
    match Sandbox::new(text, check) {
        Ok(s) => {
            problem.set(None);
            sandbox.set(Some(s));
        }
        Err(e) => {
            problem.set(Some(Problem::of(&e, text)));
            sandbox.set(None);
        }
    }
}
