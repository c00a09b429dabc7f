//! How each client library words a server error: lib/pq, pgx, psycopg2 under Django, Postgrex.

use super::ErrorFields;
use serde::{Deserialize, Serialize};
use std::fmt;

/// lib/pq's rendering of a server error: `pq: ` and the primary message (lib/pq v1.10.9,
/// `error.go`: `func (err *Error) Error() string { return "pq: " + err.Message }`).
pub fn pq_error(error: &ErrorFields) -> String {
    format!("pq: {}", error.message)
}

/// pgx's rendering of a server error (pgx v5.10.0, `pgconn/errors.go`: `PgError.Error()` is
/// `Severity + ": " + Message + " (SQLSTATE " + Code + ")"`; the same in pgx v4).
pub fn pgx_error(error: &ErrorFields) -> String {
    format!(
        "{}: {} (SQLSTATE {})",
        error.severity, error.message, error.code
    )
}

/// The client library an application reports database errors through: what a task that fails
/// with a server error shows. The pool's `driver` decides pool and wire behaviour; this decides
/// only the words, so a lesson can put a Django worker or an Ecto task on the pool model that
/// fits and still show the error its own library prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Client {
    /// Go pgx (v4 and v5 print alike): `ERROR: deadlock detected (SQLSTATE 40P01)`.
    #[serde(rename = "pgx")]
    Pgx,
    /// Go database/sql with lib/pq v1.10.9: `pq: deadlock detected`.
    #[serde(rename = "lib/pq")]
    LibPq,
    /// Python psycopg2 2.9 under Django: the exception Django re-raises, as the last line of a
    /// traceback prints it (`django.db.utils.OperationalError: deadlock detected`, then
    /// libpq's DETAIL, HINT and CONTEXT lines).
    #[serde(rename = "psycopg2")]
    Psycopg2,
    /// Elixir Postgrex 0.19 under Ecto: an uncaught `Postgrex.Error` as a crashed process's
    /// log prints it (`** (Postgrex.Error) ERROR 40P01 (deadlock_detected) deadlock detected`).
    #[serde(rename = "postgrex")]
    Postgrex,
}

impl Client {
    /// The client a driver's pool reports through unless the scenario says otherwise.
    pub fn of_driver(driver: super::super::Driver) -> Client {
        match driver {
            super::super::Driver::Pgxpool => Client::Pgx,
            super::super::Driver::DatabaseSql => Client::LibPq,
        }
    }

    /// The text an application sees for a server error.
    pub fn server_error(self, error: &ErrorFields) -> String {
        match self {
            Client::Pgx => pgx_error(error),
            Client::LibPq => pq_error(error),
            Client::Psycopg2 => django_error(error),
            Client::Postgrex => postgrex_error(error),
        }
    }
}

impl fmt::Display for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Client::Pgx => "pgx",
            Client::LibPq => "lib/pq",
            Client::Psycopg2 => "psycopg2",
            Client::Postgrex => "postgrex",
        })
    }
}

/// psycopg2 2.9.5 under Django 4.2.
///
/// psycopg2 (`psycopg/pqpath.c`, `pq_raise`) raises the class its SQLSTATE maps to
/// (`psycopg/error_type.c`, `base_exception_from_sqlstate`; 40P01 is
/// `psycopg2.errors.DeadlockDetected`, a `TransactionRollbackError`, itself an
/// `OperationalError`) with libpq's whole error message less its leading `ERROR:  `
/// (`strip_severity`). libpq's default verbosity adds the DETAIL, HINT and CONTEXT lines
/// (`fe-protocol3.c`, `pqBuildErrorMessage3`). Django's `DatabaseErrorWrapper.__exit__`
/// (`django/db/utils.py`) re-raises it as the first of its own classes it is a subclass of,
/// in the order DataError, OperationalError, IntegrityError, InternalError, ProgrammingError,
/// NotSupportedError, DatabaseError, with the same arguments.
pub fn django_error(error: &ErrorFields) -> String {
    let class = match (
        error.code.as_bytes().first().copied(),
        error.code.as_bytes().get(1).copied(),
    ) {
        (Some(b'0'), Some(b'8')) => "OperationalError",
        (Some(b'0'), Some(b'A')) => "NotSupportedError",
        (Some(b'2'), Some(b'0' | b'1')) => "ProgrammingError",
        (Some(b'2'), Some(b'2')) => "DataError",
        (Some(b'2'), Some(b'3')) => "IntegrityError",
        (Some(b'2'), Some(b'4' | b'5' | b'B' | b'D' | b'F')) => "InternalError",
        (Some(b'2'), Some(b'6' | b'7' | b'8')) => "OperationalError",
        (Some(b'3'), Some(b'4')) => "OperationalError",
        (Some(b'3'), Some(b'8' | b'9' | b'B')) => "InternalError",
        (Some(b'3'), Some(b'D' | b'F')) => "ProgrammingError",
        // Class 40 is TransactionRollbackError, a subclass of OperationalError.
        (Some(b'4'), Some(b'0')) => "OperationalError",
        (Some(b'4'), Some(b'2' | b'4')) => "ProgrammingError",
        // Classes 53 to 58, QueryCanceledError (57014) included, are OperationalError.
        (Some(b'5'), _) => "OperationalError",
        (Some(b'F' | b'P' | b'X'), _) => "InternalError",
        (Some(b'H'), _) => "OperationalError",
        _ => "DatabaseError",
    };
    let mut text = format!("django.db.utils.{class}: {}", error.message);
    for (label, field) in [
        ("DETAIL", &error.detail),
        ("HINT", &error.hint),
        ("CONTEXT", &error.context),
    ] {
        if let Some(value) = field {
            text.push_str(&format!("\n{label}:  {value}"));
        }
    }
    text
}

/// Postgrex 0.19.3 (`lib/postgrex/error.ex`, `Postgrex.Error.message/1`): severity, SQLSTATE,
/// the condition name in parentheses and the message; then the `hint` (the only one of its
/// metadata fields `table`, `column`, `constraint`, `hint` the engine's errors carry) and the
/// DETAIL after a blank line. CONTEXT is not printed. The `** (Postgrex.Error) ` banner is how
/// Elixir logs an exception that crashed a process (`Exception.format_banner/2`).
pub fn postgrex_error(error: &ErrorFields) -> String {
    let mut text = format!(
        "** (Postgrex.Error) {} {} ({}) {}",
        error.severity,
        error.code,
        condition_name(&error.code),
        error.message
    );
    if let Some(hint) = &error.hint {
        text.push_str(&format!("\n\n    hint: {hint}"));
    }
    if let Some(detail) = &error.detail {
        text.push_str(&format!("\n\n{detail}"));
    }
    text
}

/// PostgreSQL's condition name for a SQLSTATE (`src/backend/utils/errcodes.txt`), for the
/// SQLSTATEs the engine raises; Postgrex (`Postgrex.ErrorCode.code_to_name/1`) gives `nil` for
/// a code it does not know.
pub fn condition_name(code: &str) -> &'static str {
    match code {
        "08006" => "connection_failure",
        "0A000" => "feature_not_supported",
        "21000" => "cardinality_violation",
        "22003" => "numeric_value_out_of_range",
        "22012" => "division_by_zero",
        "22023" => "invalid_parameter_value",
        "22P02" => "invalid_text_representation",
        "23502" => "not_null_violation",
        "23505" => "unique_violation",
        "25001" => "active_sql_transaction",
        "25P01" => "no_active_sql_transaction",
        "25P02" => "in_failed_sql_transaction",
        "25P03" => "idle_in_transaction_session_timeout",
        "34000" => "invalid_cursor_name",
        "3B001" => "invalid_savepoint_specification",
        "40001" => "serialization_failure",
        "40P01" => "deadlock_detected",
        "42601" => "syntax_error",
        "42701" => "duplicate_column",
        "42703" => "undefined_column",
        "42704" => "undefined_object",
        "42803" => "grouping_error",
        "42804" => "datatype_mismatch",
        "42883" => "undefined_function",
        "42P01" => "undefined_table",
        "42P07" => "duplicate_table",
        "42P10" => "invalid_column_reference",
        "53300" => "too_many_connections",
        "54000" => "program_limit_exceeded",
        "55P03" => "lock_not_available",
        "57014" => "query_canceled",
        "57P01" => "admin_shutdown",
        "XX000" => "internal_error",
        _ => "nil",
    }
}
