//! Where the run stands, in words: ready, running, deadlock, stalled, failed, anomaly,
//! completed.

use crate::player::SessionSignal;
use crate::session::Outcome;
use leptos::prelude::*;
use lockstep::server;
use lockstep::world::{Event, TaskState};

/// The banner above the controls; also the page's `role="status"` narration.
#[component]
pub fn StatusBanner() -> impl IntoView {
    let session = expect_context::<SessionSignal>();
    // Memos: the outcome is worked out once a step, not once for each attribute reading it.
    let state = Memo::new(move |_| {
        session.with(|s| {
            let noun = s.task_noun();
            let last = s
                .steps
                .last()
                .and_then(|st| st.events.last())
                .map(|e| e.narration())
                .unwrap_or_default();
            match s.outcome() {
                Outcome::Ready => (
                    "ready",
                    "ready — press Step or Play, or click a lane to run it".to_string(),
                    String::new(),
                ),
                Outcome::Running => ("running", format!("running — step {}", s.steps.len()), last),
                Outcome::DeadlockDetected { victims } => {
                    let who = if victims.is_empty() {
                        "a transaction aborted".to_string()
                    } else {
                        format!("{noun} {} aborted", victims.join(", "))
                    };
                    (
                        "deadlock",
                        format!("deadlock detected — {who}"),
                        "PostgreSQL found a cycle of lock waits and rolled back the transaction of the backend that ran the check.".to_string(),
                    )
                }
                Outcome::Deadlock { explanation } => (
                    "deadlock",
                    "deadlock — nothing can run, and nothing will break the cycle".to_string(),
                    sentences(&explanation),
                ),
                Outcome::Stalled { explanation } => (
                    "stalled",
                    "stalled — nothing can run and no timer is pending".to_string(),
                    sentences(&explanation),
                ),
                Outcome::Failed { failures } => (
                    "failed",
                    format!("failed — {}", failures.join("; ")),
                    String::new(),
                ),
                Outcome::Anomaly { violations } => (
                    "anomaly",
                    "anomaly — every task finished, but the data is wrong".to_string(),
                    sentences(&violations),
                ),
                Outcome::Completed => {
                    // Errors the lesson counts as correct answers, and deadlocks a retry survived.
                    let answered: Vec<String> = s
                        .world()
                        .task_views()
                        .into_iter()
                        .filter_map(|t| match t.state {
                            TaskState::Failed(e) => Some(format!("{} answered “{e}”", t.name)),
                            _ => None,
                        })
                        .collect();
                    let survived = s.events().any(|e| {
                        matches!(e, Event::Server(server::Event::Error { error, .. }) if error.code == "40P01")
                    });
                    let mut notes = Vec::new();
                    if survived {
                        notes.push("PostgreSQL broke a deadlock on the way, and the victim's retry finished.".to_string());
                    }
                    if !answered.is_empty() {
                        notes.push(format!("{}: a correct outcome in this lesson.", answered.join("; ")));
                    }
                    (
                        "completed",
                        format!("completed — every {noun} finished and the data is right"),
                        notes.join(" "),
                    )
                }
            }
        })
    });
    // Once a run has ended, what a learner would do next.
    let what_next = Memo::new(move |_| {
        session.with(|s| {
            let outcome = s.outcome();
            if !outcome.is_final() {
                return String::new();
            }
            let real_fix = s.lesson.fixes.iter().any(|f| f.proven);
            match (&s.fix, outcome.is_bug()) {
                (None, true) if real_fix => {
                    "Next: go Back to the step where it went wrong, or pick a fix and play again.".to_string()
                }
                (None, true) => "Next: go Back and try another order, or check every schedule.".to_string(),
                (None, false) => {
                    "This order happened to work. Check every schedule to find one that does not.".to_string()
                }
                (Some(fix), _) => match s.lesson.fix(fix) {
                    Some(f) if f.proven && !outcome.is_bug() => {
                        "Next: Check every schedule to prove this fix holds in every order.".to_string()
                    }
                    Some(f) if !f.proven && !outcome.is_bug() => {
                        "This order works with the fix, but the fix is partial: check every schedule to find the one that still fails.".to_string()
                    }
                    _ => "Next: check every schedule, or try another fix.".to_string(),
                },
            }
        })
    });
    // When a run has ended with a PostgreSQL error, the error is the headline's evidence.
    let last_error = Memo::new(move |_| {
        session.with(|s| {
            if !s.outcome().is_bug() {
                return None;
            }
            s.events().rev().find_map(|e| match e {
                Event::Server(server::Event::Error { error, .. }) => Some(error.to_string()),
                _ => None,
            })
        })
    });
    view! {
        <div
            class=move || format!("status-banner status-{}", state.with(|s| s.0))
            data-testid="status"
            data-outcome=move || state.with(|s| s.0)
            role="status"
            aria-live="polite"
        >
            <strong class="status-text">{move || state.with(|s| s.1.clone())}</strong>
            <span class="status-detail">{move || state.with(|s| s.2.clone())}</span>
            <span class="status-next" data-testid="status-next">{what_next}</span>
            {move || {
                last_error
                    .get()
                    .map(|text| {
                        view! { <pre class="status-error" data-testid="status-error">{text}</pre> }
                    })
            }}
        </div>
    }
}

/// Lines of an explanation as one paragraph: each line is a sentence, so it ends with a full
/// stop unless it already ends with punctuation.
fn sentences(lines: &[String]) -> String {
    lines
        .iter()
        .map(|line| {
            let line = line.trim_end();
            if line.ends_with(['.', '!', '?', ':', ';']) {
                line.to_string()
            } else {
                format!("{line}.")
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::sentences;

    #[test]
    fn each_line_of_an_explanation_reads_as_a_sentence() {
        let lines = [
            "pool starvation: every connection is held".to_string(),
            "R1 waits.".to_string(),
        ];
        assert_eq!(
            sentences(&lines),
            "pool starvation: every connection is held. R1 waits."
        );
    }
}
