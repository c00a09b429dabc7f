//! A simulated `pg_locks`: every heavyweight lock with its holders (granted) and its queue
//! (not granted), as an engineer would query it during an incident.

use leptos::prelude::*;
use litemap::LiteMap;
use lockstep::server::locks::mode_name;
use lockstep::server::{LockTag, LockView, Pid};

/// The `pg_locks` panel for any server: `locks` as the server shows them, `names` naming the
/// backends.
#[component]
pub fn PgLocks(locks: Signal<Vec<LockView>>, names: Signal<LiteMap<Pid, String>>) -> impl IntoView {
    let rows = move || {
        names.with(|names| {
            let mut rows: Vec<AnyView> = Vec::new();
            for lock in locks.get() {
                let what = match (&lock.tag, &lock.relation) {
                    (LockTag::Relation { .. }, Some(name)) => name.clone(),
                    (LockTag::Tuple { block, offset, .. }, Some(name)) => {
                        format!("{name} ({block},{offset})")
                    }
                    (tag, _) => tag.to_string(),
                };
                let entries = lock
                    .holders
                    .iter()
                    .map(|(p, m)| (*p, *m, true))
                    .chain(lock.waiters.iter().map(|(p, m)| (*p, *m, false)));
                for (pid, mode, granted) in entries {
                    let who = names
                        .get(&pid)
                        .map(|n| format!("{pid} ({n})"))
                        .unwrap_or_else(|| pid.to_string());
                    rows.push(
                        view! {
                            <tr class:waiting=!granted>
                                <td>{lock.tag.type_name()}</td>
                                <td>{what.clone()}</td>
                                <td>{mode_name(mode)}</td>
                                <td>{who}</td>
                                <td>{if granted { "t" } else { "f" }}</td>
                            </tr>
                        }
                        .into_any(),
                    );
                }
            }
            rows
        })
    };
    let count = move || {
        locks.with(|locks| {
            locks
                .iter()
                .map(|l| l.holders.len() + l.waiters.len())
                .sum::<usize>()
        })
    };
    view! {
        <section class="panel locks-panel" data-testid="pg-locks">
            <details open>
                <summary>
                    <h2>"pg_locks " <span class="count">{move || format!("({} rows)", count())}</span></h2>
                </summary>
                <table class="heap pg-locks">
                    <thead>
                        <tr>
                            <th>"locktype"</th>
                            <th>"object"</th>
                            <th>"mode"</th>
                            <th>"pid"</th>
                            <th>"granted"</th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </details>
        </section>
    }
}
