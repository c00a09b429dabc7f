//! The code each task runs, with every task's current line highlighted.

use super::lesson_view::SessionSignal;
use leptos::prelude::*;
use lockstep::world::TaskState;

/// One listing per file, in lesson order.
#[component]
pub fn CodeListings() -> impl IntoView {
    let session = expect_context::<SessionSignal>();
    let listings = move || {
        session.with(|s| {
            let views = s.world().task_views();
            s.lesson
                .listings_for(s.fix.as_deref())
                .into_iter()
                .map(|listing| {
                    // (line, task name, state class) of each task running this listing.
                    let here: Vec<(u32, String, &'static str)> = views
                        .iter()
                        .filter(|t| listing.runs(&t.name))
                        .filter_map(|t| {
                            let class = match t.state {
                                TaskState::Runnable => "runnable",
                                TaskState::Blocked(_) => "waiting",
                                TaskState::Finished => "finished",
                                TaskState::Failed(_) => "failed",
                            };
                            t.line.map(|l| (l, t.name.clone(), class))
                        })
                        .collect();
                    let tasks = listing.tasks.join(", ");
                    let testid = format!("code-{}", listing.file);
                    let lines: Vec<AnyView> = listing
                        .code
                        .lines()
                        .enumerate()
                        .map(|(i, text)| {
                            let number = i as u32 + 1;
                            let marks: Vec<(String, &'static str)> = here
                                .iter()
                                .filter(|(l, _, _)| *l == number)
                                .map(|(_, n, c)| (n.clone(), *c))
                                .collect();
                            let current = !marks.is_empty();
                            let class = match marks.first() {
                                Some((_, c)) => format!("code-line current {c}"),
                                None => "code-line".to_string(),
                            };
                            let badges: Vec<AnyView> = marks
                                .into_iter()
                                .map(|(n, c)| {
                                    view! { <span class=format!("line-badge {c}")>{n}</span> }
                                        .into_any()
                                })
                                .collect();
                            let text = if text.is_empty() { " ".to_string() } else { text.to_string() };
                            view! {
                                <div
                                    class=class
                                    data-testid=if current { "code-line-current" } else { "code-line" }
                                >
                                    <span class="line-number">{number}</span>
                                    <span class="line-text">{text}</span>
                                    <span class="line-badges">{badges}</span>
                                </div>
                            }
                            .into_any()
                        })
                        .collect();
                    view! {
                        <figure class="listing" data-testid=testid>
                            <figcaption>
                                <span class="file">{listing.file.clone()}</span>
                                <span class="runs">"run by " {tasks}</span>
                            </figcaption>
                            <pre class="code"><code>{lines}</code></pre>
                        </figure>
                    }
                    .into_any()
                })
                .collect::<Vec<_>>()
        })
    };
    view! {
        <section class="panel code-panel">
            <h2>"The code"</h2>
            <div class="listings">{listings}</div>
        </section>
    }
}
