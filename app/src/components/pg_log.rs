//! The PostgreSQL server log: every line the simulated server wrote, with its time and the
//! backend's pid, in the server's own format (continuation lines indented with a tab).

use crate::player::SessionSignal;
use leptos::prelude::*;
use lockstep::server;
use lockstep::world::Event;

/// The log panel.
#[component]
pub fn PgLog() -> impl IntoView {
    let session = expect_context::<SessionSignal>();
    // One memo: the count, the fallback and the text read it, and only a step that logged
    // changes it.
    let lines = Memo::new(move |_| {
        session.with(|s| {
            let names = s.pid_names();
            s.events()
                .filter_map(|e| match e {
                    Event::Server(server::Event::Log { pid, at, line }) => {
                        let who = names.get(pid).map(|n| format!(" {n}")).unwrap_or_default();
                        Some(format!("{at} [{pid}]{who} {line}"))
                    }
                    _ => None,
                })
                .collect::<Vec<_>>()
        })
    });
    let count = move || lines.with(|l| l.len());
    view! {
        <section class="panel pg-log-panel" data-testid="pg-log">
            <details open>
                <summary>
                    <h2>"PostgreSQL log"</h2>
                    <span class="count">{move || format!(" — {} lines", count())}</span>
                </summary>
                <Show
                    when=move || { count() > 0 }
                    fallback=|| view! { <p class="empty">"The server has logged nothing yet."</p> }
                >
                    <pre class="pg-log" data-testid="pg-log-text">{move || lines.with(|l| l.join("\n"))}</pre>
                </Show>
            </details>
        </section>
    }
}
