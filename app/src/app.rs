//! The page: the sandbox when the address asks for it, a lesson when it names one, the lesson
//! picker otherwise.

use crate::pages::course_list::CourseList;
use crate::pages::lesson::LessonView;
use crate::pages::sandbox::{self, view::SandboxView};
use crate::url;
use leptos::prelude::*;

/// The whole page.
#[component]
pub fn App() -> impl IntoView {
    let state = url::read();
    let lesson = state.lesson.as_deref().and_then(lockstep_lessons::lesson);
    let body = match (lesson, &state.lesson) {
        _ if sandbox::address::wanted() => view! { <SandboxView/> }.into_any(),
        (Some(lesson), _) => view! { <LessonView lesson=lesson start=state.clone()/> }.into_any(),
        (None, Some(slug)) => {
            let message = format!("There is no lesson called “{slug}”.");
            view! {
                <p class="notice">{message}</p>
                <CourseList/>
            }
            .into_any()
        }
        (None, None) => view! { <CourseList/> }.into_any(),
    };
    let embed = state.embed && lesson.is_some();
    view! {
        <main data-testid="app" class="app" class:embedded=embed>
            <header class="site-header" class:hidden=embed>
                <a class="brand" href="?">"Lockstep"</a>
                <span class="tagline">"see database concurrency bugs happen, one step at a time"</span>
            </header>
            {body}
        </main>
    }
}
