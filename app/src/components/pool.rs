//! The client pools: each slot, who holds it, and the acquire queue.

use crate::player::SessionSignal;
use leptos::prelude::*;

/// The pool panel; empty when the scenario has no pools.
#[component]
pub fn PoolPanel() -> impl IntoView {
    let session = expect_context::<SessionSignal>();
    // Re-render only on a step that changed what a pool shows (task names never change).
    let state = Memo::new(move |_| session.with(|s| s.world().pool_views()));
    let pools = move || {
        let views = state.get();
        session.with_untracked(|s| {
            views
                .into_iter()
                .map(|pool| {
                    let limit = pool
                        .max_open
                        .map(|m| format!("max {m} connections"))
                        .unwrap_or_else(|| "no connection limit".to_string());
                    let slots: Vec<AnyView> = pool
                        .slots
                        .iter()
                        .map(|c| {
                            let holder = c.holder.map(|t| s.task_name(t));
                            let (class, text) = match holder {
                                Some(name) => (
                                    "slot held",
                                    format!("{} · process {} · {name}", c.conn, c.pid),
                                ),
                                None => (
                                    "slot idle",
                                    format!("{} · process {} · idle", c.conn, c.pid),
                                ),
                            };
                            view! { <li class=class>{text}</li> }.into_any()
                        })
                        .collect();
                    let free = pool.free.map(|n| format!("{n} free")).unwrap_or_default();
                    let queue: Vec<String> = pool.waiters.iter().map(|t| s.task_name(*t)).collect();
                    let queue = if queue.is_empty() {
                        "nobody waits".to_string()
                    } else {
                        format!("waiting in Acquire: {}", queue.join(" → "))
                    };
                    let testid = format!("pool-{}", pool.name);
                    view! {
                        <div class="pool" data-testid=testid>
                            <h3>"pool " <code>{pool.name}</code> " — " {limit} ", " {free}</h3>
                            <ul class="slots">{slots}</ul>
                            <p class="queue">{queue}</p>
                        </div>
                    }
                    .into_any()
                })
                .collect::<Vec<_>>()
        })
    };
    let has_pools = move || state.with(|pools| !pools.is_empty());
    view! {
        <Show when=has_pools>
            <section class="panel pool-panel">
                <h2>"Connection pools"</h2>
                {pools}
            </section>
        </Show>
    }
}
