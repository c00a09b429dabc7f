//! "Check every schedule": the explorer run on the lesson's start world (with the applied fix)
//! in the background ([`crate::checker`]). It shows how far it has come, can be cancelled, and
//! ends with the shortest failing schedule (one click replays it) or the proof that no schedule
//! fails.

use crate::checker::{thousands, CheckPhase, CheckResult, Checker, FoundFailure};
use crate::player::{start_check, Player, SessionSignal};
use leptos::prelude::*;
use lockstep::lesson::KnobValues;
use lockstep::world::Schedule;

/// The check panel.
#[component]
pub fn CheckSchedules() -> impl IntoView {
    let session = expect_context::<SessionSignal>();
    let player = expect_context::<Player>();
    let checker = expect_context::<Checker>();

    // A result speaks of one scenario: a different fix makes it stale.
    let scenario = Memo::new(move |_| session.with(|s| (s.fix.clone(), s.knobs.clone())));
    Effect::new(move |previous: Option<(Option<String>, KnobValues)>| {
        let now = scenario.get();
        if previous.is_some_and(|p| p != now) {
            checker.clear();
        }
        now
    });
    on_cleanup(move || checker.drop_search());

    let body = move || phase_view(checker.phase.get(), session, player);

    view! {
        <section class="panel check-panel" data-testid="check-panel">
            <h2>"Every schedule"</h2>
            <div class="check-buttons">
                <Show
                    when=move || matches!(checker.phase.get(), CheckPhase::Running { .. })
                    fallback=move || {
                        view! {
                            <button
                                class="primary"
                                data-testid="check"
                                title="Check every schedule (c)"
                                on:click=move |_| start_check(session, checker)
                            >
                                "Check every schedule"
                            </button>
                        }
                    }
                >
                    <button
                        data-testid="check-cancel"
                        title="Cancel the check (c or Escape)"
                        on:click=move |_| checker.cancel()
                    >
                        "Cancel"
                    </button>
                </Show>
            </div>
            <div aria-live="polite">{body}</div>
        </section>
    }
}

/// The panel's body in each phase of the check.
fn phase_view(phase: CheckPhase, session: SessionSignal, player: Player) -> AnyView {
    match phase {
        CheckPhase::Idle => view! {
            <p class="check-hint">
                "Explores every order in which the tasks' steps can interleave "
                {move || what(session)}
                ", and reports the shortest schedule that goes wrong, or proves none does."
            </p>
        }
        .into_any(),
        CheckPhase::Running {
            states,
            transitions,
            failures,
            ..
        } => {
            let found = (failures > 0).then(|| {
                format!(
                    ", {} failure kind{} so far",
                    failures,
                    if failures == 1 { "" } else { "s" }
                )
            });
            view! {
                <div class="check-running" data-testid="check-progress">
                    <progress aria-label="Checking every schedule"></progress>
                    <span>
                        {format!("{} states, {} steps", thousands(states), thousands(transitions))}
                        {found}
                    </span>
                </div>
            }
            .into_any()
        }
        CheckPhase::Cancelled { states } => view! {
            <p class="check-result check-cancelled" data-testid="check-result" data-verdict="cancelled">
                {format!(
                    "Cancelled after {} states: nothing is proven. Start again to finish the search.",
                    thousands(states),
                )}
            </p>
        }
        .into_any(),
        CheckPhase::Broken(message) => view! {
            <p class="check-result check-cancelled" data-testid="check-result" data-verdict="broken">
                {format!("The check could not run: {message}. Nothing is proven.")}
            </p>
        }
        .into_any(),
        CheckPhase::Done(result) => done_view(result, session, player),
        // This panel asks about one scenario; only the studio asks about a whole lesson.
        CheckPhase::LessonDone { .. } => ().into_any(),
    }
}

/// What the check explores: the applied fix, or the bug.
fn what(session: SessionSignal) -> String {
    session.with(|s| match &s.fix {
        Some(fix) => {
            let title = s.lesson.fix(fix).map_or(fix.clone(), |f| f.title.clone());
            format!("with the fix “{title}”")
        }
        None => "without a fix (the bug)".to_string(),
    })
}

/// Replays `schedule` from the start, paused.
fn replay_in(session: SessionSignal, player: Player, schedule: String) {
    if let Ok(parsed) = schedule.parse::<Schedule>() {
        player.playing.set(false);
        session.update(|s| {
            s.replay(&parsed);
        });
    }
}

/// A finished check: the shortest failure, or the proof, or how far the search got.
fn done_view(result: CheckResult, session: SessionSignal, player: Player) -> AnyView {
    let seconds = format!("{:.1} s", result.millis / 1000.0);
    let verdict = result.verdict();
    match result.failures.first().cloned() {
        Some(first) => failing_view(&result, first, seconds, verdict, session, player),
        None if result.complete && result.never_ends => view! {
            <div class="check-result check-incomplete" data-testid="check-result" data-verdict=verdict>
                <p><strong>"? No schedule fails, but some never end"</strong></p>
                <p class="check-scope">
                    {format!(
                        "Every interleaving was tried ({} states): some schedules loop forever, so a task can run without end. That is not a proof.",
                        thousands(result.states)
                    )}
                </p>
            </div>
        }
        .into_any(),
        None if result.complete => view! {
            <div class="check-result check-proven" data-testid="check-result" data-verdict=verdict>
                <p>
                    <strong>"✓ No schedule fails"</strong>
                    {format!(" — {} states explored", thousands(result.states))}
                </p>
                <p class="check-scope">
                    {format!(
                        "Every interleaving of every task was tried: {} end states, none wrong ({seconds}).",
                        thousands(result.ends),
                    )}
                </p>
            </div>
        }
        .into_any(),
        None => view! {
            <div class="check-result check-incomplete" data-testid="check-result" data-verdict=verdict>
                <p>
                    <strong>"? No failure within "{thousands(result.states)}" states"</strong>
                </p>
                <p class="check-scope">
                    {format!(
                        "The search stopped before the end ({}), so this is not a proof.",
                        result.stop.map(|s| s.to_string()).unwrap_or_default()
                    )}
                </p>
            </div>
        }
        .into_any(),
    }
}

/// A check that found failures: the shortest, to replay, then the other kinds.
fn failing_view(
    result: &CheckResult,
    first: FoundFailure,
    seconds: String,
    verdict: &'static str,
    session: SessionSignal,
    player: Player,
) -> AnyView {
    let others: Vec<AnyView> = result
        .failures
        .iter()
        .skip(1)
        .map(|f| {
            let schedule = f.schedule.clone();
            view! {
                <li>
                    {f.kind.clone()} " — " {f.steps} " steps: "
                    <code>{f.schedule.clone()}</code>" "
                    <button class="link-button" on:click=move |_| replay_in(session, player, schedule.clone())>
                        "Replay"
                    </button>
                </li>
            }
            .into_any()
        })
        .collect();
    let others = (!others.is_empty()).then(|| {
        view! {
            <p class="check-others-title">"Other ways it goes wrong:"</p>
            <ul class="check-others">{others}</ul>
        }
    });
    let scope = if result.complete {
        format!(
            "{} of {} end states fail; {} states explored in {seconds}.",
            thousands(result.ends_failing),
            thousands(result.ends),
            thousands(result.states),
        )
    } else {
        format!(
            "Found within {} states ({}).",
            thousands(result.states),
            result.stop.map(|s| s.to_string()).unwrap_or_default()
        )
    };
    let schedule = first.schedule.clone();
    view! {
        <div class="check-result check-fails" data-testid="check-result" data-verdict=verdict>
            <p title=first.kind.clone()>
                <strong>"✗ A schedule fails: "</strong>
                {failure_headline(session, &first.schedule)}
            </p>
            <p>
                "Shortest failing schedule (" {first.steps} " steps): "
                <code data-testid="check-schedule">{first.schedule.clone()}</code>
            </p>
            <button
                class="primary"
                data-testid="check-replay"
                on:click=move |_| replay_in(session, player, schedule.clone())
            >
                "Replay this schedule"
            </button>
            <p class="check-scope">{scope}</p>
            {others}
        </div>
    }
    .into_any()
}

/// What a failing schedule shows: the engine's one-sentence verdict on it (the broken rule in
/// the explorer's words stays in the title).
fn failure_headline(session: SessionSignal, schedule: &str) -> String {
    session.with_untracked(|s| {
        let mut world = s.start_world().clone();
        let mut events = Vec::new();
        let moves: Schedule = schedule.parse().unwrap_or_default();
        for mv in &moves.0 {
            let choice = match mv {
                lockstep::world::Move::Tick => lockstep::world::Choice::Tick,
                lockstep::world::Move::Task(name) => match world.task_named(name) {
                    Some(t) => lockstep::world::Choice::Task(t),
                    None => break,
                },
            };
            match world.step(choice) {
                Ok(e) => events.extend(e),
                Err(_) => break,
            }
        }
        world.outcome(&events).verdict.headline(s.task_noun())
    })
}
