//! The sandbox page: the editor on the left, the run in the middle, the outputs on the right.
//! The sandbox (engine state) lives in one signal ([`super::signal`]), handed to every panel.

use super::address;
use super::controls::SandboxControls;
use super::editor::SpecEditor;
use super::examples::EXAMPLES;
use super::lanes::SessionLanes;
use super::output::{PostgresOutput, TesterOutput};
use super::signal::{load, Problem, SandboxSignal};
use super::status::SandboxStatus;
use super::wait_graph::SandboxWaitGraph;
use crate::components::heap_tables::HeapTables;
use crate::components::pg_locks::PgLocks;
use leptos::prelude::*;

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
