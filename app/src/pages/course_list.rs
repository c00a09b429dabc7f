//! The course: every lesson in order, with its summary and what the learner has done in it:
//! bug seen, fixes tried, challenges met (kept in localStorage), and a control to forget it all.

use crate::progress;
use leptos::prelude::*;

/// The list of lessons.
#[component]
pub fn CourseList() -> impl IntoView {
    // Bumped by "Reset progress", so the marks are read again.
    let version = RwSignal::new(0u32);
    let items = move || {
        version.get();
        let done = progress::done();
        lockstep_lessons::index()
            .iter()
            .enumerate()
            .map(|(i, lesson)| {
                let is_done = done.iter().any(|s| s == lesson.slug);
                let href = format!("?lesson={}", lesson.slug);
                let testid = format!("lesson-{}", lesson.slug);
                let language = lesson.language;
                let seen = progress::seen(lesson.slug);
                let tried = progress::tried(lesson.slug);
                let solved = progress::solved(lesson.slug);
                let fixes = lesson.fixes.len();
                let fixes_tried = lesson.fixes.iter().filter(|f| tried.iter().any(|t| t == *f)).count();
                let challenges = lesson.challenges.len();
                let met = lesson
                    .challenges
                    .iter()
                    .filter(|c| solved.iter().any(|s| s == *c))
                    .count();
                view! {
                    <li class="lesson-card" class:done=is_done data-testid=testid>
                        <span class="lesson-number">{i + 1}</span>
                        <div>
                            <a href=href class="lesson-link">{lesson.title}</a>
                            <span class="language">{language}</span>
                            {is_done.then(|| view! { <span class="done-mark" title="done">"✓ done"</span> })}
                            <p>{lesson.summary}</p>
                            <ul class="lesson-progress" data-testid="progress" aria-label="Your progress">
                                <li class:got=seen data-testid="progress-seen">
                                    {if seen { "✓ bug seen" } else { "bug not seen yet" }}
                                </li>
                                <li class:got={fixes_tried > 0} data-testid="progress-fixes">
                                    {format!("fixes tried {fixes_tried} of {fixes}")}
                                </li>
                                <li class:got={met > 0} data-testid="progress-challenges">
                                    {format!("challenges met {met} of {challenges}")}
                                </li>
                            </ul>
                        </div>
                    </li>
                }
            })
            .collect::<Vec<_>>()
    };
    view! {
        <section class="picker" data-testid="lesson-picker">
            <h1>"Lessons"</h1>
            <p class="intro">
                "Each lesson replays a real production bug inside a simulated PostgreSQL. "
                "Step through it, be the scheduler, then apply the fix and watch the bug disappear."
            </p>
            <ol class="lessons">{items}</ol>
            <p class="progress-reset">
                <button
                    data-testid="reset-progress"
                    on:click=move |_| {
                        progress::reset();
                        version.update(|v| *v += 1);
                    }
                >
                    "Reset progress"
                </button>
                " Your progress stays in this browser only."
            </p>
            <p class="sandbox-link">
                <a href="sandbox.html" data-testid="open-sandbox">"Sandbox"</a>
                " — run your own PostgreSQL isolation spec (or a lost update, write skew or deadlock "
                "example), step by step."
            </p>
            <p class="sandbox-link">
                <a href="studio.html" data-testid="open-studio">"Studio"</a>
                " — write your own incident as a lesson, check it, and share or embed it by a link."
            </p>
        </section>
    }
}
