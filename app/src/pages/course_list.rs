//! The course: every lesson in order, with its summary and a done mark.

use crate::progress;
use leptos::prelude::*;

/// The list of lessons.
#[component]
pub fn CourseList() -> impl IntoView {
    let done = progress::done();
    let items: Vec<AnyView> = lockstep_lessons::catalogue()
        .iter()
        .enumerate()
        .map(|(i, lesson)| {
            let is_done = done.contains(&lesson.slug);
            let href = format!("?lesson={}", lesson.slug);
            let testid = format!("lesson-{}", lesson.slug);
            let language = lesson.language.clone();
            view! {
                <li class="lesson-card" class:done=is_done data-testid=testid>
                    <span class="lesson-number">{i + 1}</span>
                    <div>
                        <a href=href class="lesson-link">{lesson.title.clone()}</a>
                        <span class="language">{language}</span>
                        {is_done.then(|| view! { <span class="done-mark" title="done">"✓ done"</span> })}
                        <p>{lesson.summary.clone()}</p>
                    </div>
                </li>
            }
            .into_any()
        })
        .collect();
    view! {
        <section class="picker" data-testid="lesson-picker">
            <h1>"Lessons"</h1>
            <p class="intro">
                "Each lesson replays a real production bug inside a simulated PostgreSQL. "
                "Step through it, be the scheduler, then apply the fix and watch the bug disappear."
            </p>
            <ol class="lessons">{items}</ol>
            <p class="sandbox-link">
                <a href="?sandbox=1" data-testid="open-sandbox">"Sandbox"</a>
                " — run your own PostgreSQL isolation spec (or a lost update, write skew or deadlock "
                "example), step by step."
            </p>
        </section>
    }
}
