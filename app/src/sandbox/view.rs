//! The sandbox page: the editor on the left, the run in the middle, the outputs on the right.
//! The sandbox (engine state) lives in one signal, handed to every panel.

use super::address;
use super::controls::SandboxControls;
use super::editor::SpecEditor;
use super::examples::{self, EXAMPLES};
use super::lanes::SessionLanes;
use super::model::{LoadError, Sandbox};
use super::output::{PostgresOutput, TesterOutput};
use super::status::SandboxStatus;
use super::wait_graph::SandboxWaitGraph;
use crate::components::locks_panel::PgLocks;
use crate::components::tables::HeapTables;
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

/// The sandbox page.
#[component]
pub fn SandboxView() -> impl IntoView {
    let request = address::read();
    let first = request
        .text
        .clone()
        .unwrap_or_else(|| EXAMPLES[0].text.to_string());
    let text = RwSignal::new(first.clone());
    let problem = RwSignal::new(None::<Problem>);
    let sandbox: SandboxSignal = RwSignal::new(None);
    load(&first, sandbox, problem);
    sandbox.update(|s| {
        if let Some(s) = s {
            address::replay(s, &request);
        }
    });
    if let Some(e) = &request.link_error {
        problem.set(Some(Problem {
            message: format!(
                "The link's spec could not be opened: {e}. Showing an example instead."
            ),
            at: None,
            excerpt: None,
        }));
    }

    // The address follows the run; a spec too long for a link is said so.
    let link_problem = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        sandbox.with(|s| {
            if let Some(s) = s {
                let (query, too_long) = address::query(s);
                address::replace(&query);
                link_problem.set(too_long);
            }
        })
    });

    let tables = Signal::derive(move || {
        sandbox.with(|s| {
            s.as_ref()
                .map(|s| s.run().server().tables())
                .unwrap_or_default()
        })
    });
    let locks = Signal::derive(move || {
        sandbox.with(|s| {
            s.as_ref()
                .map(|s| s.run().server().locks())
                .unwrap_or_default()
        })
    });
    let names = Signal::derive(move || {
        sandbox.with(|s| s.as_ref().map(|s| s.pid_names()).unwrap_or_default())
    });
    let loaded = move || sandbox.with(|s| s.is_some());

    view! {
        <article class="lesson sandbox" data-testid="sandbox">
            <header class="lesson-header">
                <h1>"Sandbox"</h1>
                <p class="summary">
                    "Write or paste a PostgreSQL isolation-tester spec, pick one of its permutations or "
                    "run its steps by hand, and watch the simulated server: who waits for whom, every "
                    "row version, the exact errors, and what the isolation tester would print."
                </p>
            </header>
            <div class="lesson-grid">
                <aside class="left">
                    <SpecEditor text=text sandbox=sandbox problem=problem link_problem=link_problem/>
                </aside>
                <section class="center">
                    <div class="sticky">
                        <SandboxStatus sandbox=sandbox problem=problem/>
                        <Show when=loaded>
                            <SandboxControls sandbox=sandbox/>
                        </Show>
                    </div>
                    <Show when=loaded>
                        <SessionLanes sandbox=sandbox/>
                        <HeapTables tables=tables names=names/>
                        <SandboxWaitGraph sandbox=sandbox/>
                        <PgLocks locks=locks names=names/>
                    </Show>
                </section>
                <aside class="right">
                    <Show when=loaded>
                        <TesterOutput sandbox=sandbox/>
                        <PostgresOutput sandbox=sandbox/>
                    </Show>
                </aside>
            </div>
        </article>
    }
}
