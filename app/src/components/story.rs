//! The lesson's story: its first paragraph as a lead (the setting, not the outcome), the rest
//! one click away. Whether the learner opened it is remembered.

use crate::player::SessionSignal;
use crate::{markdown, remembered};
use leptos::prelude::*;

/// Where the story's disclosure state is remembered.
const STORY_OPEN_KEY: &str = "lockstep.story-open";

/// The story panel.
#[component]
pub fn Story() -> impl IntoView {
    let session = expect_context::<SessionSignal>();
    let story = session.with_untracked(|s| s.lesson.story.clone());
    let (lead, rest) = match story.split_once("\n\n") {
        Some((lead, rest)) => (lead.to_string(), rest.trim().to_string()),
        None => (story.clone(), String::new()),
    };
    let open = RwSignal::new(remembered::get(STORY_OPEN_KEY).as_deref() == Some("1"));
    let toggle = move |_| {
        open.update(|o| *o = !*o);
        remembered::set(STORY_OPEN_KEY, if open.get_untracked() { "1" } else { "0" });
    };
    let more = (!rest.is_empty()).then(|| {
        let rest_blocks = rest.clone();
        view! {
            <Show when=move || open.get()>
                <div class="story-rest" data-testid="story-rest">{markdown::render(&rest_blocks)}</div>
            </Show>
            <button
                class="link-button story-toggle"
                data-testid="story-toggle"
                aria-expanded=move || open.get().to_string()
                on:click=toggle
            >
                {move || if open.get() { "Show less of the story" } else { "Read the whole story" }}
            </button>
        }
    });
    view! {
        <section class="panel story" data-testid="story">
            <h2>"The story"</h2>
            <div class="story-lead">{markdown::render(&lead)}</div>
            {more}
        </section>
    }
}
