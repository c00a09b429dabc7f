//! The fix picker: none, or one of the lesson's fixes; choosing one rebuilds the session.

use crate::player::{Player, SessionSignal};
use crate::session::Session;
use leptos::prelude::*;

/// The fix picker.
#[component]
pub fn FixPicker() -> impl IntoView {
    let session = expect_context::<SessionSignal>();
    let player = expect_context::<Player>();
    let lesson = session.with_untracked(|s| s.lesson);
    let choose = move |fix: Option<String>| {
        player.playing.set(false);
        // Knobs the learner turned stay turned; a fix's own knob settings apply otherwise.
        let mut knobs = session.with_untracked(|s| s.knobs.clone());
        if let Some(fix) = fix.as_deref().and_then(|f| lesson.fix(f)) {
            knobs.retain(|name, _| !fix.knobs.contains_key(name));
        }
        if let Ok(fresh) = Session::with_knobs(lesson, fix.as_deref(), &knobs) {
            session.set(fresh);
        }
    };
    let current = move || session.with(|s| s.fix.clone());
    let buttons: Vec<AnyView> = lesson
        .fixes
        .iter()
        .map(|fix| {
            let slug = fix.slug.clone();
            let slug_for_class = slug.clone();
            let slug_for_pressed = slug.clone();
            let testid = format!("fix-{slug}");
            let proven = fix.proven.then(|| {
                view! { <span class="proven" title="every schedule checked: none fails">"proven"</span> }
            });
            view! {
                <button
                    class="fix-toggle"
                    class:selected=move || current().as_deref() == Some(slug_for_class.as_str())
                    aria-pressed=move || (current().as_deref() == Some(slug_for_pressed.as_str())).to_string()
                    data-testid=testid
                    data-fix=slug.clone()
                    data-proven=fix.proven.to_string()
                    on:click=move |_| choose(Some(slug.clone()))
                >
                    {fix.title.clone()}
                    {proven}
                </button>
            }
            .into_any()
        })
        .collect();
    view! {
        <section class="panel fixes" data-testid="fixes">
            <h2>"Fixes"</h2>
            <div class="fix-list">
                <button
                    class="fix-toggle"
                    class:selected=move || current().is_none()
                    aria-pressed=move || current().is_none().to_string()
                    data-testid="fix-none"
                    on:click=move |_| choose(None)
                >
                    "No fix (the bug)"
                </button>
                {buttons}
            </div>
        </section>
    }
}
