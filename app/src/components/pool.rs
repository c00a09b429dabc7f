//! The client pools: each slot, who holds it, and the acquire queue.

use crate::player::{depend_on, SessionSignal};
use leptos::prelude::*;

/// The pool panel; empty when the scenario has no pools.
#[component]
pub fn PoolPanel() -> impl IntoView {
    let session = expect_context::<SessionSignal>();
    // Re-render only on a step that changed a pool or a connection (task names never change).
    let state = Memo::new(move |_| {
        session.with(|s| (s.world().pools.clone(), s.world().connections.clone()))
    });
    let pools = move || {
        depend_on(state);
        session.with_untracked(|s| {
            let world = s.world();
            world
                .pools
                .iter()
                .enumerate()
                .map(|(index, pool)| {
                    let limit = pool
                        .max_open
                        .map(|m| format!("max {m} connections"))
                        .unwrap_or_else(|| "no connection limit".to_string());
                    let slots: Vec<AnyView> = world
                        .connections
                        .values()
                        .filter(|c| c.pool.0 as usize == index && !c.terminated)
                        .map(|c| {
                            let holder = c.holder.map(|t| s.task_name(t));
                            let (class, text) = match holder {
                                Some(name) => ("slot held", format!("{} · process {} · {name}", c.id, c.pid)),
                                None => ("slot idle", format!("{} · process {} · idle", c.id, c.pid)),
                            };
                            view! { <li class=class>{text}</li> }.into_any()
                        })
                        .collect();
                    let free = pool
                        .max_open
                        .map(|m| m.saturating_sub(pool.open.len() as u32))
                        .map(|n| format!("{n} free"))
                        .unwrap_or_default();
                    let queue: Vec<String> = pool.waiters.iter().map(|t| s.task_name(*t)).collect();
                    let queue = if queue.is_empty() {
                        "nobody waits".to_string()
                    } else {
                        format!("waiting in Acquire: {}", queue.join(" → "))
                    };
                    let testid = format!("pool-{}", pool.name);
                    view! {
                        <div class="pool" data-testid=testid>
                            <h3>"pool " <code>{pool.name.clone()}</code> " — " {limit} ", " {free}</h3>
                            <ul class="slots">{slots}</ul>
                            <p class="queue">{queue}</p>
                        </div>
                    }
                    .into_any()
                })
                .collect::<Vec<_>>()
        })
    };
    let has_pools = move || state.with(|(pools, _)| !pools.is_empty());
    view! {
        <Show when=has_pools>
            <section class="panel pool-panel">
                <h2>"Connection pools"</h2>
                {pools}
            </section>
        </Show>
    }
}
