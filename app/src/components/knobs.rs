//! The lesson's knobs: numbers the learner turns (how many requests run at once, how large the
//! pool is). Turning one rebuilds the run from the start with the new setting.

use crate::player::{set_knob, Player, SessionSignal};
use leptos::prelude::*;

/// The knobs panel; nothing for a lesson without knobs.
#[component]
pub fn Knobs() -> impl IntoView {
    let session = expect_context::<SessionSignal>();
    let player = expect_context::<Player>();
    let lesson = session.with_untracked(|s| s.lesson);
    if lesson.knobs.is_empty() {
        return ().into_any();
    }
    let inputs: Vec<AnyView> = lesson
        .knobs
        .iter()
        .map(|knob| {
            let name = knob.name.clone();
            let value = {
                let name = name.clone();
                move || {
                    session.with(|s| s.knob_values().get(&name).copied().unwrap_or(knob.default))
                }
            };
            let on_input = {
                let name = name.clone();
                move |ev: leptos::ev::Event| {
                    if let Ok(v) = event_target_value(&ev).trim().parse::<u32>() {
                        set_knob(session, player, &name, v.clamp(knob.min, knob.max));
                    }
                }
            };
            let id = format!("knob-{}", knob.name);
            let range_label = format!("{} (slider)", knob.label);
            let value_for_range = value.clone();
            view! {
                <div class="knob">
                    <label for=id.clone()>{knob.label.clone()}</label>
                    <input
                        type="range"
                        min=knob.min.to_string()
                        max=knob.max.to_string()
                        aria-label=range_label
                        prop:value=move || value_for_range().to_string()
                        on:input=on_input.clone()
                    />
                    <input
                        type="number"
                        id=id.clone()
                        data-testid=id
                        min=knob.min.to_string()
                        max=knob.max.to_string()
                        prop:value=move || value().to_string()
                        on:change=on_input
                    />
                    <span class="knob-range">{format!("{}–{}", knob.min, knob.max)}</span>
                </div>
            }
            .into_any()
        })
        .collect();
    view! {
        <section class="panel knobs-panel" data-testid="knobs">
            <h2>"Knobs"</h2>
            <p class="knobs-hint">
                "Turn a knob and the run starts over with the new setting; then check every schedule."
            </p>
            <fieldset class="knob-list">
                <legend class="visually-hidden">"Lesson settings"</legend>
                {inputs}
            </fieldset>
        </section>
    }
    .into_any()
}
