//! One lane per task: its name, its state, why it waits in words; a click runs it next.

use super::lesson_view::{Player, SessionSignal};
use leptos::prelude::*;
use lockstep::world::{Choice, TaskId, TaskState};

/// What one lane shows.
#[derive(Clone, PartialEq)]
struct Lane {
    id: TaskId,
    name: String,
    class: &'static str,
    state: String,
    why: String,
    /// The wait in PostgreSQL's and the driver's own words.
    exact: String,
    line: String,
    conns: String,
    runnable: bool,
    is_next: bool,
}

/// The task lanes.
#[component]
pub fn Lanes() -> impl IntoView {
    let session = expect_context::<SessionSignal>();
    let player = expect_context::<Player>();
    let noun = session.with_untracked(|s| s.task_noun());
    // What the lanes show, worked out once a step; the buttons re-render only when it changed.
    let lanes = Memo::new(move |_| {
        session.with(|s| {
            let world = s.world();
            let choices = world.choices();
            let next = s.next_choice();
            let tick = choices == vec![Choice::Tick];
            world
                .task_views()
                .into_iter()
                .map(|t| {
                    let id = t.id;
                    let runnable = choices.contains(&Choice::Task(id));
                    let is_next = next == Some(Choice::Task(id));
                    let (class, state, why, exact) = match &t.state {
                        TaskState::Runnable => (
                            "runnable",
                            "ready".to_string(),
                            "click to run it next".to_string(),
                            String::new(),
                        ),
                        TaskState::Blocked(reason) => {
                            let why = world.describe_wait(reason);
                            (
                                "waiting",
                                "waiting".to_string(),
                                if tick {
                                    format!("{why} — the clock moves on at the next Step")
                                } else {
                                    why
                                },
                                reason.to_string(),
                            )
                        }
                        TaskState::Finished => (
                            "finished",
                            "finished".to_string(),
                            "returned without error".to_string(),
                            String::new(),
                        ),
                        TaskState::Failed(e) => {
                            ("failed", "failed".to_string(), e.clone(), String::new())
                        }
                    };
                    let line = t.line.map(|l| format!("line {l}")).unwrap_or_default();
                    let conns: Vec<String> = t
                        .connections
                        .iter()
                        .filter_map(|c| world.connections.get(c))
                        .map(|c| c.id.to_string())
                        .collect();
                    let conns = if conns.is_empty() {
                        String::new()
                    } else {
                        format!("holds {}", conns.join(", "))
                    };
                    Lane {
                        id,
                        name: t.name,
                        class,
                        state,
                        why,
                        exact,
                        line,
                        conns,
                        runnable,
                        is_next,
                    }
                })
                .collect::<Vec<_>>()
        })
    });
    let buttons = move || {
        lanes
            .get()
            .into_iter()
            .map(|lane| {
                let Lane {
                    id,
                    name,
                    class,
                    state,
                    why,
                    exact,
                    line,
                    conns,
                    runnable,
                    is_next,
                } = lane;
                let testid = format!("lane-{name}");
                let title = if runnable {
                    format!("Run {name} next")
                } else {
                    format!("{name} cannot run now")
                };
                view! {
                    <button
                        class=format!("lane lane-{class}")
                        class:next=is_next
                        data-testid=testid
                        data-state=class
                        title=title
                        disabled=!runnable
                        on:click=move |_| {
                            player.playing.set(false);
                            session.update(|s| {
                                s.run_task(id);
                            });
                        }
                    >
                        <span class="lane-name">{format!("{noun} {name}")}</span>
                        <span class="lane-state">{state}</span>
                        {is_next.then(|| view! { <span class="lane-next">"next"</span> })}
                        <span class="lane-why" title=exact>{why}</span>
                        <span class="lane-meta">{line}" "{conns}</span>
                    </button>
                }
            })
            .collect::<Vec<_>>()
    };
    let clock = move || session.with(|s| format!("clock {}", s.world().now));
    view! {
        <section class="panel lanes-panel">
            <h2>"Tasks" <span class="clock" data-testid="clock">{clock}</span></h2>
            <div class="lanes" data-testid="lanes">{buttons}</div>
        </section>
    }
}
