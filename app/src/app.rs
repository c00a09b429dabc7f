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
use lockstep_lessons::Lesson;

/// The lesson page: the lesson the address names, fetched from `lessons/SLUG.json` beside the
/// page (only that one: the course's other lessons are not the reader's to pay for), or the
/// course list.
#[component]
pub fn App() -> impl IntoView {
    let state = url::read();
    let entry = state
        .lesson
        .as_deref()
        .and_then(|slug| lockstep_lessons::index().iter().find(|e| e.slug == slug));
    let body = match (entry, &state.lesson) {
        (Some(entry), _) => {
            let loaded = RwSignal::new(None::<Result<&'static Lesson, String>>);
            leptos::task::spawn_local(async move {
                loaded.set(Some(fetch_lesson(entry.slug).await));
            });
            let start = state.clone();
            (move || match loaded.get() {
                None => view! { <p class="notice loading" data-testid="loading">"Loading the lesson…"</p> }
                    .into_any(),
                Some(Ok(lesson)) => view! { <LessonView lesson=lesson start=start.clone()/> }.into_any(),
                Some(Err(e)) => {
                    let message = format!("This lesson could not be loaded: {e}");
                    view! { <p class="notice error" data-testid="load-error">{message}</p> }.into_any()
                }
            })
            .into_any()
        }
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
    let embed = state.embed && entry.is_some();
    view! { <Shell embed=embed>{body}</Shell> }
}

/// Fetches, reads and validates the lesson `slug`; it lives as long as the page.
async fn fetch_lesson(slug: &str) -> Result<&'static Lesson, String> {
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;
    let window = web_sys::window().ok_or("no window")?;
    let failed = |e: wasm_bindgen::JsValue| {
        e.dyn_ref::<js_sys::Error>()
            .map(|e| String::from(e.message()))
            .unwrap_or_else(|| format!("{e:?}"))
    };
    let response: web_sys::Response =
        JsFuture::from(window.fetch_with_str(&format!("lessons/{slug}.json")))
            .await
            .map_err(failed)?
            .unchecked_into();
    if !response.ok() {
        return Err(format!("lessons/{slug}.json: HTTP {}", response.status()));
    }
    let text = JsFuture::from(response.text().map_err(failed)?)
        .await
        .map_err(failed)?
        .as_string()
        .ok_or("the lesson file is not text")?;
    let lesson = lockstep_lessons::read(slug, &text).map_err(|e| e.to_string())?;
    Ok(Box::leak(Box::new(lesson)))
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
