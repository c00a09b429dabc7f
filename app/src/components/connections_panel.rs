//! Each client connection: its pool, the task holding it, the transaction status of the last
//! ReadyForQuery the driver read, and the protocol messages in flight each way (lib/pq and pgx
//! speak the extended query protocol: Parse, Bind, Execute, Sync; replies up to ReadyForQuery).

use crate::player::SessionSignal;
use leptos::prelude::*;
use lockstep::world::{BackendState, TxStatus};

/// The connections panel.
#[component]
pub fn ConnectionsPanel() -> impl IntoView {
    let session = expect_context::<SessionSignal>();
    // Re-render only on a step that changed what a connection shows (task names never change).
    let connections = Memo::new(move |_| session.with(|s| s.world().connection_views()));
    let cards = move || {
        let views = connections.get();
        session.with_untracked(|s| {
            views
                .into_iter()
                .map(|c| {
                    let pool = &c.pool_name;
                    let holder = c
                        .holder
                        .map(|t| format!("held by {}", s.task_name(t)))
                        .unwrap_or_else(|| "idle in the pool".to_string());
                    let tx = match c.tx_status {
                        TxStatus::Idle => "I (no transaction)",
                        TxStatus::InTransaction => "T (in a transaction)",
                        TxStatus::Failed => "E (failed transaction)",
                    };
                    let backend = match c.backend {
                        BackendState::Ready => "reading messages",
                        BackendState::Executing { .. } => "executing",
                        BackendState::Skipping => "skipping to Sync after an error",
                    };
                    let mut flags = Vec::new();
                    if c.busy {
                        flags.push("busy (conn busy)".to_string());
                    }
                    if c.bad {
                        flags.push("marked bad by the driver".to_string());
                    }
                    if c.terminated {
                        flags.push("terminated by the server".to_string());
                    }
                    if let Some(t) = c.locked_by {
                        flags.push(format!("driver mutex held by {}", s.task_name(t)));
                    }
                    let to_backend: Vec<AnyView> = c
                        .to_backend
                        .iter()
                        .map(|m| view! { <li class="msg fe">{m.clone()}</li> }.into_any())
                        .collect();
                    let mut to_frontend: Vec<AnyView> = c
                        .to_frontend
                        .iter()
                        .map(|m| view! { <li class="msg be">{m.clone()}</li> }.into_any())
                        .collect();
                    if let Some(saved) = &c.saved {
                        to_frontend.insert(
                            0,
                            view! {
                                <li class="msg be saved" title="read ahead by the driver and kept for the next call">
                                    {format!("{saved} (read ahead, saved)")}
                                </li>
                            }
                            .into_any(),
                        );
                    }
                    let empty = |list: &Vec<AnyView>| list.is_empty();
                    let fe_empty = empty(&to_backend);
                    let be_empty = empty(&to_frontend);
                    let testid = format!("connection-{}", c.pid);
                    view! {
                        <li class="connection" data-testid=testid>
                            <div class="connection-head">
                                <strong>{c.id.to_string()}</strong>
                                {format!(" · pool {pool} · process {} · {holder}", c.pid)}
                            </div>
                            <div class="connection-meta">
                                {format!("ReadyForQuery status {tx}; backend {backend}")}
                                {(!flags.is_empty()).then(|| format!("; {}", flags.join("; ")))}
                            </div>
                            <div class="wire">
                                <div>
                                    <span class="wire-label">"client → server"</span>
                                    <ol class="msgs">
                                        {to_backend}
                                        {fe_empty.then(|| view! { <li class="msg none">"nothing in flight"</li> })}
                                    </ol>
                                </div>
                                <div>
                                    <span class="wire-label">"server → client"</span>
                                    <ol class="msgs">
                                        {to_frontend}
                                        {be_empty.then(|| view! { <li class="msg none">"nothing unread"</li> })}
                                    </ol>
                                </div>
                            </div>
                        </li>
                    }
                })
                .collect::<Vec<_>>()
        })
    };
    let count = move || connections.with(|c| c.len());
    view! {
        <section class="panel connections-panel" data-testid="connections">
            <details open>
                <summary>
                    <h2>"Connections and the wire"</h2>
                    <span class="count">{move || format!(" — {} open", count())}</span>
                </summary>
                <Show
                    when=move || { count() > 0 }
                    fallback=|| view! { <p class="empty">"No connection is open yet."</p> }
                >
                    <ul class="connections">{cards}</ul>
                </Show>
            </details>
        </section>
    }
}
