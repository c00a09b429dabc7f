//! The sandbox's `role="status"` line: where the run stands, in the words `deadlock`,
//! `stalled`, `failed`, `anomaly`, `completed`, or what the last move did.

use super::signal::{Loader, Problem, SandboxSignal};
use leptos::prelude::*;

/// The status banner of the sandbox.
#[component]
pub fn SandboxStatus(
    sandbox: SandboxSignal,
    problem: RwSignal<Option<Problem>>,
    loader: Loader,
) -> impl IntoView {
    let state = move || {
        if loader.progress.with(Option::is_some) {
            return (
                "loading",
                "the spec's setup is running".to_string(),
                String::new(),
            );
        }
        sandbox.with(|s| match s {
            Some(s) => {
                let outcome = s.outcome();
                let word = outcome.word();
                let detail = match s.check {
                    Some(check) if !outcome.is_final() => {
                        format!("The rule checked at the end: {}.", check.rule)
                    }
                    _ => String::new(),
                };
                (word, s.narration(), detail)
            }
            None => (
                "invalid",
                "the spec does not load — fix it in the editor".to_string(),
                problem.with(|p| p.as_ref().map(|p| p.message.clone()).unwrap_or_default()),
            ),
        })
    };
    let last_error = move || {
        sandbox.with(|s| {
            let s = s.as_ref()?;
            if !s.outcome().is_final() {
                return None;
            }
            s.errors().last().map(|(who, e)| format!("{who}: {e}"))
        })
    };
    view! {
        <div
            class=move || format!("status-banner status-{}", state().0)
            data-testid="status"
            data-outcome=move || state().0
            role="status"
            aria-live="polite"
        >
            <strong class="status-text">{move || state().1}</strong>
            <span class="status-detail">{move || state().2}</span>
            {move || last_error().map(|text| view! { <pre class="status-error" data-testid="status-error">{text}</pre> })}
        </div>
    }
}
