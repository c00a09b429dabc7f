//! The tables of any server: every tuple version in heap order with ctid, xmin and xmax, and lock badges
//! naming the mode, the holder and the waiters. A table with more than [`ROWS_SHOWN_MAX`]
//! versions shows its first ones and says how many it has (a lesson's tables are far smaller,
//! so they show every version).

use leptos::prelude::*;
use litemap::LiteMap;
use lockstep::server::{Pid, TableView, TupleView};
use lockstep::sql::RowLockStrength;

/// The most tuple versions shown per table: a spec can fill a table with thousands, and a row
/// each would take the page seconds to draw (19 tables of 200 held the page 1.2 s as a link
/// loaded, of 100 about 0.7 s). Purely presentational.
pub const ROWS_SHOWN_MAX: usize = 100;

/// The line under a table cut at [`ROWS_SHOWN_MAX`], if it was cut.
pub fn rows_shown_note(shown: usize, versions: usize) -> Option<String> {
    (versions > shown).then(|| format!("showing the first {shown} of {versions} row versions"))
}

/// One tuple version as a table row: ctid, xmin, xmax, the values and the lock badges; marked
/// `changed` when it differs from the same ctid in `old` (the table before the move).
fn tuple_row(t: &TupleView, old: Option<&TableView>, names: &LiteMap<Pid, String>) -> AnyView {
    let state = if t.aborted {
        "aborted"
    } else if t.live {
        "live"
    } else {
        "dead"
    };
    // A transaction that locked a row and then updated it appears twice.
    let mut xmax: Vec<String> = t.xmax.iter().map(|x| x.xid.to_string()).collect();
    xmax.dedup();
    let xmax = if xmax.is_empty() {
        "0".to_string()
    } else {
        xmax.join(", ")
    };
    let values: Vec<AnyView> = t
        .values
        .iter()
        .map(|v| {
            let text = v.clone().unwrap_or_else(|| "NULL".into());
            view! { <td class="value">{text}</td> }.into_any()
        })
        .collect();
    let mut badges: Vec<AnyView> = t
        .xmax
        .iter()
        .filter(|x| x.active)
        .map(|x| {
            let holder = match x.pid {
                Some(p) => who(p, names),
                None => format!("xid {}", x.xid),
            };
            let (class, text) = if x.update {
                (
                    "badge lock update",
                    format!("updated by {holder} · xid {}", x.xid),
                )
            } else {
                (
                    "badge lock",
                    format!(
                        "{} · {holder} · xid {}",
                        RowLockStrength::sql(x.strength),
                        x.xid
                    ),
                )
            };
            view! { <span class=class title="held row lock">{text}</span> }.into_any()
        })
        .collect();
    // The same edge the wait-for graph draws and the waiting lane names.
    let holders: Vec<String> = t
        .xmax
        .iter()
        .filter(|x| x.active)
        .filter_map(|x| x.pid.map(|p| who(p, names)))
        .collect();
    badges.extend(t.waiters.iter().map(|p| {
        let text = if holders.is_empty() {
            format!("{} waits", who(*p, names))
        } else {
            format!("{} waits → {}", who(*p, names), holders.join(", "))
        };
        view! { <span class="badge waiter" title="waits for this row">{text}</span> }.into_any()
    }));
    let changed = old.is_some_and(|old| old.tuples.iter().find(|o| o.ctid == t.ctid) != Some(t));
    let contended = !t.waiters.is_empty();
    let ctid = format!("({},{})", t.ctid.0, t.ctid.1);
    view! {
        <tr
            class=format!("tuple {state}")
            class:changed=changed
            class:contended=contended
            data-state=state
        >
            <td class="sys">{ctid}</td>
            <td class="sys">{t.xmin.to_string()}</td>
            <td class="sys">{xmax}</td>
            {values}
            <td class="locks">{badges}</td>
        </tr>
    }
    .into_any()
}

fn who(pid: Pid, names: &LiteMap<Pid, String>) -> String {
    match names.get(&pid) {
        Some(n) => n.clone(),
        None => format!("process {pid}"),
    }
}

/// The tables panel for any server: `tables` as the server shows them, `names` naming the
/// backends (lesson tasks, sandbox sessions). `versions`, when given, is each table's number
/// of versions in all, for a feed that already holds only the first ones
/// ([`lockstep::server::Server::tables_first`]).
#[component]
pub fn HeapTables(
    tables: Signal<Vec<TableView>>,
    names: Signal<LiteMap<Pid, String>>,
    #[prop(optional, into)] versions: Option<Signal<Vec<usize>>>,
) -> impl IntoView {
    // What the tables showed before, to mark the row versions a move changed.
    let before = StoredValue::new(Vec::<TableView>::new());
    let tables = move || {
        let mut now = tables.get();
        let mut totals: Vec<usize> = match versions {
            Some(v) => v.get(),
            None => now.iter().map(|t| t.tuples.len()).collect(),
        };
        totals.resize(now.len(), 0);
        for (table, total) in now.iter_mut().zip(totals.iter_mut()) {
            *total = (*total).max(table.tuples.len());
            table.tuples.truncate(ROWS_SHOWN_MAX);
        }
        let previous = before
            .try_update_value(|b| std::mem::replace(b, now.clone()))
            .unwrap_or_default();
        names.with(|names| {
            now.into_iter()
                .zip(totals)
                .map(|(table, total)| {
                    let old = previous.iter().find(|t| t.name == table.name);
                    let headers: Vec<AnyView> = table
                        .columns
                        .iter()
                        .map(|c| view! { <th>{c.clone()}</th> }.into_any())
                        .collect();
                    let rows: Vec<AnyView> = table
                        .tuples
                        .iter()
                        .map(|t| tuple_row(t, old, names))
                        .collect();
                    let testid = format!("table-{}", table.name);
                    let note = rows_shown_note(table.tuples.len(), total).map(|text| {
                        let testid = format!("rows-shown-{}", table.name);
                        view! { <p class="notice rows-shown" data-testid=testid>{text}</p> }
                    });
                    view! {
                        <div class="table-wrap">
                            <h3><code>{table.name.clone()}</code> " — every row version, in heap order"</h3>
                            <table class="heap" data-testid=testid>
                                <thead>
                                    <tr>
                                        <th class="sys">"ctid"</th>
                                        <th class="sys">"xmin"</th>
                                        <th class="sys">"xmax"</th>
                                        {headers}
                                        <th>"locks"</th>
                                    </tr>
                                </thead>
                                <tbody>{rows}</tbody>
                            </table>
                            {note}
                        </div>
                    }
                    .into_any()
                })
                .collect::<Vec<_>>()
        })
    };
    view! {
        <section class="panel tables-panel">
            <h2>"Tables"</h2>
            {tables}
            <p class="legend">
                <span class="tuple-key live">"live"</span>
                <span class="tuple-key dead">"dead (replaced or deleted)"</span>
                <span class="tuple-key aborted">"aborted"</span>
            </p>
        </section>
    }
}
