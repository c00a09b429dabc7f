//! The permutation picker, Back / Step / End / Reset, and the exports.

use super::model::MoveKind;
use super::permutation_picker::PermutationPicker;
use super::signal::SandboxSignal;
use crate::export::{self, ExportButtons, SvgFile};
use leptos::prelude::*;

/// The control bar of the sandbox.
#[component]
pub fn SandboxControls(sandbox: SandboxSignal) -> impl IntoView {
    let ended = move || sandbox.with(|s| s.as_ref().is_none_or(|s| s.next_move().is_none()));
    let finished = move || sandbox.with(|s| s.as_ref().is_none_or(|s| s.run().is_finished()));
    let at_start = move || sandbox.with(|s| s.as_ref().is_none_or(|s| s.moves.is_empty()));
    let next = move || {
        sandbox.with(|s| {
            let s = s.as_ref()?;
            Some(match s.next_move()? {
                MoveKind::Launch(entry) => {
                    let index = s.session_of(&entry.step);
                    let session = index
                        .map(|i| s.spec.sessions[i].name.clone())
                        .unwrap_or_default();
                    let busy = index
                        .and_then(|i| s.lanes().into_iter().nth(i))
                        .and_then(|lane| lane.waiting_step);
                    match busy {
                        Some(old) => format!(
                            "Next: {session} runs {} — but {old} has not finished, so the tester first waits for it (time passes: deadlock checks and timeouts fire)",
                            entry.step
                        ),
                        None => format!("Next: {session} runs {}", entry.step),
                    }
                }
                MoveKind::Finish => {
                    "Next: the permutation ends (waiting steps complete, session teardowns run)"
                        .to_string()
                }
            })
        })
    };
    let timeline = Callback::new(move |_: ()| {
        sandbox.with_untracked(|s| {
            let diagram = s.as_ref().map(export::sandbox_timeline);
            let title = diagram
                .as_ref()
                .map(|d| d.title.clone())
                .unwrap_or_default();
            SvgFile::ready(
                format!("sandbox-timeline-{}.svg", export::slug(&title)),
                export::timeline_svg(&diagram.unwrap_or_default()),
            )
        })
    });
    let graph = Callback::new(move |_: ()| {
        sandbox.with_untracked(|s| {
            let moves = s.as_ref().map_or(0, |s| s.moves.len());
            let picture = s.as_ref().map(export::sandbox_graph).unwrap_or_default();
            SvgFile::ready(
                format!("sandbox-wait-for-graph-step-{moves}.svg"),
                export::graph_svg(&picture, &format!("wait-for graph after {moves} moves")),
            )
        })
    });
    view! {
        <PermutationPicker sandbox=sandbox/>
        <div class="controls" role="toolbar" aria-label="Run controls">
            <button data-testid="back" disabled=at_start on:click=move |_| sandbox.update(|s| { if let Some(s) = s { s.back(); } })>
                "◀ Back"
            </button>
            <button data-testid="step" class="primary" aria-label="Step" disabled=ended on:click=move |_| sandbox.update(|s| { if let Some(s) = s { s.step(); } })>
                "Step ▶"
            </button>
            <button
                data-testid="finish"
                title="Wait for every step still running and end the permutation"
                disabled=finished
                on:click=move |_| sandbox.update(|s| { if let Some(s) = s { s.finish(); } })
            >
                "End permutation"
            </button>
            <button data-testid="reset" aria-label="Reset" on:click=move |_| sandbox.update(|s| { if let Some(s) = s { s.reset(); } })>
                "↺ Reset"
            </button>
            <ExportButtons timeline=timeline graph=graph/>
            <div class="schedule" data-testid="next-move">{next}</div>
        </div>
    }
}
