//! The tables of a lesson: [`HeapTables`] fed from the session.

use super::heap_tables::HeapTables;
use crate::player::SessionSignal;
use leptos::prelude::*;

/// The tables panel of a lesson.
#[component]
pub fn Tables() -> impl IntoView {
    let session = expect_context::<SessionSignal>();
    // Memos: the tables re-render only on a step that changed a tuple or a lock on one.
    let tables = Memo::new(move |_| session.with(|s| s.world().server().tables()));
    let names = Memo::new(move |_| session.with(|s| s.pid_names()));
    view! { <HeapTables tables=tables.into() names=names.into()/> }
}
