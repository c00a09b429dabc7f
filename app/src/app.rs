//! The three pages' roots: [`App`], a lesson when the address names one and the lesson picker
//! otherwise; [`SandboxApp`], the sandbox (`sandbox.html`); [`StudioApp`], the studio
//! (`studio.html`). Old sandbox links to the lesson page (`?sandbox=1`, `?spec=`), and studio
//! links to it (`?studio=1`, `?lesson_src=`), are sent on to their pages by `index.html`
//! before any of this loads.

use crate::pages::course_list::CourseList;
use crate::pages::lesson::LessonView;
use crate::pages::sandbox::view::SandboxView;
use crate::pages::studio::view::StudioView;
use crate::url;
use leptos::prelude::*;

/// The lesson page.
#[component]
pub fn App() -> impl IntoView {
    let state = url::read();
    let lesson = state.lesson.as_deref().and_then(lockstep_lessons::lesson);
    let body = match (lesson, &state.lesson) {
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
    view! { <Shell embed=embed>{body}</Shell> }
}

/// The sandbox page.
#[component]
pub fn SandboxApp() -> impl IntoView {
    view! { <Shell embed=false><SandboxView/></Shell> }
}

/// The studio page. Its lessons are not the course's: nothing done here marks course progress.
#[component]
pub fn StudioApp() -> impl IntoView {
    crate::progress::keep_off_the_course();
    let state = url::read();
    let embed = state.embed && state.lesson_src.is_some();
    view! { <Shell embed=embed><StudioView/></Shell> }
}

/// What every page has around its body: the site's name, hidden when embedded.
#[component]
fn Shell(embed: bool, children: Children) -> impl IntoView {
    view! {
        <main data-testid="app" class="app" class:embedded=embed>
            <header class="site-header" class:hidden=embed>
                <a class="brand" href="./">"Lockstep"</a>
                <span class="tagline">"see database concurrency bugs happen, one step at a time"</span>
            </header>
            {children()}
        </main>
    }
}
