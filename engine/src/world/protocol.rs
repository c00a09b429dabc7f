//! The PostgreSQL wire protocol as the client drivers see it: messages in each direction, and
//! the readers of lib/pq v1.10.9, message by message, with its exact error texts.
//!
//! A query is several steps: the client sends a batch of frontend messages, the backend
//! processes them and queues replies, and the client reads the replies one at a time. Two
//! goroutines reading from one connection can therefore each take a reply meant for the other;
//! lib/pq then fails the way it does in production (`pq: unexpected Parse response 'C'`).

use serde::{Deserialize, Serialize};
use std::fmt;

/// The fields of an ErrorResponse ('E'), as PostgreSQL sends them.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ErrorFields {
    /// `ERROR` or `FATAL`.
    pub severity: String,
    /// The SQLSTATE, e.g. `40P01`.
    pub code: String,
    /// The primary message, e.g. `deadlock detected`.
    pub message: String,
    /// DETAIL, if any.
    pub detail: Option<String>,
    /// HINT, if any.
    pub hint: Option<String>,
    /// CONTEXT, if any.
    pub context: Option<String>,
}

impl fmt::Display for ErrorFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // PostgreSQL's log layout: two spaces after the severity.
        write!(f, "{}:  {}", self.severity, self.message)
    }
}

/// A frontend (client → server) message.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Frontend {
    /// 'P': parse `sql` into the unnamed statement.
    Parse { sql: String },
    /// 'D' (statement variant): describe the unnamed statement.
    Describe,
    /// 'B': bind the arguments to the unnamed portal.
    Bind { args: Vec<String> },
    /// 'E': execute the unnamed portal, all rows.
    Execute,
    /// 'S': end of an extended-query series.
    Sync,
    /// 'Q': a simple query.
    Query { sql: String },
    /// 'X': close the connection.
    Terminate,
}

impl Frontend {
    /// The message's type byte.
    pub fn code(&self) -> char {
        match self {
            Frontend::Parse { .. } => 'P',
            Frontend::Describe => 'D',
            Frontend::Bind { .. } => 'B',
            Frontend::Execute => 'E',
            Frontend::Sync => 'S',
            Frontend::Query { .. } => 'Q',
            Frontend::Terminate => 'X',
        }
    }
}

impl fmt::Display for Frontend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Frontend::Parse { sql } => write!(f, "Parse('P') {sql}"),
            Frontend::Describe => f.write_str("Describe('D')"),
            Frontend::Bind { args } => write!(f, "Bind('B') [{}]", args.join(", ")),
            Frontend::Execute => f.write_str("Execute('E')"),
            Frontend::Sync => f.write_str("Sync('S')"),
            Frontend::Query { sql } => write!(f, "Query('Q') {sql}"),
            Frontend::Terminate => f.write_str("Terminate('X')"),
        }
    }
}

/// The transaction status carried by ReadyForQuery.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TxStatus {
    /// 'I': not in a transaction block.
    Idle,
    /// 'T': in a transaction block.
    InTransaction,
    /// 'E': in a failed transaction block.
    Failed,
}

impl TxStatus {
    /// The status byte.
    pub fn code(self) -> char {
        match self {
            TxStatus::Idle => 'I',
            TxStatus::InTransaction => 'T',
            TxStatus::Failed => 'E',
        }
    }
}

/// A backend (server → client) message.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Backend {
    /// '1'.
    ParseComplete,
    /// '2'.
    BindComplete,
    /// 't'.
    ParameterDescription,
    /// 'T'.
    RowDescription { columns: Vec<String> },
    /// 'n'.
    NoData,
    /// 'D'.
    DataRow { values: Vec<Option<String>> },
    /// 'C'.
    CommandComplete { tag: String },
    /// 'Z'.
    ReadyForQuery { status: TxStatus },
    /// 'E'.
    ErrorResponse { error: ErrorFields },
}

impl Backend {
    /// The message's type byte.
    pub fn code(&self) -> char {
        match self {
            Backend::ParseComplete => '1',
            Backend::BindComplete => '2',
            Backend::ParameterDescription => 't',
            Backend::RowDescription { .. } => 'T',
            Backend::NoData => 'n',
            Backend::DataRow { .. } => 'D',
            Backend::CommandComplete { .. } => 'C',
            Backend::ReadyForQuery { .. } => 'Z',
            Backend::ErrorResponse { .. } => 'E',
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Backend::ParseComplete => f.write_str("ParseComplete('1')"),
            Backend::BindComplete => f.write_str("BindComplete('2')"),
            Backend::ParameterDescription => f.write_str("ParameterDescription('t')"),
            Backend::RowDescription { columns } => {
                write!(f, "RowDescription('T') [{}]", columns.join(", "))
            }
            Backend::NoData => f.write_str("NoData('n')"),
            Backend::DataRow { values } => {
                let shown: Vec<&str> = values
                    .iter()
                    .map(|v| v.as_deref().unwrap_or("NULL"))
                    .collect();
                write!(f, "DataRow('D') [{}]", shown.join(", "))
            }
            Backend::CommandComplete { tag } => write!(f, "CommandComplete('C') {tag}"),
            Backend::ReadyForQuery { status } => write!(f, "ReadyForQuery('Z') {}", status.code()),
            Backend::ErrorResponse { error } => write!(f, "ErrorResponse('E') {error}"),
        }
    }
}

/// Go's `%q` of a byte: a single-quoted character.
fn quoted(code: char) -> String {
    format!("'{code}'")
}

/// What a client reader expects next. The lib/pq names are its functions' names.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Reader {
    /// `readParseResponse`: '1'.
    ParseResponse,
    /// `readStatementDescribeResponse`: 't' then 'T' or 'n'.
    DescribeStatement,
    /// `readReadyForQuery`: 'Z'.
    ReadyForQuery,
    /// `readBindResponse`: '2'.
    BindResponse,
    /// `postExecuteWorkaround`: one more message; 'C'/'D' are kept for `rows.Next`.
    PostExecute,
    /// `readExecuteResponse`: 'C'/'T'/'D' until 'Z'.
    ExecuteResponse {
        tag: Option<String>,
        error: Option<ErrorFields>,
    },
    /// `simpleExec`: until 'Z'.
    SimpleExec {
        tag: Option<String>,
        error: Option<ErrorFields>,
    },
    /// `simpleQuery`: 'T' and 'C' continue, the first 'D' is kept for `rows.Next`, 'Z' ends a
    /// result without rows.
    SimpleQuery { error: Option<ErrorFields> },
    /// `rows.Next`: 'D' is a row, 'C' continues, 'Z' ends the result.
    RowsNext { error: Option<ErrorFields> },
    /// After an ErrorResponse, `readReadyForQuery` and then the error is returned.
    ErrorThenReady { error: ErrorFields },
}

/// The result of feeding one message to a reader.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadOutcome {
    /// Keep reading with this (possibly updated) reader.
    More(Reader),
    /// This reader is satisfied. `save` is a message lib/pq keeps for `rows.Next`.
    Done {
        save: Option<Backend>,
        tag: Option<String>,
    },
    /// `rows.Next` produced a row.
    Row(Vec<Option<String>>),
    /// `rows.Next` reached the end of the result.
    RowsDone,
    /// The server reported an error (the connection is still usable).
    ServerError(ErrorFields),
    /// The reader got a message it did not expect: lib/pq's error text (without the `pq: `
    /// prefix), and the connection is now bad.
    Protocol(String),
}

impl Reader {
    /// Feeds one message, exactly as lib/pq v1.10.9's reader does.
    pub fn read(self, message: Backend) -> ReadOutcome {
        let code = message.code();
        match (self, message) {
            (Reader::ParseResponse, Backend::ParseComplete) => ReadOutcome::Done {
                save: None,
                tag: None,
            },
            (Reader::ParseResponse, Backend::ErrorResponse { error })
            | (Reader::DescribeStatement, Backend::ErrorResponse { error })
            | (Reader::BindResponse, Backend::ErrorResponse { error })
            | (Reader::PostExecute, Backend::ErrorResponse { error }) => {
                ReadOutcome::More(Reader::ErrorThenReady { error })
            }
            (Reader::ParseResponse, _) => {
                ReadOutcome::Protocol(format!("unexpected Parse response {}", quoted(code)))
            }
            (Reader::DescribeStatement, Backend::ParameterDescription) => {
                ReadOutcome::More(Reader::DescribeStatement)
            }
            (Reader::DescribeStatement, Backend::NoData | Backend::RowDescription { .. }) => {
                ReadOutcome::Done {
                    save: None,
                    tag: None,
                }
            }
            (Reader::DescribeStatement, _) => ReadOutcome::Protocol(format!(
                "unexpected Describe statement response {}",
                quoted(code)
            )),
            (Reader::ReadyForQuery, Backend::ReadyForQuery { .. }) => ReadOutcome::Done {
                save: None,
                tag: None,
            },
            (Reader::ErrorThenReady { error }, Backend::ReadyForQuery { .. }) => {
                ReadOutcome::ServerError(error)
            }
            (Reader::ReadyForQuery | Reader::ErrorThenReady { .. }, _) => {
                ReadOutcome::Protocol(format!(
                    "unexpected message {}; expected ReadyForQuery",
                    quoted(code)
                ))
            }
            (Reader::BindResponse, Backend::BindComplete) => ReadOutcome::Done {
                save: None,
                tag: None,
            },
            (Reader::BindResponse, _) => {
                ReadOutcome::Protocol(format!("unexpected Bind response {}", quoted(code)))
            }
            (
                Reader::PostExecute,
                m @ (Backend::CommandComplete { .. } | Backend::DataRow { .. }),
            ) => ReadOutcome::Done {
                save: Some(m),
                tag: None,
            },
            (Reader::PostExecute, _) => ReadOutcome::Protocol(format!(
                "unexpected message during extended query execution: {}",
                quoted(code)
            )),
            (Reader::ExecuteResponse { error: Some(e), .. }, Backend::CommandComplete { .. }) => {
                ReadOutcome::Protocol(format!(
                    "unexpected CommandComplete after error {}",
                    pq_error(&e)
                ))
            }
            (Reader::ExecuteResponse { error, .. }, Backend::CommandComplete { tag }) => {
                ReadOutcome::More(Reader::ExecuteResponse {
                    tag: Some(tag),
                    error,
                })
            }
            (
                Reader::ExecuteResponse { error: Some(e), .. },
                Backend::RowDescription { .. } | Backend::DataRow { .. },
            ) => ReadOutcome::Protocol(format!(
                "unexpected {} after error {}",
                quoted(code),
                pq_error(&e)
            )),
            (
                r @ Reader::ExecuteResponse { .. },
                Backend::RowDescription { .. } | Backend::DataRow { .. },
            ) => ReadOutcome::More(r),
            (Reader::ExecuteResponse { tag, .. }, Backend::ErrorResponse { error }) => {
                ReadOutcome::More(Reader::ExecuteResponse {
                    tag,
                    error: Some(error),
                })
            }
            (Reader::ExecuteResponse { tag, error }, Backend::ReadyForQuery { .. })
            | (Reader::SimpleExec { tag, error }, Backend::ReadyForQuery { .. }) => match error {
                Some(error) => ReadOutcome::ServerError(error),
                None => ReadOutcome::Done { save: None, tag },
            },
            (Reader::ExecuteResponse { .. }, _) => {
                ReadOutcome::Protocol(format!("unknown simple query response: {}", quoted(code)))
            }
            (Reader::SimpleExec { error, .. }, Backend::CommandComplete { tag }) => {
                ReadOutcome::More(Reader::SimpleExec {
                    tag: Some(tag),
                    error,
                })
            }
            (Reader::SimpleExec { tag, .. }, Backend::ErrorResponse { error }) => {
                ReadOutcome::More(Reader::SimpleExec {
                    tag,
                    error: Some(error),
                })
            }
            (
                r @ Reader::SimpleExec { .. },
                Backend::RowDescription { .. } | Backend::DataRow { .. },
            ) => ReadOutcome::More(r),
            (Reader::SimpleExec { .. }, _) => ReadOutcome::Protocol(format!(
                "unknown response for simple query: {}",
                quoted(code)
            )),
            (Reader::SimpleQuery { error: None }, m @ Backend::DataRow { .. }) => {
                ReadOutcome::Done {
                    save: Some(m),
                    tag: None,
                }
            }
            (Reader::SimpleQuery { error: Some(_) }, Backend::DataRow { .. }) => {
                ReadOutcome::Protocol("unexpected DataRow in simple query execution".into())
            }
            (r @ Reader::SimpleQuery { .. }, Backend::RowDescription { .. }) => {
                ReadOutcome::More(r)
            }
            (r @ Reader::SimpleQuery { error: None }, Backend::CommandComplete { .. }) => {
                ReadOutcome::More(r)
            }
            (Reader::SimpleQuery { error: Some(_) }, Backend::CommandComplete { .. }) => {
                ReadOutcome::Protocol("unexpected message 'C' in simple query execution".into())
            }
            (Reader::SimpleQuery { .. }, Backend::ErrorResponse { error }) => {
                ReadOutcome::More(Reader::SimpleQuery { error: Some(error) })
            }
            (Reader::SimpleQuery { error }, Backend::ReadyForQuery { .. }) => match error {
                Some(error) => ReadOutcome::ServerError(error),
                None => ReadOutcome::RowsDone,
            },
            (Reader::SimpleQuery { .. }, _) => ReadOutcome::Protocol(format!(
                "unknown response for simple query: {}",
                quoted(code)
            )),
            (Reader::RowsNext { error: None }, Backend::DataRow { values }) => {
                ReadOutcome::Row(values)
            }
            (Reader::RowsNext { error: Some(e) }, Backend::DataRow { .. }) => {
                ReadOutcome::Protocol(format!("unexpected DataRow after error {}", pq_error(&e)))
            }
            (r @ Reader::RowsNext { .. }, Backend::CommandComplete { .. }) => ReadOutcome::More(r),
            (Reader::RowsNext { .. }, Backend::ErrorResponse { error }) => {
                ReadOutcome::More(Reader::RowsNext { error: Some(error) })
            }
            (Reader::RowsNext { error }, Backend::ReadyForQuery { .. }) => match error {
                Some(error) => ReadOutcome::ServerError(error),
                None => ReadOutcome::RowsDone,
            },
            (Reader::RowsNext { .. }, Backend::RowDescription { .. }) => ReadOutcome::RowsDone,
            (Reader::RowsNext { .. }, _) => ReadOutcome::Protocol(format!(
                "unexpected message after execute: {}",
                quoted(code)
            )),
        }
    }
}

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
    pub fn of_driver(driver: super::Driver) -> Client {
        match driver {
            super::Driver::Pgxpool => Client::Pgx,
            super::Driver::DatabaseSql => Client::LibPq,
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

/// Whether a statement returns rows, for the Describe reply ('T' or 'n'). The real server
/// knows from the plan; the SQL subset makes the first keyword (or a RETURNING) enough.
pub fn returns_rows(sql: &str) -> bool {
    let upper = sql.trim_start().to_ascii_uppercase();
    ["SELECT", "WITH", "VALUES", "TABLE", "SHOW"]
        .iter()
        .any(|k| upper.starts_with(k))
        || upper.contains(" RETURNING ")
}

/// Substitutes `$1`, `$2`, ... in `sql` by the arguments as SQL literals (what the server does
/// at Bind time, for a server API that takes SQL text). Integers stay bare, NULL stays NULL,
/// everything else is quoted.
pub fn bind(sql: &str, args: &[String]) -> String {
    let mut out = String::with_capacity(sql.len());
    let chars: Vec<char> = sql.chars().collect();
    let mut i = 0;
    let mut in_string = false;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            in_string = !in_string;
        }
        if c == '$' && !in_string && i + 1 < chars.len() && chars[i + 1].is_ascii_digit() {
            let mut j = i + 1;
            while j < chars.len() && chars[j].is_ascii_digit() {
                j += 1;
            }
            let n: usize = chars[i + 1..j]
                .iter()
                .collect::<String>()
                .parse()
                .unwrap_or(0);
            match args.get(n.wrapping_sub(1)) {
                Some(arg) => out.push_str(&literal(arg)),
                // Left as is: the server will report the missing parameter.
                None => out.extend(&chars[i..j]),
            }
            i = j;
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

fn literal(arg: &str) -> String {
    let is_integer = !arg.is_empty()
        && arg
            .strip_prefix('-')
            .unwrap_or(arg)
            .chars()
            .all(|c| c.is_ascii_digit())
        && arg != "-";
    if is_integer || arg.eq_ignore_ascii_case("NULL") {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', "''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deadlock() -> ErrorFields {
        ErrorFields {
            severity: "ERROR".into(),
            code: "40P01".into(),
            message: "deadlock detected".into(),
            detail: Some(
                "Process 1 waits for ShareLock on transaction 8; blocked by process 2.\n\
                 Process 2 waits for ShareLock on transaction 7; blocked by process 1."
                    .into(),
            ),
            hint: Some("See server log for query details.".into()),
            context: Some("while inserting index tuple (0,2) in relation \"t\"".into()),
        }
    }

    #[test]
    fn each_client_words_a_server_error_the_way_its_library_prints_it() {
        let e = deadlock();
        assert_eq!(
            Client::Pgx.server_error(&e),
            "ERROR: deadlock detected (SQLSTATE 40P01)"
        );
        assert_eq!(Client::LibPq.server_error(&e), "pq: deadlock detected");
        assert_eq!(
            Client::Psycopg2.server_error(&e),
            "django.db.utils.OperationalError: deadlock detected\n\
             DETAIL:  Process 1 waits for ShareLock on transaction 8; blocked by process 2.\n\
             Process 2 waits for ShareLock on transaction 7; blocked by process 1.\n\
             HINT:  See server log for query details.\n\
             CONTEXT:  while inserting index tuple (0,2) in relation \"t\""
        );
        assert_eq!(
            Client::Postgrex.server_error(&e),
            "** (Postgrex.Error) ERROR 40P01 (deadlock_detected) deadlock detected\n\
             \n    hint: See server log for query details.\n\
             \n\
             Process 1 waits for ShareLock on transaction 8; blocked by process 2.\n\
             Process 2 waits for ShareLock on transaction 7; blocked by process 1."
        );
    }

    #[test]
    fn django_names_the_class_psycopg2_maps_the_sqlstate_to() {
        let class = |code: &str| {
            let e = ErrorFields {
                code: code.into(),
                detail: None,
                hint: None,
                context: None,
                ..deadlock()
            };
            let text = django_error(&e);
            text["django.db.utils.".len()..text.find(':').unwrap()].to_string()
        };
        // 40P01 DeadlockDetected and 40001 SerializationFailure are TransactionRollbackError,
        // 57014 QueryCanceledError: both subclasses of OperationalError.
        for (code, expected) in [
            ("40P01", "OperationalError"),
            ("40001", "OperationalError"),
            ("57014", "OperationalError"),
            ("55P03", "OperationalError"),
            ("53300", "OperationalError"),
            ("23505", "IntegrityError"),
            ("22012", "DataError"),
            ("25P02", "InternalError"),
            ("42P01", "ProgrammingError"),
            ("0A000", "NotSupportedError"),
            ("XX000", "InternalError"),
        ] {
            assert_eq!(class(code), expected, "{code}");
        }
    }

    #[test]
    fn a_pool_reports_through_its_drivers_client_unless_it_names_another() {
        assert_eq!(
            Client::of_driver(super::super::Driver::Pgxpool),
            Client::Pgx
        );
        assert_eq!(
            Client::of_driver(super::super::Driver::DatabaseSql),
            Client::LibPq
        );
        let pool: super::super::PoolSpec =
            toml::from_str("name = \"db\"\ndriver = \"pgxpool\"\nclient = \"postgrex\"\n").unwrap();
        assert_eq!(pool.client(), Client::Postgrex);
    }

    fn complete(tag: &str) -> Backend {
        Backend::CommandComplete { tag: tag.into() }
    }

    #[test]
    fn a_parse_reader_that_receives_command_complete_fails_like_lib_pq() {
        assert_eq!(
            Reader::ParseResponse.read(complete("SELECT 1")),
            ReadOutcome::Protocol("unexpected Parse response 'C'".into())
        );
        assert_eq!(
            Reader::ParseResponse.read(Backend::DataRow { values: vec![] }),
            ReadOutcome::Protocol("unexpected Parse response 'D'".into())
        );
    }

    #[test]
    fn rows_next_reading_a_parse_complete_fails_after_execute() {
        assert_eq!(
            Reader::RowsNext { error: None }.read(Backend::ParseComplete),
            ReadOutcome::Protocol("unexpected message after execute: '1'".into())
        );
    }

    #[test]
    fn post_execute_keeps_the_first_data_row_for_rows_next() {
        let row = Backend::DataRow {
            values: vec![Some("1".into())],
        };
        assert_eq!(
            Reader::PostExecute.read(row.clone()),
            ReadOutcome::Done {
                save: Some(row),
                tag: None
            }
        );
    }

    #[test]
    fn an_error_response_is_returned_after_ready_for_query() {
        let error = ErrorFields {
            severity: "ERROR".into(),
            code: "40P01".into(),
            message: "deadlock detected".into(),
            detail: None,
            hint: None,
            context: None,
        };
        let next = Reader::BindResponse.read(Backend::ErrorResponse {
            error: error.clone(),
        });
        let ReadOutcome::More(reader) = next else {
            panic!("{next:?}")
        };
        assert_eq!(
            reader.read(Backend::ReadyForQuery {
                status: TxStatus::Failed
            }),
            ReadOutcome::ServerError(error.clone())
        );
        assert_eq!(pq_error(&error), "pq: deadlock detected");
        assert_eq!(
            pgx_error(&error),
            "ERROR: deadlock detected (SQLSTATE 40P01)"
        );
    }

    #[test]
    fn arguments_are_bound_as_literals_outside_strings() {
        assert_eq!(
            bind(
                "SELECT '$1', x FROM t WHERE a = $1 AND b = $2",
                &["7".into(), "it's".into()]
            ),
            "SELECT '$1', x FROM t WHERE a = 7 AND b = 'it''s'"
        );
    }
}
