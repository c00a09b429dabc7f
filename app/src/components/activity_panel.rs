//! A simulated `pg_stat_activity`: one row per server backend with its state (including
//! `idle in transaction`), what it waits for and its query, as an engineer would query it
//! during an incident.

use crate::player::SessionSignal;
use leptos::prelude::*;
use lockstep::server::SessionState;

/// The `pg_stat_activity` panel.
#[component]
pub fn ActivityPanel() -> impl IntoView {
    let session = expect_context::<SessionSignal>();
    // The rows as text, worked out once a step; the table re-renders only when one changed.
    let data = Memo::new(move |_| {
        session.with(|s| {
            let world = s.world();
            let names = s.pid_names();
            let server = world.server();
            server
                .sessions()
                .map(|pid| {
                    let (state, class, wait_type, wait) = match server.state(pid) {
                        SessionState::Idle => ("idle", "idle", "Client", "ClientRead".to_string()),
                        SessionState::Active => ("active", "active", "", String::new()),
                        SessionState::IdleInTransaction => (
                            "idle in transaction",
                            "idle-in-tx",
                            "Client",
                            "ClientRead".to_string(),
                        ),
                        SessionState::IdleInTransactionAborted => (
                            "idle in transaction (aborted)",
                            "idle-in-tx",
                            "Client",
                            "ClientRead".to_string(),
                        ),
                        SessionState::Waiting(reason) => {
                            let blockers: Vec<String> = reason
                                .blockers
                                .iter()
                                .map(|p| match names.get(p) {
                                    Some(n) => format!("{p} ({n})"),
                                    None => p.to_string(),
                                })
                                .collect();
                            let wait = if blockers.is_empty() {
                                reason.tag.type_name().to_string()
                            } else {
                                format!(
                                    "{} — blocked by {}",
                                    reason.tag.type_name(),
                                    blockers.join(", ")
                                )
                            };
                            ("active", "waiting", "Lock", wait)
                        }
                        SessionState::Terminated(_) => ("", "terminated", "", String::new()),
                    };
                    let who = names.get(&pid).cloned().unwrap_or_default();
                    let xid = server
                        .backend_xid(pid)
                        .map(|x| x.to_string())
                        .unwrap_or_default();
                    let query = server.current_query(pid).unwrap_or_default().to_string();
                    (
                        pid.to_string(),
                        who,
                        state,
                        class,
                        wait_type,
                        wait,
                        xid,
                        query,
                    )
                })
                .collect::<Vec<_>>()
        })
    });
    let rows = move || {
        data.get()
            .into_iter()
            .map(|(pid, who, state, class, wait_type, wait, xid, query)| {
                view! {
                    <tr class=format!("activity {class}") data-state=state>
                        <td>{pid}</td>
                        <td>{who}</td>
                        <td class="activity-state">{state}</td>
                        <td>{wait_type}</td>
                        <td>{wait}</td>
                        <td>{xid}</td>
                        <td class="query">{query}</td>
                    </tr>
                }
            })
            .collect::<Vec<_>>()
    };
    let count = move || data.with(|d| d.len());
    view! {
        <section class="panel activity-panel" data-testid="pg-stat-activity">
            <details open>
                <summary>
                    <h2>"pg_stat_activity"</h2>
                    <span class="count">{move || format!(" — {} backends", count())}</span>
                </summary>
                <Show
                    when=move || { count() > 0 }
                    fallback=|| view! { <p class="empty">"No backend yet: nobody has connected."</p> }
                >
                    <div class="table-wrap">
                        <table class="heap pg-activity">
                            <thead>
                                <tr>
                                    <th>"pid"</th>
                                    <th title="Not a pg_stat_activity column: the task that uses this backend">"(task)"</th>
                                    <th>"state"</th>
                                    <th>"wait_event_type"</th>
                                    <th>"wait_event"</th>
                                    <th>"backend_xid"</th>
                                    <th>"query"</th>
                                </tr>
                            </thead>
                            <tbody>{rows}</tbody>
                        </table>
                    </div>
                </Show>
            </details>
        </section>
    }
}
