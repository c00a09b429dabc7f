//! PostgreSQL's error reports: severity, SQLSTATE, message, DETAIL, HINT and CONTEXT, with the
//! exact texts of the server, as PostgreSQL 15's `src/backend/storage/lmgr/deadlock.c`
//! (`DeadLockReport`), `lmgr.c` (`DescribeLockTag`, `XactLockTableWaitErrorCb`) and
//! `src/backend/tcop/postgres.c` (`ProcessInterrupts`: the timeout messages) write them.

use serde::{Deserialize, Serialize};
use std::fmt;

/// How bad an error is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Severity {
    /// The statement (and the transaction, if any) fails; the session lives on.
    Error,
    /// The session is closed.
    Fatal,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "ERROR",
            Severity::Fatal => "FATAL",
        })
    }
}

/// An error report as PostgreSQL sends it to the client.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PgError {
    /// ERROR or FATAL.
    pub severity: Severity,
    /// The SQLSTATE, e.g. `40P01`.
    pub code: String,
    /// The primary message.
    pub message: String,
    /// The DETAIL field (may hold several lines separated by `\n`).
    pub detail: Option<String>,
    /// The HINT field.
    pub hint: Option<String>,
    /// The CONTEXT field.
    pub context: Option<String>,
    /// For syntax errors: the 1-based character position in the query string, as PostgreSQL's
    /// `P` field, plus the line and column for people.
    pub position: Option<(u32, u32, u32)>,
}

impl PgError {
    /// Whether this is the deadlock detector's error, SQLSTATE `40P01` (`deadlock_detected` in
    /// PostgreSQL's `src/backend/utils/errcodes.txt`).
    pub fn is_deadlock_detected(&self) -> bool {
        self.code == "40P01"
    }

    /// An ERROR with a SQLSTATE and message.
    pub fn error(code: &str, message: impl Into<String>) -> PgError {
        PgError {
            severity: Severity::Error,
            code: code.to_string(),
            message: message.into(),
            detail: None,
            hint: None,
            context: None,
            position: None,
        }
    }

    /// A FATAL error with a SQLSTATE and message.
    pub fn fatal(code: &str, message: impl Into<String>) -> PgError {
        PgError {
            severity: Severity::Fatal,
            ..PgError::error(code, message)
        }
    }

    /// The same error with a DETAIL.
    pub fn with_detail(mut self, detail: impl Into<String>) -> PgError {
        self.detail = Some(detail.into());
        self
    }

    /// The same error with a HINT.
    pub fn with_hint(mut self, hint: impl Into<String>) -> PgError {
        self.hint = Some(hint.into());
        self
    }

    /// The same error with a CONTEXT.
    pub fn with_context(mut self, context: Option<String>) -> PgError {
        self.context = context;
        self
    }

    /// A syntax error or unsupported construct from the SQL parser.
    pub fn syntax(e: &crate::sql::SqlError) -> PgError {
        let code = if e.message.contains("not supported") {
            "0A000"
        } else {
            "42601"
        };
        PgError {
            position: Some((e.position, e.line, e.column)),
            ..PgError::error(code, e.message.clone())
        }
    }

    /// `deadlock detected` (40P01) with the cycle's "waits for" lines.
    pub fn deadlock(detail: String, context: Option<String>) -> PgError {
        PgError::error("40P01", "deadlock detected")
            .with_detail(detail)
            .with_hint("See server log for query details.")
            .with_context(context)
    }

    /// `null value in column "c" of relation "t" violates not-null constraint` (23502).
    pub fn not_null_violation(column: &str, table: &str) -> PgError {
        PgError::error(
            "23502",
            format!("null value in column \"{column}\" of relation \"{table}\" violates not-null constraint"),
        )
    }

    /// `could not serialize access due to concurrent update` (40001).
    pub fn concurrent_update() -> PgError {
        PgError::error(
            "40001",
            "could not serialize access due to concurrent update",
        )
    }

    /// `could not serialize access due to concurrent delete` (40001).
    pub fn concurrent_delete() -> PgError {
        PgError::error(
            "40001",
            "could not serialize access due to concurrent delete",
        )
    }

    /// The SSI failure (40001).
    pub fn serialization_failure(detail: &str) -> PgError {
        PgError::error(
            "40001",
            "could not serialize access due to read/write dependencies among transactions",
        )
        .with_detail(detail.to_string())
        .with_hint("The transaction might succeed if retried.")
    }

    /// `could not obtain lock on row in relation "t"` (55P03), from NOWAIT.
    pub fn row_lock_not_available(table: &str) -> PgError {
        PgError::error(
            "55P03",
            format!("could not obtain lock on row in relation \"{table}\""),
        )
    }

    /// `could not obtain lock on relation "t"` (55P03), from LOCK TABLE ... NOWAIT.
    pub fn relation_lock_not_available(table: &str) -> PgError {
        PgError::error(
            "55P03",
            format!("could not obtain lock on relation \"{table}\""),
        )
    }

    /// `canceling statement due to lock timeout` (55P03).
    pub fn lock_timeout() -> PgError {
        PgError::error("55P03", "canceling statement due to lock timeout")
    }

    /// `canceling statement due to statement timeout` (57014).
    pub fn statement_timeout() -> PgError {
        PgError::error("57014", "canceling statement due to statement timeout")
    }

    /// `canceling statement due to user request` (57014).
    pub fn user_cancel() -> PgError {
        PgError::error("57014", "canceling statement due to user request")
    }

    /// `terminating connection due to idle-in-transaction timeout` (FATAL 25P03).
    pub fn idle_in_transaction_timeout() -> PgError {
        PgError::fatal(
            "25P03",
            "terminating connection due to idle-in-transaction timeout",
        )
    }

    /// `current transaction is aborted, commands ignored until end of transaction block` (25P02).
    pub fn in_failed_transaction() -> PgError {
        PgError::error(
            "25P02",
            "current transaction is aborted, commands ignored until end of transaction block",
        )
    }

    /// `relation "t" does not exist` (42P01).
    pub fn no_such_table(name: &str) -> PgError {
        PgError::error("42P01", format!("relation \"{name}\" does not exist"))
    }

    /// `column "c" does not exist` (42703).
    pub fn no_such_column(name: &str) -> PgError {
        PgError::error("42703", format!("column \"{name}\" does not exist"))
    }

    /// Lockstep's bound on a table's heap (program_limit_exceeded, 54000): PostgreSQL has none
    /// this small, so the message says it is ours.
    pub fn table_full(name: &str) -> PgError {
        PgError::error(
            "54000",
            format!(
                "table \"{name}\" holds ROWS_PER_TABLE_MAX ({}) row versions, Lockstep's limit",
                crate::limits::ROWS_PER_TABLE_MAX
            ),
        )
    }
}

impl PgError {
    /// The report as the server log writes it: like the client's, but lines that continue a
    /// field are indented with a tab.
    pub fn log_text(&self) -> String {
        let mut out = String::new();
        let mut field = |label: &str, text: &str| {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(label);
            out.push_str(":  ");
            out.push_str(&text.replace('\n', "\n\t"));
        };
        field(&self.severity.to_string(), &self.message);
        if let Some(d) = &self.detail {
            field("DETAIL", d);
        }
        if let Some(h) = &self.hint {
            field("HINT", h);
        }
        if let Some(c) = &self.context {
            field("CONTEXT", c);
        }
        out
    }
}

impl fmt::Display for PgError {
    /// The way psql prints an error: one line per field, two spaces after the label.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:  {}", self.severity, self.message)?;
        if let Some(d) = &self.detail {
            write!(f, "\nDETAIL:  {d}")?;
        }
        if let Some(h) = &self.hint {
            write!(f, "\nHINT:  {h}")?;
        }
        if let Some(c) = &self.context {
            write!(f, "\nCONTEXT:  {c}")?;
        }
        Ok(())
    }
}

impl std::error::Error for PgError {}
