//! The code each task runs, with every task's current line highlighted.

use crate::player::SessionSignal;
use leptos::prelude::*;
use lockstep::world::TaskState;

/// One listing per file, in lesson order.
#[component]
pub fn CodeListings() -> impl IntoView {
    let session = expect_context::<SessionSignal>();
    // The listings change only with the fix; a step moves the line marks, so each line's marks
    // are a memo of their own and a step touches only the lines a task left or reached.
    let fix = Memo::new(move |_| session.with(|s| s.fix.clone()));
    // (line, task name, state class) of each task that is at a line.
    let positions = Memo::new(move |_| {
        session.with(|s| {
            s.world()
                .task_views()
                .into_iter()
                .filter_map(|t| {
                    let class = match t.state {
                        TaskState::Runnable => "runnable",
                        TaskState::Blocked(_) => "waiting",
                        TaskState::Finished => "finished",
                        TaskState::Failed(_) => "failed",
                    };
                    t.line.map(|l| (l, t.name, class))
                })
                .collect::<Vec<(u32, String, &'static str)>>()
        })
    });
    let listings = move || {
        let lesson = session.with_untracked(|s| s.lesson);
        fix.with(|fix| {
            lesson
                .listings_for(fix.as_deref())
                .into_iter()
                .map(|listing| {
                    let tasks = listing.tasks.join(", ");
                    let testid = format!("code-{}", listing.file);
                    // Who runs this listing (a task `W` also runs as `W1`, `W2`… when a knob
                    // multiplies it).
                    let runs = std::sync::Arc::new(listing.clone());
                    let lines: Vec<AnyView> = listing
                        .code
                        .lines()
                        .enumerate()
                        .map(|(i, text)| {
                            let number = i as u32 + 1;
                            let runs = runs.clone();
                            let marks = Memo::new(move |_| {
                                positions.with(|p| {
                                    p.iter()
                                        .filter(|(l, n, _)| *l == number && runs.runs(n))
                                        .map(|(_, n, c)| (n.clone(), *c))
                                        .collect::<Vec<(String, &'static str)>>()
                                })
                            });
                            let class = move || {
                                marks.with(|m| match m.first() {
                                    Some((_, c)) => format!("code-line current {c}"),
                                    None => "code-line".to_string(),
                                })
                            };
                            let testid = move || {
                                if marks.with(|m| m.is_empty()) {
                                    "code-line"
                                } else {
                                    "code-line-current"
                                }
                            };
                            let badges = move || {
                                marks
                                    .get()
                                    .into_iter()
                                    .map(|(n, c)| {
                                        view! { <span class=format!("line-badge {c}")>{n}</span> }
                                    })
                                    .collect::<Vec<_>>()
                            };
                            let text = if text.is_empty() {
                                " ".to_string()
                            } else {
                                text.to_string()
                            };
                            view! {
                                <div class=class data-testid=testid>
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
