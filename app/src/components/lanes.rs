//! One lane per task: its name, its state, the line of code it is on, why it waits in words
//! and whom it waits for (the same edge the wait-for graph draws); a click runs it next. A lane
//! that the last move changed is marked.

use crate::export::label;
use crate::player::{Player, SessionSignal};
use crate::session::Session;
use leptos::prelude::*;
use lockstep::server::{PgError, SessionState};
use lockstep::world::{Choice, TaskId, TaskState, WaitNode, World};

/// What one lane shows.
#[derive(Clone, PartialEq)]
struct Lane {
    id: TaskId,
    name: String,
    class: &'static str,
    state: String,
    why: String,
    /// The wait in PostgreSQL's and the driver's own words (the tooltip).
    exact: String,
    line: String,
    /// The text of the line the task is on.
    code: String,
    /// Whom it waits for, as the wait-for graph names them.
    waits_for: Vec<String>,
    /// Whether one of its waits is on a cycle.
    in_cycle: bool,
    conns: String,
    /// The connections it holds with their server processes, for the tooltip.
    conns_title: String,
    runnable: bool,
    is_next: bool,
    /// Whether its state, line or wait differ from what the lane showed before this move.
    changed: bool,
}

/// The task lanes.
#[component]
pub fn Lanes() -> impl IntoView {
    let session = expect_context::<SessionSignal>();
    let player = expect_context::<Player>();
    let noun = session.with_untracked(|s| s.task_noun());
    // What the lanes show, worked out once a step; the buttons re-render only when it changed.
    let lanes =
        Memo::new(move |previous: Option<&Vec<Lane>>| session.with(|s| lanes_of(s, previous)));
    let buttons = move || {
        lanes
            .get()
            .into_iter()
            .map(|lane| lane_button(lane, noun, session, player))
            .collect::<Vec<_>>()
    };
    let clock = move || session.with(|s| format!("clock {}", s.world().now()));
    view! {
        <section class="panel lanes-panel">
            <h2>"Tasks" <span class="clock" data-testid="clock">{clock}</span></h2>
            <div class="lanes" data-testid="lanes">{buttons}</div>
        </section>
    }
}

/// What the lanes show at the session's current step; a lane is marked changed when it differs
/// from the one shown `previous`ly.
fn lanes_of(s: &Session, previous: Option<&Vec<Lane>>) -> Vec<Lane> {
    let world = s.world();
    let choices = world.choices();
    let next = s.next_choice();
    let tick = choices == vec![Choice::Tick];
    let graph = world.wait_for_graph();
    let cycles = graph.closed_cycles();
    let fix = s.fix.as_deref();
    let lanes: Vec<Lane> = world
        .task_views()
        .into_iter()
        .map(|t| {
            let id = t.id;
            let runnable = choices.contains(&Choice::Task(id));
            let is_next = next == Some(Choice::Task(id));
            // The connections it holds: short in the lane, their server processes in the tooltip.
            let held: Vec<_> = t
                .connections
                .iter()
                .filter_map(|c| world.connection_view(*c))
                .collect();
            // Its transaction is aborted (a deadlock, a timeout, an error): the backend behind
            // one of its connections ignores everything until ROLLBACK.
            let aborted = held
                .iter()
                .any(|c| world.server().state(c.pid) == SessionState::IdleInTransactionAborted);
            let (class, state, why, exact) = task_words(world, &t.state, tick, aborted);
            let line = t.line.map(|l| format!("line {l}")).unwrap_or_default();
            let code = t
                .line
                .and_then(|l| {
                    let listing = s.lesson.listing_of(&t.name, fix)?;
                    let text = listing.code.lines().nth(l.checked_sub(1)? as usize)?;
                    Some(text.trim().to_string())
                })
                .unwrap_or_default();
            let me = WaitNode::Task(id);
            let out: Vec<_> = graph.edges.iter().filter(|e| e.from == me).collect();
            let waits_for = out.iter().map(|e| label(s.world(), e.to)).collect();
            // Its wait leads into a cycle: it is on one, or waits for a session on
            // PostgreSQL's (its own connection, caught in a deadlock).
            let in_cycle = out.iter().any(|e| cycles.iter().any(|c| c.contains(&e.to)));
            let conns = held
                .iter()
                .map(|c| c.id.to_string())
                .collect::<Vec<_>>()
                .join(", ");
            let conns_title = held
                .iter()
                .map(|c| format!("holds {} (process {})", c.id, c.pid))
                .collect::<Vec<_>>()
                .join(", ");
            Lane {
                id,
                name: t.name,
                class,
                state,
                why,
                exact,
                line,
                code,
                waits_for,
                in_cycle,
                conns,
                conns_title,
                runnable,
                is_next,
                changed: false,
            }
        })
        .collect();
    let shown_before = |lane: &Lane| {
        previous
            .and_then(|p| p.iter().find(|b| b.id == lane.id))
            .map(|b| {
                (&b.state, &b.why, &b.line, &b.waits_for)
                    == (&lane.state, &lane.why, &lane.line, &lane.waits_for)
            })
    };
    lanes
        .into_iter()
        .map(|lane| Lane {
            changed: shown_before(&lane) == Some(false),
            ..lane
        })
        .collect::<Vec<_>>()
}

/// A task's state in words: its class, its state, why it is in that state, and the wait in
/// PostgreSQL's and the driver's own words; `tick` when only the clock can move, `aborted` when
/// PostgreSQL has aborted a transaction it has open.
fn task_words(
    world: &World,
    state: &TaskState,
    tick: bool,
    aborted: bool,
) -> (&'static str, String, String, String) {
    match state {
        TaskState::Runnable if aborted => (
            "runnable",
            "ready".to_string(),
            "transaction aborted until ROLLBACK".to_string(),
            PgError::in_failed_transaction().to_string(),
        ),
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
        TaskState::Failed(e) => ("failed", "failed".to_string(), e.clone(), e.clone()),
    }
}

/// One lane's button; a click runs its task next.
fn lane_button(
    lane: Lane,
    noun: &'static str,
    session: SessionSignal,
    player: Player,
) -> impl IntoView {
    let Lane {
        id,
        name,
        class,
        state,
        why,
        exact,
        line,
        code,
        waits_for,
        in_cycle,
        conns,
        conns_title,
        runnable,
        is_next,
        changed,
    } = lane;
    let testid = format!("lane-{name}");
    let why_title = if exact.is_empty() { why.clone() } else { exact };
    let title = if runnable {
        format!("Run {name} next")
    } else {
        format!("{name} cannot run now")
    };
    view! {
        <button
            class=format!("lane lane-{class}")
            class:next=is_next
            class:changed=changed
            data-testid=testid
            data-waits-for=waits_for.join(" ")
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
            <span class="lane-why" title=why_title>{why}</span>
            {(!waits_for.is_empty()).then(|| {
                let text = format!("waits for → {}", waits_for.join(", "));
                view! {
                    <span class="lane-edge" class:in-cycle=in_cycle data-testid="waits-for">{text}</span>
                }
            })}
            {(!code.is_empty()).then(|| view! {
                <code class="lane-code" data-testid="task-line"><span class="lane-line">{line.clone()}</span>" "{code}</code>
            })}
            <span class="lane-meta" title=conns_title>{conns}</span>
        </button>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lockstep::world::Verdict;

    /// The moment the deadlock detector fires, the worker whose transaction it aborted is
    /// ready to run, and its lane says that PostgreSQL now ignores its statements; the other
    /// worker's lane does not.
    #[test]
    fn the_aborted_workers_lane_says_its_transaction_is_aborted() {
        let lesson = lockstep_lessons::lesson("lock-order").expect("the lesson exists");
        let mut session = Session::new(lesson, None).unwrap();
        while !matches!(session.outcome().verdict, Verdict::DeadlockDetected { .. }) {
            assert!(session.step(), "the run ended before the deadlock");
        }
        let lanes = lanes_of(&session, None);
        let aborted: Vec<_> = lanes
            .iter()
            .filter(|l| l.why.starts_with("transaction aborted"))
            .collect();
        assert_eq!(
            aborted.len(),
            1,
            "{:?}",
            lanes.iter().map(|l| &l.why).collect::<Vec<_>>()
        );
        assert!(aborted[0].runnable);
        assert_eq!(
            aborted[0].exact,
            "ERROR:  current transaction is aborted, commands ignored until end of transaction block"
        );
    }
}
