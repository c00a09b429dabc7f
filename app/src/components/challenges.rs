//! The lesson's challenges: the list beside the story, and the open challenge's card on the
//! stage with its goal, the tries so far, the hint when earned, and, once met, the learner's
//! schedule beside the shortest one, each of which can be replayed.

use crate::challenge::{self, ChallengeState, Met};
use crate::checker::Checker;
use crate::markdown;
use crate::player::{Player, SessionSignal};
use crate::progress;
use leptos::prelude::*;
use lockstep::lesson::{Challenge, ChallengeKind};
use lockstep::world::Schedule;

/// What a kind is called on the page.
fn kind_label(kind: ChallengeKind) -> &'static str {
    match kind {
        ChallengeKind::MakeItFail => "Make it fail",
        ChallengeKind::BreakTheFix => "Break the fix",
        ChallengeKind::Survive => "Survive",
        ChallengeKind::SizeIt => "Size it",
    }
}

/// The list of challenges, each a button that opens it.
#[component]
pub fn ChallengeList() -> impl IntoView {
    let session = expect_context::<SessionSignal>();
    let player = expect_context::<Player>();
    let checker = expect_context::<Checker>();
    let state = expect_context::<ChallengeState>();
    let lesson = session.with_untracked(|s| s.lesson);
    if lesson.challenges.is_empty() {
        return ().into_any();
    }
    let items = lesson
        .challenges
        .iter()
        .map(|c: &'static Challenge| {
            let id = c.id.clone();
            let testid = format!("challenge-{}", c.id);
            let solved = Signal::derive(move || {
                state.result.with(Option::is_some);
                progress::solved(&lesson.slug).contains(&id)
            });
            let is_open = move || state.open.with(|o| o.is_some_and(|o| o.id == c.id));
            view! {
                <li>
                    <button
                        data-testid=testid
                        class="challenge-open"
                        class:solved=solved
                        aria-pressed=move || is_open().to_string()
                        on:click=move |_| challenge::open(c, state, session, player, checker)
                    >
                        <span class="challenge-kind">{kind_label(c.kind)}</span>
                        " "
                        <span class="challenge-title">{c.title.clone()}</span>
                        {move || solved.get().then(|| view! { <span class="solved-mark">" ✓"</span> })}
                    </button>
                </li>
            }
        })
        .collect::<Vec<_>>();
    view! {
        <section class="challenges" data-testid="challenges">
            <h2>"Challenges"</h2>
            <ul>{items}</ul>
        </section>
    }
    .into_any()
}

/// Chips for a schedule of clicks; the chip at `at` (when replaying it) is marked.
fn chips(clicks: &Schedule, at: Option<usize>) -> Vec<AnyView> {
    clicks
        .0
        .iter()
        .enumerate()
        .map(|(i, mv)| {
            let now = at == Some(i + 1);
            view! { <span class="chip" class:now=now>{mv.to_string()}</span> }.into_any()
        })
        .collect()
}

/// A challenge met: the learner's schedule beside the `shortest` one, each replayable (the
/// chip the replay is at marked), or what the explorer proved.
fn met_view(
    met: Met,
    shortest: &Schedule,
    replaying: RwSignal<Option<&'static str>>,
    session: SessionSignal,
    player: Player,
) -> AnyView {
    let at = move || session.with(|s| s.beat_position());
    match met {
        Met::Clicked { yours, outcome } => {
            let short = shortest.clone();
            let mine = yours.clone();
            let comparison = if yours.0.len() <= shortest.0.len() {
                format!("{} clicks ({outcome}): as short as it gets.", yours.0.len())
            } else {
                format!(
                    "{} clicks ({outcome}); the shortest schedule takes {}.",
                    yours.0.len(),
                    shortest.0.len()
                )
            };
            view! {
                <div class="challenge-met" data-testid="challenge-met">
                    <p><strong>"Challenge met. "</strong>{comparison}</p>
                    <div class="schedules">
                        <div class="schedule-row" data-testid="yours">
                            <span class="row-label">"Yours"</span>
                            <span class="chips">
                                {move || chips(&mine, (replaying.get() == Some("yours")).then(at))}
                            </span>
                            <button
                                data-testid="replay-yours"
                                on:click={
                                    let yours = yours.clone();
                                    move |_| {
                                        replaying.set(Some("yours"));
                                        challenge::replay_clicks(&yours, session, player);
                                    }
                                }
                            >
                                "Replay yours"
                            </button>
                        </div>
                        <div class="schedule-row" data-testid="shortest">
                            <span class="row-label">"Shortest"</span>
                            <span class="chips">
                                {move || chips(&short, (replaying.get() == Some("shortest")).then(at))}
                            </span>
                            <button
                                data-testid="replay-shortest"
                                on:click={
                                    let shortest = shortest.clone();
                                    move |_| {
                                        replaying.set(Some("shortest"));
                                        challenge::replay_clicks(&shortest, session, player);
                                    }
                                }
                            >
                                "Replay the shortest"
                            </button>
                        </div>
                    </div>
                </div>
            }
            .into_any()
        }
        Met::Proven { choice } => view! {
            <div class="challenge-met" data-testid="challenge-met">
                <p>
                    <strong>"Challenge met. "</strong>
                    {format!("The explorer proved {choice}: no schedule fails.")}
                </p>
            </div>
        }
        .into_any(),
    }
}

/// The open challenge, on the stage.
#[component]
pub fn ChallengeCard() -> impl IntoView {
    let session = expect_context::<SessionSignal>();
    let player = expect_context::<Player>();
    let state = expect_context::<ChallengeState>();
    // Which of the two schedules the run is a replay of, to mark the click it is at.
    let replaying = RwSignal::new(None::<&'static str>);
    let card = move || {
        let challenge = state.open.get()?;
        let shortest: Schedule = challenge.solution.parse().unwrap_or_default();
        let scheduling = challenge.kind.is_scheduling();
        let tries = state.tries.get();
        let hint = state.hint_shown.get().then(|| challenge.hint.clone());
        let result = state
            .result
            .get()
            .map(|met| met_view(met, &shortest, replaying, session, player));
        let not_met = state
            .not_met
            .get()
            .map(|text| view! { <p class="challenge-not-met" data-testid="challenge-not-met">{text}</p> });
        let how = "Choose, then press Check every schedule (or c).";
        let solution_shown = state.solution_shown.get();
        let help_empty = tries == 0 && !state.hint_shown.get();
        Some(view! {
            <section class="challenge-card" data-testid="challenge-card" data-challenge=challenge.id.clone() aria-label="Challenge">
                <header>
                    <span class="challenge-kind">{kind_label(challenge.kind)}</span>
                    " "
                    <strong>{challenge.title.clone()}</strong>
                    <button
                        class="challenge-leave"
                        data-testid="challenge-leave"
                        aria-label="Leave the challenge"
                        title="Leave the challenge"
                        on:click=move |_| {
                            replaying.set(None);
                            challenge::leave(state);
                        }
                    >
                        "×"
                    </button>
                </header>
                {result.is_none().then(|| view! {
                    <div class="challenge-prompt">{markdown::inline(challenge.prompt.trim())}</div>
                })}
                {(result.is_none() && !scheduling).then(|| view! { <p class="challenge-how">{how}</p> })}
                {result}
                {not_met}
                <p class="challenge-help" class:empty=help_empty>
                    <span data-testid="challenge-tries">
                        {match tries {
                            0 => String::new(),
                            1 => "1 try so far. ".to_string(),
                            n => format!("{n} tries so far. "),
                        }}
                    </span>
                    {match hint {
                        Some(text) => Some(view! {
                            <span class="challenge-hint" data-testid="challenge-hint">"Hint: " {text}</span>
                        }
                        .into_any()),
                        None if state.hint_ready() && state.result.get().is_none() => Some(view! {
                            <button data-testid="show-hint" on:click=move |_| state.hint_shown.set(true)>
                                "Show a hint"
                            </button>
                        }
                        .into_any()),
                        None => None,
                    }}
                    {(scheduling && state.hint_shown.get() && state.result.get().is_none()).then(|| view! {
                        <button
                            data-testid="show-solution"
                            disabled=solution_shown
                            on:click=move |_| {
                                replaying.set(Some("shortest"));
                                challenge::show_solution(state, session, player);
                            }
                        >
                            "Play a solution"
                        </button>
                    })}
                </p>
            </section>
        })
    };
    view! { {card} }
}
