//! The messages in each direction: frontend (client to server) and backend (server to client).

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
pub(super) fn quoted(code: char) -> String {
    format!("'{code}'")
}
