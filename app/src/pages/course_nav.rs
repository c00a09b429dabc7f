//! Where the lesson sits in the course, with links to its neighbours.

use leptos::prelude::*;
use lockstep_lessons::{Entry, Lesson};

/// Where the lesson sits in the course, with links to its neighbours.
#[component]
pub fn CourseNav(lesson: &'static Lesson) -> impl IntoView {
    let all = lockstep_lessons::index();
    let Some(at) = all.iter().position(|l| l.slug == lesson.slug) else {
        return ().into_any();
    };
    let link = |l: &Entry, text: String, testid: &'static str| {
        let href = format!("?lesson={}", l.slug);
        view! { <a class="course-link" href=href data-testid=testid title=l.title>{text}</a> }
    };
    let previous = at
        .checked_sub(1)
        .and_then(|i| all.get(i))
        .map(|l| link(l, "← Previous".to_string(), "previous-lesson"));
    let next = all
        .get(at + 1)
        .map(|l| link(l, format!("Next: {} →", l.title), "next-lesson"));
    view! {
        <nav class="course-nav" aria-label="Course">
            <a class="course-link" href="?">"All lessons"</a>
            {previous}
            <span class="course-position">{format!("Lesson {} of {}", at + 1, all.len())}</span>
            {next}
        </nav>
    }
    .into_any()
}
