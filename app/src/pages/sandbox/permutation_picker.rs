//! The permutation picker: the listed permutations (a bounded slice, [`super::picker`]), "by
//! hand", and a number field that reaches any permutation, with the count.

use super::model::Plan;
use super::picker;
use super::signal::SandboxSignal;
use leptos::prelude::*;

/// The plan picker of the sandbox.
#[component]
pub fn PermutationPicker(sandbox: SandboxSignal) -> impl IntoView {
    let options = move || {
        sandbox.with(|s| {
            let Some(s) = s else {
                return Vec::new();
            };
            let selected = s.plan.clone();
            let index = match &selected {
                Plan::Permutation(i) => Some(*i),
                Plan::ByHand => None,
            };
            let mut options: Vec<AnyView> = match &s.permutations {
                Ok(list) => picker::options(list, index)
                    .into_iter()
                    .map(|option| {
                        let is = index == Some(option.index);
                        view! { <option value=option.index.to_string() selected=is>{option.label}</option> }.into_any()
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
    // How many permutations there are, when they could be listed.
    let count = move || {
        sandbox.with(|s| {
            s.as_ref()
                .and_then(|s| s.permutations.as_ref().ok().map(Vec::len))
        })
    };
    let count_label = move || picker::count_text(count().unwrap_or(0));
    // The number of the permutation followed, empty by hand.
    let number = move || {
        sandbox.with(|s| match s.as_ref().map(|s| &s.plan) {
            Some(Plan::Permutation(i)) => (i + 1).to_string(),
            _ => String::new(),
        })
    };
    let own_lines =
        move || sandbox.with(|s| s.as_ref().is_some_and(|s| !s.spec.permutations.is_empty()));
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
            <Show when=move || count().is_some()>
                <label class="permutation-number">
                    <span>"permutation "</span>
                    <input
                        type="number"
                        data-testid="permutation-number"
                        min="1"
                        max=move || count().unwrap_or(0).to_string()
                        prop:value=number
                        on:change=move |ev| {
                            let value = event_target_value(&ev);
                            let Some(count) = count() else { return };
                            if let Some(i) = picker::by_number(&value, count) {
                                sandbox.update(|s| {
                                    if let Some(s) = s {
                                        s.set_plan(Plan::Permutation(i));
                                    }
                                });
                            }
                        }
                    />
                    <span data-testid="permutation-count">{move || format!(" of {}", count_label())}</span>
                </label>
            </Show>
            {too_many}
        </div>
    }
}
