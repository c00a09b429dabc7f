//! The events of every step with their narration, newest last; PostgreSQL's errors in full.

use crate::player::{depend_on, SessionSignal};
use leptos::html::Ol;
use leptos::prelude::*;
use lockstep::server;
use lockstep::world::{Event, Move};

/// Protocol chatter is shown dimmed: it matters for the protocol lessons, less elsewhere.
fn is_chatter(e: &Event) -> bool {
    matches!(
        e,
        Event::MessageSent { .. } | Event::MessageQueued { .. } | Event::MessageReceived { .. }
    ) || matches!(e, Event::Server(server::Event::QueryFinished { .. }))
}

fn render_event(e: &Event, who: Option<String>) -> AnyView {
    match e {
        Event::Server(server::Event::Error { error, .. }) => {
            let text = error.to_string();
            view! {
                <li class="event error">
                    <span class="event-text">{e.narration()}</span>
                    <pre class="pg-error" data-testid="pg-error">{text}</pre>
                </li>
            }
            .into_any()
        }
        Event::Server(server::Event::Log { line, .. }) => {
            let line = line.clone();
            view! { <li class="event log"><code>"LOG " {line}</code></li> }.into_any()
        }
        _ => {
            let class = match e {
                Event::TaskFailed { .. } | Event::InvariantViolated { .. } => "event failed",
                Event::TaskBlocked { .. }
                | Event::AcquireQueued { .. }
                | Event::Server(server::Event::LockWaiting { .. }) => "event waiting",
                Event::Server(server::Event::TransactionCommitted { .. })
                | Event::TaskFinished { .. } => "event good",
                Event::Server(server::Event::DeadlockCheck { .. })
                | Event::Server(server::Event::TimeoutFired { .. })
                | Event::ClockAdvanced { .. } => "event clock",
                _ if is_chatter(e) => "event chatter",
                _ => "event",
            };
            let prefix = match (e, who) {
                (
                    Event::TaskBlocked { .. }
                    | Event::TaskFailed { .. }
                    | Event::TaskFinished { .. }
                    | Event::TaskStarted { .. },
                    _,
                ) => String::new(),
                (_, Some(name)) => format!("{name}: "),
                (_, None) => String::new(),
            };
            view! { <li class=class>{prefix}{e.narration()}</li> }.into_any()
        }
    }
}

/// The timeline panel.
#[component]
pub fn Timeline() -> impl IntoView {
    let session = expect_context::<SessionSignal>();
    let list = NodeRef::<Ol>::new();
    let chatter = RwSignal::new(false);
    // One entry per step, keyed by the step's id: a new step renders only itself, Back removes
    // only the last entry, and a forked run (new ids) replaces exactly the entries that changed.
    let ids = Memo::new(move |_| {
        session.with(|s| {
            s.steps
                .iter()
                .enumerate()
                .map(|(i, step)| (i, step.id))
                .collect::<Vec<_>>()
        })
    });
    let entry = move |(i, _id): (usize, u64)| {
        // A step never changes once taken: read it once, untracked.
        let (label, events) = session.with_untracked(|s| {
            let Some(step) = s.steps.get(i) else {
                return (String::new(), Vec::new());
            };
            let label = match &step.mv {
                Move::Task(name) => format!("{} runs", name),
                Move::Tick => "the clock jumps".to_string(),
            };
            let events: Vec<(Event, Option<String>)> = step
                .events
                .iter()
                .map(|e| (e.clone(), e.task().map(|t| s.task_name(t))))
                .collect();
            (label, events)
        });
        let total = events.len();
        let quiet_total = events.iter().filter(|(e, _)| !is_chatter(e)).count();
        let events = move || {
            let all = chatter.get();
            events
                .iter()
                .filter(|(e, _)| all || !is_chatter(e))
                .map(|(e, who)| render_event(e, who.clone()))
                .collect::<Vec<_>>()
        };
        let quiet = move || {
            let shown = if chatter.get() { total } else { quiet_total };
            (shown == 0).then(|| {
                view! { <div class="event chatter">"(protocol messages only)"</div> }
            })
        };
        view! {
            <li class="step-entry">
                <div class="step-label"><span class="step-number">{i + 1}</span>{label}</div>
                <ol class="events">{events}</ol>
                {quiet}
            </li>
        }
    };
    // Newest last, kept in view: scrolled in the next animation frame, after the browser's own
    // layout, because reading `scrollHeight` here forces a layout in the middle of a step's
    // updates (in a profile it cost more than the rest of the step's script).
    Effect::new(move |_| {
        depend_on(ids);
        request_animation_frame(move || {
            if let Some(el) = list.get_untracked() {
                el.set_scroll_top(el.scroll_height());
            }
        });
    });
    view! {
        <section class="panel timeline-panel">
            <h2>"Timeline"</h2>
            <label class="chatter-toggle">
                <input
                    type="checkbox"
                    data-testid="show-protocol"
                    prop:checked=move || chatter.get()
                    on:change=move |ev| chatter.set(event_target_checked(&ev))
                />
                " show protocol messages (Parse, Bind, ReadyForQuery…)"
            </label>
            <ol class="timeline" data-testid="event-log" node_ref=list>
                <For each=move || ids.get() key=|(_, id)| *id children=entry/>
                {move || {
                    let undone = session.with(|s| s.beat_len() - s.beat_position());
                    (undone > 0)
                        .then(|| {
                            let plural = if undone == 1 { "" } else { "s" };
                            view! {
                                <li class="step-entry undone" data-testid="undone">
                                    {format!(
                                        "{undone} later step{plural} undone: Step or the scrubber brings them back; any other move forks the run."
                                    )}
                                </li>
                            }
                        })
                }}
                <li class="step-entry empty" class:hidden=move || ids.with(|ids| !ids.is_empty())>
                    "Nothing has happened yet."
                </li>
            </ol>
        </section>
    }
}
