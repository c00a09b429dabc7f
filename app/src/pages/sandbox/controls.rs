//! The permutation picker and Back / Step / End / Reset, with the exports.

use super::model::{MoveKind, Plan};
use super::signal::SandboxSignal;
use crate::export::{self, ExportButtons, SvgFile};
use leptos::prelude::*;

/// The control bar of the sandbox.
#[component]
pub fn SandboxControls(sandbox: SandboxSignal) -> impl IntoView {
    let options = move || {
        sandbox.with(|s| {
            let Some(s) = s else {
                return Vec::new();
            };
            let selected = s.plan.clone();
            let mut options: Vec<AnyView> = match &s.permutations {
                Ok(list) => list
                    .iter()
                    .enumerate()
                    .map(|(i, p)| {
                        let names: Vec<&str> = p.entries.iter().map(|e| e.step.as_str()).collect();
                        let label = format!("{}. {}", i + 1, names.join(" "));
                        let is = selected == Plan::Permutation(i);
                        view! { <option value=i.to_string() selected=is>{label}</option> }.into_any()
                    })
                    .collect(),
                Err(_) => Vec::new(),
            };
            let by_hand = selected == Plan::ByHand;
            options.push(
                view! { <option value="by-hand" selected=by_hand>"by hand — click a session's step"</option> }
                    .into_any(),
            );
            options
        })
    };
    let too_many = move || {
        sandbox.with(|s| {
            s.as_ref()
                .and_then(|s| s.permutations.as_ref().err().cloned())
                .map(|e| view! { <p class="notice">{e}</p> })
        })
    };
    let own_lines =
        move || sandbox.with(|s| s.as_ref().is_some_and(|s| !s.spec.permutations.is_empty()));
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
            SvgFile {
                name: format!("sandbox-timeline-{}.svg", export::slug(&title)),
                content: diagram
                    .map(|d| export::timeline_svg(&d))
                    .unwrap_or_default(),
            }
        })
    });
    let graph = Callback::new(move |_: ()| {
        sandbox.with_untracked(|s| {
            let moves = s.as_ref().map_or(0, |s| s.moves.len());
            let picture = s.as_ref().map(export::sandbox_graph).unwrap_or_default();
            SvgFile {
                name: format!("sandbox-wait-for-graph-step-{moves}.svg"),
                content: export::graph_svg(
                    &picture,
                    &format!("wait-for graph after {moves} moves"),
                ),
            }
        })
    });
    view! {
        <div class="sandbox-plan">
            <label>
                <span>{move || if own_lines() { "The spec's permutations " } else { "Every interleaving " }}</span>
                <select
                    data-testid="permutation-select"
                    on:change=move |ev| {
                        let value = event_target_value(&ev);
                        let plan = match value.parse::<usize>() {
                            Ok(i) => Plan::Permutation(i),
                            Err(_) => Plan::ByHand,
                        };
                        sandbox.update(|s| {
                            if let Some(s) = s {
                                s.set_plan(plan);
                            }
                        });
                    }
                >
                    {options}
                </select>
            </label>
            {too_many}
        </div>
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
