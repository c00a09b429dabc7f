//! The sandbox page: the editor on the left, the run in the middle, the outputs on the right.
//! The sandbox (engine state) lives in one signal ([`super::signal`]), handed to every panel.

use super::address;
use super::controls::SandboxControls;
use super::editor::SpecEditor;
use super::examples::EXAMPLES;
use super::lanes::SessionLanes;
use super::output::{PostgresOutput, TesterOutput};
use super::replay::{self, ReplayProgress};
use super::signal::{load, Loader, Problem, SandboxSignal};
use super::status::SandboxStatus;
use super::wait_graph::SandboxWaitGraph;
use crate::components::heap_tables::{HeapTables, ROWS_SHOWN_MAX};
use crate::components::pg_locks::PgLocks;
use leptos::prelude::*;

/// The sandbox page.
#[component]
pub fn SandboxView() -> impl IntoView {
    let text = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<Problem>);
    let sandbox: SandboxSignal = RwSignal::new(None);
    let loader = Loader::new();
    // The link's run, once the spec's setup has run: at once when short, else in frames with
    // progress (replay.rs).
    let replaying = RwSignal::new(None::<ReplayProgress>);
    let cancel_replay = StoredValue::new(0_u64);
    let open = move |request: address::Request| {
        let first = request
            .text
            .clone()
            .unwrap_or_else(|| EXAMPLES[0].text.to_string());
        text.set(first.clone());
        let link_error = request.link_error.clone();
        load(&first, sandbox, problem, loader, move || {
            replay::start(sandbox, &request, replaying, cancel_replay);
        });
        if let Some(e) = &link_error {
            problem.set(Some(Problem {
                message: format!(
                    "The link's spec could not be opened: {e}. Showing an example instead."
                ),
                at: None,
                excerpt: None,
            }));
        }
    };
    let request = address::read();
    if request.packed.is_some() {
        // A link's own spec: the browser inflates it first.
        leptos::task::spawn_local(async move { open(address::unpack(request).await) });
    } else {
        open(request);
    }

    // The address follows the run; a spec too long for a link is said so. A spec other than
    // an example is packed once for each text the sandbox runs.
    let link_problem = RwSignal::new(None::<String>);
    let packed = RwSignal::new(None::<address::Packed>);
    let spec = Memo::new(move |_| sandbox.with(|s| s.as_ref().map(|s| s.text.clone())));
    Effect::new(move |_| {
        let Some(text) = spec.get().filter(|t| address::needs_packing(t)) else {
            return;
        };
        if packed.with_untracked(|p| p.as_ref().is_some_and(|p| p.text == text)) {
            return;
        }
        leptos::task::spawn_local(async move {
            let done = address::Packed::new(text).await;
            // Unless the sandbox has gone on to another spec meanwhile.
            if spec.with_untracked(|s| s.as_deref() == Some(done.text.as_str())) {
                packed.set(Some(done));
            }
        });
    });
    Effect::new(move |_| {
        if replaying.with(Option::is_some) {
            return;
        }
        packed.with(|packed| {
            sandbox.with(|s| {
                let Some((query, too_long)) =
                    s.as_ref().and_then(|s| address::query(s, packed.as_ref()))
                else {
                    return;
                };
                address::replace(&query);
                link_problem.set(too_long);
            })
        })
    });

    // Only the versions the panel shows are read from the server, with each table's total.
    let heads = Memo::new(move |_| {
        sandbox.with(|s| {
            s.as_ref()
                .map(|s| s.run().server().tables_first(ROWS_SHOWN_MAX))
                .unwrap_or_default()
        })
    });
    let tables =
        Signal::derive(move || heads.with(|h| h.iter().map(|(table, _)| table.clone()).collect()));
    let versions = Signal::derive(move || heads.with(|h| h.iter().map(|(_, n)| *n).collect()));
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
    let idle = move || loaded() && replaying.with(Option::is_none);
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
                    <SpecEditor text=text sandbox=sandbox problem=problem link_problem=link_problem loader=loader/>
                </aside>
                <section class="center">
                    <div class="sticky">
                        <SandboxStatus sandbox=sandbox problem=problem loader=loader/>
                        {move || setup_notice(loader)}
                        {move || replay_notice(replaying, cancel_replay)}
                        <Show when=idle>
                            <SandboxControls sandbox=sandbox/>
                        </Show>
                    </div>
                    <Show when=loaded>
                        <SessionLanes sandbox=sandbox/>
                        <HeapTables tables=tables names=names versions=versions/>
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

/// How far a heavy spec's setup has come, while it runs in frames.
fn setup_notice(loader: Loader) -> Option<impl IntoView> {
    loader.progress.get().map(|(done, blocks)| {
        view! {
            <p class="notice" data-testid="setup-progress" role="status">
                {format!("running the spec's setup: {done} of {blocks} blocks")}
            </p>
        }
    })
}

/// How far a long link's replay has come, with a way to stop it where it is.
fn replay_notice(
    replaying: RwSignal<Option<ReplayProgress>>,
    cancel_replay: StoredValue<u64>,
) -> Option<impl IntoView> {
    replaying.get().map(|p| {
        view! {
            <p class="notice" data-testid="replay-progress" role="status">
                {format!("replaying the link: {} of {} moves", p.done, p.total)}
                " "
                <button data-testid="replay-cancel" on:click=move |_| cancel_replay.update_value(|g| *g += 1)>
                    "Stop here"
                </button>
            </p>
        }
    })
}
