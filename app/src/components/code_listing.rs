//! The code each task runs, with every task's current line highlighted.

use crate::player::SessionSignal;
use leptos::prelude::*;
use lockstep::lesson::Listing;
use lockstep::world::TaskState;

/// The tasks at a line, each with its state's class, in the order the world lists tasks.
type Marks = Vec<(String, &'static str)>;

/// One listing per file, in lesson order.
#[component]
pub fn CodeListings() -> impl IntoView {
    let session = expect_context::<SessionSignal>();
    // The listings change only with the fix; a step moves the line marks.
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
        let listings: Vec<Listing> = fix.with(|fix| lesson.listings_for(fix.as_deref()));
        // Each line's marks are a signal of their own, and one effect moves them: at a step it
        // works out every line's marks in one pass and sets only the lines whose marks changed
        // (a memo per line re-ran every line of every listing at every step).
        let marks: Vec<Vec<RwSignal<Marks>>> = positions.with_untracked(|p| {
            listings
                .iter()
                .map(|l| {
                    let lines = l.code.lines().count();
                    marks_at_lines(l, p, lines)
                        .into_iter()
                        .map(RwSignal::new)
                        .collect()
                })
                .collect()
        });
        let watched = (listings.clone(), marks.clone());
        Effect::new(move |_| {
            let (listings, marks) = &watched;
            positions.with(|p| {
                for (listing, lines) in listings.iter().zip(marks) {
                    let now = marks_at_lines(listing, p, lines.len());
                    for (line, now) in lines.iter().zip(now) {
                        if line.with_untracked(|before| *before != now) {
                            line.set(now);
                        }
                    }
                }
            })
        });
        listings
            .iter()
            .zip(marks)
            .map(|(listing, marks)| {
                let tasks = listing.tasks.join(", ");
                let testid = format!("code-{}", listing.file);
                let lines: Vec<AnyView> = listing
                    .code
                    .lines()
                    .zip(marks)
                    .enumerate()
                    .map(|(i, (text, marks))| code_line(i as u32 + 1, text, marks))
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
    };
    view! {
        <section class="panel code-panel">
            <h2>"The code"</h2>
            <div class="listings">{listings}</div>
        </section>
    }
}

/// Every line's marks in `listing` (of `lines` lines): the tasks of `positions` (line, task,
/// state class) that run this listing, at the line they are at. A task `W` of the listing also
/// runs as `W1`, `W2`… when a knob multiplies it.
fn marks_at_lines(
    listing: &Listing,
    positions: &[(u32, String, &'static str)],
    lines: usize,
) -> Vec<Marks> {
    let mut marks = vec![Marks::new(); lines];
    for (line, name, class) in positions {
        let at = (*line as usize)
            .checked_sub(1)
            .and_then(|i| marks.get_mut(i));
        if let Some(at) = at.filter(|_| listing.runs(name)) {
            at.push((name.clone(), *class));
        }
    }
    marks
}

/// Line `number` of a listing, marked with the tasks at it.
fn code_line(number: u32, text: &str, marks: RwSignal<Marks>) -> AnyView {
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
            .map(|(n, c)| view! { <span class=format!("line-badge {c}")>{n}</span> })
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
}
