//! The lesson's story.

use super::lesson_view::SessionSignal;
use crate::markdown;
use leptos::prelude::*;

/// The story panel.
#[component]
pub fn Story() -> impl IntoView {
    let session = expect_context::<SessionSignal>();
    let story = session.with_untracked(|s| s.lesson.story.clone());
    view! {
        <section class="panel story" data-testid="story">
            <h2>"The story"</h2>
            {markdown::render(&story)}
        </section>
    }
}
