//! Where the run stands, in words: ready, running, deadlock, stalled, failed, anomaly,
//! completed.

use super::lesson_view::SessionSignal;
use crate::session::Outcome;
use leptos::prelude::*;
use lockstep::server;
use lockstep::world::Event;

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
                    explanation.join(" "),
                ),
                Outcome::Stalled { explanation } => (
                    "stalled",
                    "stalled — nothing can run and no timer is pending".to_string(),
                    explanation.join(" "),
                ),
                Outcome::Failed { failures } => (
                    "failed",
                    format!("failed — {}", failures.join("; ")),
                    String::new(),
                ),
                Outcome::Anomaly { violations } => (
                    "anomaly",
                    "anomaly — every task finished, but the data is wrong".to_string(),
                    violations.join(" "),
                ),
                Outcome::Completed => (
                    "completed",
                    format!("completed — every {noun} finished and committed"),
                    String::new(),
                ),
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
