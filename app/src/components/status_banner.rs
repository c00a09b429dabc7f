//! Where the run stands, in the lesson's words: what the last step did, the key moment it
//! brought, and the engine's verdict once it is certain; PostgreSQL's exact wording one click
//! away in the details.

use crate::challenge::{ChallengeState, Met};
use crate::player::{Player, SessionSignal};
use crate::session::Session;
use leptos::prelude::*;
use lockstep::server;
use lockstep::world::{Event, Verdict};

/// What the banner shows, worked out once a step.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Banner {
    /// ready, running, completed, deadlock, stalled, failed or anomaly.
    word: &'static str,
    /// The short label before the headline.
    label: String,
    /// One sentence.
    headline: String,
    /// What the last step did, when the headline is the verdict.
    detail: String,
    /// The key moments of the last step.
    moments: Vec<String>,
    /// Every event of the last step in its exact wording.
    exact: Vec<String>,
    /// The last PostgreSQL error of a run that shows a bug.
    error: Option<String>,
}

impl Banner {
    /// The banner for the session's current step; `scheduler` when the learner must pick every
    /// step (a challenge to schedule by hand).
    fn of(s: &Session, scheduler: bool) -> Banner {
        let noun = s.task_noun();
        let outcome = s.outcome();
        let word = outcome.word();
        let beat = s.beat_headline();
        let moments: Vec<String> = s.beat_moments().iter().map(|m| m.sentence()).collect();
        let (label, headline, detail) = if outcome.ready {
            (
                "Ready".to_string(),
                if scheduler {
                    "You are the scheduler: click a lane (or press its number) to run that task next.".to_string()
                } else {
                    "Press Step or Play, or click a lane to run that task next.".to_string()
                },
                String::new(),
            )
        } else if outcome.is_declared() {
            let label = verdict_label(&outcome.verdict);
            let mut detail = completed_notes(&outcome.verdict);
            if !outcome.ended && !beat.is_empty() {
                detail = format!("This step: {beat}");
            }
            (label, outcome.verdict.headline(noun), detail)
        } else {
            let headline = if beat.is_empty() {
                moments.first().cloned().unwrap_or_default()
            } else {
                beat
            };
            (
                format!("Step {} of {}", s.beat_position(), s.beat_len()),
                headline,
                String::new(),
            )
        };
        let (_, steps) = s.current_beat();
        let exact: Vec<String> = steps
            .iter()
            .flat_map(|st| st.events.iter())
            .map(|e| e.narration())
            .collect();
        let error = outcome
            .is_bug()
            .then(|| {
                s.events().rev().find_map(|e| match e {
                    Event::Server(server::Event::Error { error, .. }) => Some(error.to_string()),
                    _ => None,
                })
            })
            .flatten();
        Banner {
            word,
            label,
            headline,
            detail,
            moments,
            exact,
            error,
        }
    }
}

/// The banner above the controls; also the page's `role="status"` narration.
#[component]
pub fn StatusBanner() -> impl IntoView {
    let session = expect_context::<SessionSignal>();
    let player = expect_context::<Player>();
    let banner = Memo::new(move |_| {
        let scheduler = player.scheduler_only.get();
        session.with(|s| Banner::of(s, scheduler))
    });
    // Once the verdict is in, what a learner would do next.
    // In a challenge, the challenge card says what to do next; a challenge met is announced
    // here, in the page's one status region.
    let challenge = use_context::<ChallengeState>();
    let in_challenge = move || challenge.is_some_and(|c| c.open.with(Option::is_some));
    let what_next = Memo::new(move |_| {
        let challenge_open = in_challenge();
        session.with(|s| what_to_do_next(s, challenge_open))
    });
    let met = move || {
        let state = challenge?;
        let c = state.open.get()?;
        let says = match state.result.get()? {
            Met::Clicked { yours, outcome } => {
                let shortest = c.clicks().len();
                format!(
                    "Challenge met: {} — {outcome} in {} clicks (the shortest takes {shortest}).",
                    c.title,
                    yours.0.len()
                )
            }
            Met::Proven { choice } => format!(
                "Challenge met: {} — the explorer proved {choice}: no schedule fails.",
                c.title
            ),
        };
        Some(view! { <span class="status-challenge" data-testid="challenge-won">{says}</span> })
    };
    let paused_here = move || {
        let at = session.with(|s| s.beat_position());
        player.key_pause.get() == Some(at)
    };
    view! {
        <div
            class=move || banner.with(|b| format!("status-banner status-{}", b.word))
            data-testid="status"
            data-outcome=move || banner.with(|b| b.word)
            role="status"
            aria-live="polite"
        >
            <span class="status-label" data-testid="status-label">{move || banner.with(|b| b.label.clone())}</span>
            " "
            <strong class="status-text" data-testid="status-headline">{move || banner.with(|b| b.headline.clone())}</strong>
            <span class="status-detail">{move || banner.with(|b| b.detail.clone())}</span>
            {move || {
                banner
                    .with(|b| b.moments.clone())
                    .into_iter()
                    .map(|m| view! { <span class="status-moment" data-testid="key-moment">"Key moment: " {m}</span> })
                    .collect::<Vec<_>>()
            }}
            <Show when=paused_here>
                <span class="status-paused" data-testid="key-pause">
                    "Play paused at this key moment. Press Play to go on."
                </span>
            </Show>
            {met}
            <span class="status-next" data-testid="status-next">{what_next}</span>
            <Show when=move || banner.with(|b| !b.exact.is_empty() || b.error.is_some())>
                <details class="status-details" data-testid="status-details">
                    <summary>"Exact messages"</summary>
                    <ul class="status-exact">
                        {move || {
                            banner
                                .with(|b| b.exact.clone())
                                .into_iter()
                                .map(|line| view! { <li>{line}</li> })
                                .collect::<Vec<_>>()
                        }}
                    </ul>
                    {move || {
                        banner
                            .with(|b| b.error.clone())
                            .map(|text| {
                                view! { <pre class="status-error" data-testid="status-error">{text}</pre> }
                            })
                    }}
                </details>
            </Show>
        </div>
    }
}

/// What a learner would do next once the verdict is in; nothing before, or in a challenge
/// (`challenge_open`), whose card says it.
fn what_to_do_next(s: &Session, challenge_open: bool) -> String {
    let outcome = s.outcome();
    if !outcome.is_declared() || challenge_open {
        return String::new();
    }
    let real_fix = s.lesson.fixes.iter().any(|f| f.proven);
    let more = if outcome.ended {
        ""
    } else {
        " Step or Play shows the rest of the run."
    };
    let next = match (&s.fix, outcome.is_bug()) {
        (None, true) if real_fix => {
            "Next: go Back to the step where it went wrong, or pick a fix and play again."
        }
        (None, true) => "Next: go Back and try another order, or check every schedule.",
        (None, false) => {
            "This order happened to work. Check every schedule to find one that does not."
        }
        (Some(fix), _) => match s.lesson.fix(fix) {
            Some(f) if f.proven && !outcome.is_bug() => {
                "Next: check every schedule to prove this fix holds in every order."
            }
            Some(f) if !f.proven && !outcome.is_bug() => {
                "This order works with the fix, but the fix is partial: check every schedule to find the one that still fails."
            }
            _ => "Next: check every schedule, or try another fix.",
        },
    };
    format!("{next}{more}")
}

/// The short label of a declared verdict.
fn verdict_label(verdict: &Verdict) -> String {
    match verdict {
        Verdict::DeadlockDetected { .. } => "Deadlock detected".to_string(),
        Verdict::Deadlock { .. } => "Deadlock".to_string(),
        Verdict::Stall { .. } => "Stalled".to_string(),
        Verdict::Failed { .. } => "Failed".to_string(),
        Verdict::Anomaly { .. } => "Anomaly".to_string(),
        Verdict::Completed { .. } => "Completed".to_string(),
        Verdict::Running => "Running".to_string(),
    }
}

/// What a completed run adds to its verdict: a deadlock survived, the answers that count as
/// correct; nothing for other verdicts.
fn completed_notes(verdict: &Verdict) -> String {
    match verdict {
        Verdict::Completed {
            answers,
            deadlock_survived,
        } => {
            let mut notes = Vec::new();
            if *deadlock_survived {
                notes.push(
                    "PostgreSQL broke a deadlock on the way, and the victim's retry finished."
                        .to_string(),
                );
            }
            if !answers.is_empty() {
                let said: Vec<String> = answers
                    .iter()
                    .map(|(n, e)| format!("{n} answered “{e}”"))
                    .collect();
                notes.push(format!(
                    "{}: a correct answer in this lesson.",
                    said.join("; ")
                ));
            }
            notes.join(" ")
        }
        _ => String::new(),
    }
}
