//! What isolationtester printed, as data: each piece of its output with what the piece reports,
//! so that a caller who needs to know what happened (a step waits, a step failed, the tester
//! cancelled a step) reads the record instead of matching the printed sentences.

use crate::server::{Notice, PgError};

/// One piece of isolationtester's output: what it reports, and the exact text printed for it.
/// The texts of a run's pieces, in order, are its output after the headers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Printed {
    /// What the piece reports.
    pub what: Report,
    /// The text printed for it, ending in a newline (a result table takes several lines).
    pub text: String,
}

/// What a piece of isolationtester's output reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Report {
    /// A step was launched: `step NAME: SQL` when it finished at once, `step NAME: SQL
    /// <waiting ...>` when it was seen waiting (for a lock, behind a marker, or because its
    /// entry is marked `(*)`).
    Launched {
        /// The step's name.
        step: String,
        /// Whether it was reported as `<waiting ...>`.
        waiting: bool,
    },
    /// A step reported as waiting earlier has finished: `step NAME: <... completed>`.
    Completed {
        /// The step's name.
        step: String,
    },
    /// A result table, printed as libpq's `PQprint()` prints it.
    Rows {
        /// The step whose statement returned the rows; `None` for a setup or teardown block.
        step: Option<String>,
    },
    /// The error a step ended with: `ERROR:  message`.
    Error {
        /// The step's name.
        step: String,
        /// The error as the server sent it.
        error: PgError,
    },
    /// A NOTICE or WARNING a session's backend sent: `s1: WARNING:  message`.
    Notice {
        /// The session's name.
        session: String,
        /// The notice as the server sent it.
        notice: Notice,
    },
    /// The tester cancelled a step that waited longer than the run's `step_wait_max`:
    /// `isolationtester: canceling step NAME after N seconds`.
    Cancelled {
        /// The step's name.
        step: String,
    },
}
