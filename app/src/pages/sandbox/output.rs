//! What the run printed: the isolation tester's output, as in an expected file, and the
//! server's side (every event, PostgreSQL's errors in full with DETAIL, HINT and CONTEXT).

use super::signal::SandboxSignal;
use super::whole_run::{WholePhase, WholeRunner};
use leptos::prelude::*;
use lockstep::server::Event;

/// The most events listed per move: a statement that writes thousands of rows has an event
/// per row. Purely presentational.
pub const EVENTS_SHOWN_PER_MOVE_MAX: usize = 100;

/// The most of an output shown in one block, in bytes: a run's output grows with every step and
/// a spec's steps may print tables of thousands of rows, which a page would lay out whole. The
/// rest is one download away.
pub const OUTPUT_SHOWN_BYTES_MAX: usize = 64 * 1024;

/// The part of `text` a block shows, cut at a line break within [`OUTPUT_SHOWN_BYTES_MAX`]: its
/// end when `tail` (the run so far: the latest step matters), else its start; and the bytes
/// left out.
pub fn shown_part(text: &str, tail: bool) -> (&str, usize) {
    if text.len() <= OUTPUT_SHOWN_BYTES_MAX {
        return (text, 0);
    }
    let part = if tail {
        let mut from = text.len() - OUTPUT_SHOWN_BYTES_MAX;
        while !text.is_char_boundary(from) {
            from += 1;
        }
        let rest = &text[from..];
        rest.find('\n').map_or(rest, |i| &rest[i + 1..])
    } else {
        let mut to = OUTPUT_SHOWN_BYTES_MAX;
        while !text.is_char_boundary(to) {
            to -= 1;
        }
        let head = &text[..to];
        head.rfind('\n').map_or(head, |i| &head[..=i])
    };
    (part, text.len() - part.len())
}

/// An output block, cut to [`OUTPUT_SHOWN_BYTES_MAX`] with a line saying so and a download of
/// the whole text.
fn output_block(text: String, tail: bool, testid: &'static str, file: &'static str) -> AnyView {
    let (part, left_out) = shown_part(&text, tail);
    let part = part.to_string();
    let note = (left_out > 0).then(|| {
        let where_ = if tail { "earlier" } else { "later" };
        let download = move |_| {
            let _ = crate::export::offer_file(file, &text, "text/plain");
        };
        view! {
            <p class="notice output-cut" data-testid=format!("{testid}-cut")>
                {format!("{left_out} {where_} bytes are not shown. ")}
                <button class="link-button" on:click=download>{format!("Download all of it ({file})")}</button>
            </p>
        }
    });
    let pre = view! { <pre class="tester-output" data-testid=testid>{part}</pre> };
    if tail {
        view! { {note} {pre} }.into_any()
    } else {
        view! { {pre} {note} }.into_any()
    }
}

/// The isolation tester's output so far, and on demand the whole spec's output (every
/// permutation, as `expected/NAME.out` records it).
#[component]
pub fn TesterOutput(sandbox: SandboxSignal) -> impl IntoView {
    let text = move || sandbox.with(|s| s.as_ref().map(|s| s.output()).unwrap_or_default());
    // The whole output, run in slices; a new spec hides it.
    let runner = WholeRunner::new();
    let run_whole = move |_| {
        sandbox.with_untracked(|s| {
            if let Some(s) = s {
                let count = s.permutations.as_ref().map(Vec::len).map_err(Clone::clone);
                runner.start(s.text.clone(), &s.spec, count);
            }
        });
    };
    let running = move || matches!(runner.phase.get(), WholePhase::Running { .. });
    let shown = move || {
        let current = sandbox.with(|s| s.as_ref().map(|s| s.text.clone()));
        let phase = runner.phase.get();
        if phase.text() != current.as_deref() {
            return None;
        }
        Some(match phase {
            WholePhase::Idle => ().into_any(),
            WholePhase::Running { done, total, .. } => view! {
                <p class="notice" data-testid="whole-progress" role="status">
                    {format!("running every permutation: {done} of {total} done")}
                </p>
                <button data-testid="whole-cancel" on:click=move |_| runner.cancel()>"Cancel"</button>
            }
            .into_any(),
            WholePhase::Cancelled { done, total, .. } => view! {
                <p class="notice" data-testid="whole-progress">
                    {format!("cancelled after {done} of {total} permutations")}
                </p>
            }
            .into_any(),
            WholePhase::Done { result: Ok(out), .. } => view! {
                <h3>"Every permutation"</h3>
                {output_block(out, false, "whole-output", "expected.out")}
            }
            .into_any(),
            WholePhase::Done { result: Err(e), .. } => {
                view! { <p class="notice error" data-testid="whole-output">{e}</p> }.into_any()
            }
        })
    };
    view! {
        <section class="panel tester-panel">
            <h2>"isolationtester output"</h2>
            {move || output_block(text(), true, "tester-output", "output.txt")}
            <button
                class="whole-button"
                data-testid="run-whole"
                title="Run every permutation in order on one server, as isolationtester does, and print its expected-file output"
                disabled=running
                on:click=run_whole
            >
                "Run every permutation"
            </button>
            {shown}
        </section>
    }
}

/// The server's events per move, errors in full.
#[component]
pub fn PostgresOutput(sandbox: SandboxSignal) -> impl IntoView {
    let moves = move || {
        sandbox.with(|s| {
            let Some(s) = s else {
                return Vec::new();
            };
            let names = s.pid_names();
            s.moves
                .iter()
                .enumerate()
                .map(|(i, m)| {
                    let listed = m
                        .events
                        .iter()
                        .filter(|e| !matches!(e, Event::QueryFinished { .. }));
                    let unlisted = listed.clone().count().saturating_sub(EVENTS_SHOWN_PER_MOVE_MAX);
                    let mut events: Vec<AnyView> = listed
                        .take(EVENTS_SHOWN_PER_MOVE_MAX)
                        .map(|e| {
                            let who = match e {
                                Event::Connected { pid }
                                | Event::Disconnected { pid }
                                | Event::StatementStarted { pid, .. }
                                | Event::SnapshotTaken { pid, .. }
                                | Event::TransactionBegan { pid }
                                | Event::XidAssigned { pid, .. }
                                | Event::TransactionCommitted { pid, .. }
                                | Event::TransactionAborted { pid, .. }
                                | Event::LockGranted { pid, .. }
                                | Event::LockWaiting { pid, .. }
                                | Event::LockAcquiredAfterWait { pid, .. }
                                | Event::RowLocked { pid, .. }
                                | Event::TupleWritten { pid, .. }
                                | Event::DeadlockCheck { pid, .. }
                                | Event::TimeoutFired { pid, .. }
                                | Event::Error { pid, .. }
                                | Event::QueryFinished { pid }
                                | Event::Log { pid, .. } => names.get(pid).cloned(),
                            };
                            let prefix = who.map(|w| format!("{w}: ")).unwrap_or_default();
                            match e {
                                Event::Error { error, .. } => view! {
                                    <li class="event error">
                                        <span class="event-text">{prefix}{e.narration()}</span>
                                        <pre class="pg-error" data-testid="pg-error">{error.to_string()}</pre>
                                    </li>
                                }
                                .into_any(),
                                Event::Log { line, .. } => {
                                    let line = line.clone();
                                    view! { <li class="event log"><code>"LOG " {line}</code></li> }.into_any()
                                }
                                Event::LockWaiting { .. } => view! { <li class="event waiting">{prefix}{e.narration()}</li> }.into_any(),
                                Event::TransactionCommitted { .. } => view! { <li class="event good">{prefix}{e.narration()}</li> }.into_any(),
                                Event::DeadlockCheck { .. } | Event::TimeoutFired { .. } => view! { <li class="event clock">{prefix}{e.narration()}</li> }.into_any(),
                                _ => view! { <li class="event">{prefix}{e.narration()}</li> }.into_any(),
                            }
                        })
                        .collect();
                    if unlisted > 0 {
                        events.push(view! { <li class="event more" data-testid="events-unlisted">{format!("… and {unlisted} more events")}</li> }.into_any());
                    }
                    let label = s.describe(m);
                    let tester_error = m.error.clone().map(|e| view! { <li class="event error">{format!("isolationtester: {e}")}</li> });
                    view! {
                        <li class="step-entry">
                            <div class="step-label"><span class="step-number">{i + 1}</span>{label}</div>
                            <ol class="events">{events}{tester_error}</ol>
                        </li>
                    }
                    .into_any()
                })
                .collect::<Vec<_>>()
        })
    };
    let empty = move || sandbox.with(|s| s.as_ref().is_none_or(|s| s.moves.is_empty()));
    view! {
        <section class="panel timeline-panel">
            <h2>"PostgreSQL"</h2>
            <ol class="timeline" data-testid="pg-output">
                {moves}
                <li class="step-entry empty" class:hidden=move || !empty()>
                    "The setup has run. Nothing else has happened yet."
                </li>
            </ol>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_output_is_shown_whole() {
        assert_eq!(shown_part("a\nb\n", true), ("a\nb\n", 0));
    }

    #[test]
    fn a_long_output_shows_whole_lines_from_its_end_or_its_start() {
        let line = "step s1: SELECT é FROM t;\n";
        let text = line.repeat(OUTPUT_SHOWN_BYTES_MAX / line.len() * 3);
        let (tail, left) = shown_part(&text, true);
        assert!(tail.len() <= OUTPUT_SHOWN_BYTES_MAX && text.ends_with(tail));
        assert!(tail.starts_with("step s1"), "whole lines");
        assert_eq!(left + tail.len(), text.len());
        let (head, left) = shown_part(&text, false);
        assert!(head.len() <= OUTPUT_SHOWN_BYTES_MAX && text.starts_with(head));
        assert!(head.ends_with('\n'), "whole lines");
        assert_eq!(left + head.len(), text.len());
    }

    #[test]
    fn one_huge_line_is_cut_at_a_character_boundary() {
        let text = "é".repeat(OUTPUT_SHOWN_BYTES_MAX);
        let (tail, _) = shown_part(&text, true);
        let (head, _) = shown_part(&text, false);
        assert!(!tail.is_empty() && !head.is_empty());
    }
}
