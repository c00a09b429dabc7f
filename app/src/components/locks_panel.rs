//! `pg_locks` of a lesson: [`PgLocks`] fed from the session.

use super::pg_locks::PgLocks;
use crate::player::SessionSignal;
use leptos::prelude::*;

/// The `pg_locks` panel of a lesson, folded by default.
#[component]
pub fn LocksPanel() -> impl IntoView {
    let session = expect_context::<SessionSignal>();
    // Memos: the table re-renders only on a step that changed a lock.
    let locks = Memo::new(move |_| session.with(|s| s.world().server().locks()));
    let names = Memo::new(move |_| session.with(|s| s.pid_names()));
    view! { <PgLocks locks=locks.into() names=names.into()/> }
}
