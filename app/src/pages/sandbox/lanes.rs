//! The sessions as lanes: each one's backend state, why it waits and for whom, and its steps
//! as buttons (click one to run it next).

use super::model::MoveKind;
use super::signal::SandboxSignal;
use leptos::prelude::*;

/// The lanes panel of the sandbox.
#[component]
pub fn SessionLanes(sandbox: SandboxSignal) -> impl IntoView {
    let lanes = move || {
        sandbox.with(|s| {
            let Some(s) = s else {
                return Vec::new();
            };
            let finished = s.run().is_finished();
            let planned = match s.next_move() {
                Some(MoveKind::Launch(entry)) => Some(entry.step),
                _ => None,
            };
            s.lanes()
                .into_iter()
                .enumerate()
                .map(|(i, lane)| {
                    let class = if lane.why.is_some() {
                        "waiting"
                    } else if lane.failed {
                        "failed"
                    } else {
                        "runnable"
                    };
                    let steps: Vec<AnyView> = s.spec.sessions[i]
                        .steps
                        .iter()
                        .map(|step| {
                            let name = step.name.clone();
                            let is_next = planned.as_deref() == Some(name.as_str()) || lane.next.as_deref() == Some(name.as_str());
                            let is_waiting = lane.waiting_step.as_deref() == Some(name.as_str());
                            let testid = format!("run-{name}");
                            let title = format!("run step {name} next");
                            let on_click = {
                                let name = name.clone();
                                move |_| sandbox.update(|s| { if let Some(s) = s { s.launch_by_hand(&name); } })
                            };
                            view! {
                                <li class="sandbox-step" class:next=is_next class:waiting=is_waiting>
                                    <button data-testid=testid title=title disabled=finished on:click=on_click>
                                        {name.clone()}
                                    </button>
                                    <code class="step-sql">{step.sql.clone()}</code>
                                    {is_waiting.then(|| view! { <span class="waiting-mark">"<waiting ...>"</span> })}
                                </li>
                            }
                            .into_any()
                        })
                        .collect();
                    let testid = format!("lane-{}", lane.name);
                    let why_testid = format!("why-{}", lane.name);
                    view! {
                        <div class=format!("lane sandbox-lane lane-{class}") data-testid=testid data-state=class>
                            <span class="lane-name">{format!("session {}", lane.name)}</span>
                            <span class="lane-state">{lane.state.clone()}</span>
                            <span class="lane-why" data-testid=why_testid>{lane.why.clone()}</span>
                            <span class="lane-meta">{format!("backend pid {}", lane.pid.0)}</span>
                            <ol class="sandbox-steps">{steps}</ol>
                        </div>
                    }
                    .into_any()
                })
                .collect::<Vec<_>>()
        })
    };
    view! {
        <section class="panel lanes-panel">
            <h2>"Sessions"</h2>
            <div class="lanes" data-testid="lanes">{lanes}</div>
        </section>
    }
}
