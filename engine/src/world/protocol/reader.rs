//! The readers of lib/pq v1.10.9, message by message, with its exact error texts: what a
//! client expects next, and what one more message does to it.

use super::messages::quoted;
use super::{pq_error, Backend, ErrorFields};
use serde::{Deserialize, Serialize};

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
        match self {
            Reader::ParseResponse
            | Reader::DescribeStatement
            | Reader::ReadyForQuery
            | Reader::BindResponse
            | Reader::PostExecute
            | Reader::ErrorThenReady { .. } => self.read_extended_step(message),
            Reader::ExecuteResponse { tag, error } => read_execute_response(tag, error, message),
            Reader::SimpleExec { tag, error } => read_simple_exec(tag, error, message),
            Reader::SimpleQuery { error } => read_simple_query(error, message),
            Reader::RowsNext { error } => read_rows_next(error, message),
        }
    }

    /// The readers of one reply each: Parse, Describe, Bind, the message after Execute, and
    /// ReadyForQuery (after an error too).
    fn read_extended_step(self, message: Backend) -> ReadOutcome {
        let code = message.code();
        let done = ReadOutcome::Done {
            save: None,
            tag: None,
        };
        match (self, message) {
            (Reader::ParseResponse, Backend::ParseComplete) => done,
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
            (Reader::DescribeStatement, Backend::NoData | Backend::RowDescription { .. }) => done,
            (Reader::DescribeStatement, _) => ReadOutcome::Protocol(format!(
                "unexpected Describe statement response {}",
                quoted(code)
            )),
            (Reader::ReadyForQuery, Backend::ReadyForQuery { .. }) => done,
            (Reader::ErrorThenReady { error }, Backend::ReadyForQuery { .. }) => {
                ReadOutcome::ServerError(error)
            }
            (Reader::ReadyForQuery | Reader::ErrorThenReady { .. }, _) => {
                ReadOutcome::Protocol(format!(
                    "unexpected message {}; expected ReadyForQuery",
                    quoted(code)
                ))
            }
            (Reader::BindResponse, Backend::BindComplete) => done,
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
            (
                Reader::ExecuteResponse { .. }
                | Reader::SimpleExec { .. }
                | Reader::SimpleQuery { .. }
                | Reader::RowsNext { .. },
                _,
            ) => unreachable!("Reader::read gives these readers their own functions"),
        }
    }
}

/// `readExecuteResponse`: 'C'/'T'/'D' until 'Z'.
fn read_execute_response(
    tag: Option<String>,
    error: Option<ErrorFields>,
    message: Backend,
) -> ReadOutcome {
    let code = message.code();
    match (error, message) {
        (Some(e), Backend::CommandComplete { .. }) => ReadOutcome::Protocol(format!(
            "unexpected CommandComplete after error {}",
            pq_error(&e)
        )),
        (error, Backend::CommandComplete { tag }) => ReadOutcome::More(Reader::ExecuteResponse {
            tag: Some(tag),
            error,
        }),
        (Some(e), Backend::RowDescription { .. } | Backend::DataRow { .. }) => {
            ReadOutcome::Protocol(format!(
                "unexpected {} after error {}",
                quoted(code),
                pq_error(&e)
            ))
        }
        (error, Backend::RowDescription { .. } | Backend::DataRow { .. }) => {
            ReadOutcome::More(Reader::ExecuteResponse { tag, error })
        }
        (_, Backend::ErrorResponse { error }) => ReadOutcome::More(Reader::ExecuteResponse {
            tag,
            error: Some(error),
        }),
        (error, Backend::ReadyForQuery { .. }) => match error {
            Some(error) => ReadOutcome::ServerError(error),
            None => ReadOutcome::Done { save: None, tag },
        },
        (_, _) => ReadOutcome::Protocol(format!("unknown simple query response: {}", quoted(code))),
    }
}

/// `simpleExec`: until 'Z'.
fn read_simple_exec(
    tag: Option<String>,
    error: Option<ErrorFields>,
    message: Backend,
) -> ReadOutcome {
    let code = message.code();
    match message {
        Backend::ReadyForQuery { .. } => match error {
            Some(error) => ReadOutcome::ServerError(error),
            None => ReadOutcome::Done { save: None, tag },
        },
        Backend::CommandComplete { tag } => ReadOutcome::More(Reader::SimpleExec {
            tag: Some(tag),
            error,
        }),
        Backend::ErrorResponse { error } => ReadOutcome::More(Reader::SimpleExec {
            tag,
            error: Some(error),
        }),
        Backend::RowDescription { .. } | Backend::DataRow { .. } => {
            ReadOutcome::More(Reader::SimpleExec { tag, error })
        }
        _ => ReadOutcome::Protocol(format!(
            "unknown response for simple query: {}",
            quoted(code)
        )),
    }
}

/// `simpleQuery`: 'T' and 'C' continue, the first 'D' is kept for `rows.Next`, 'Z' ends a
/// result without rows.
fn read_simple_query(error: Option<ErrorFields>, message: Backend) -> ReadOutcome {
    let code = message.code();
    match (error, message) {
        (None, m @ Backend::DataRow { .. }) => ReadOutcome::Done {
            save: Some(m),
            tag: None,
        },
        (Some(_), Backend::DataRow { .. }) => {
            ReadOutcome::Protocol("unexpected DataRow in simple query execution".into())
        }
        (error, Backend::RowDescription { .. }) => ReadOutcome::More(Reader::SimpleQuery { error }),
        (None, Backend::CommandComplete { .. }) => {
            ReadOutcome::More(Reader::SimpleQuery { error: None })
        }
        (Some(_), Backend::CommandComplete { .. }) => {
            ReadOutcome::Protocol("unexpected message 'C' in simple query execution".into())
        }
        (_, Backend::ErrorResponse { error }) => {
            ReadOutcome::More(Reader::SimpleQuery { error: Some(error) })
        }
        (error, Backend::ReadyForQuery { .. }) => match error {
            Some(error) => ReadOutcome::ServerError(error),
            None => ReadOutcome::RowsDone,
        },
        (_, _) => ReadOutcome::Protocol(format!(
            "unknown response for simple query: {}",
            quoted(code)
        )),
    }
}

/// `rows.Next`: 'D' is a row, 'C' continues, 'Z' ends the result.
fn read_rows_next(error: Option<ErrorFields>, message: Backend) -> ReadOutcome {
    let code = message.code();
    match (error, message) {
        (None, Backend::DataRow { values }) => ReadOutcome::Row(values),
        (Some(e), Backend::DataRow { .. }) => {
            ReadOutcome::Protocol(format!("unexpected DataRow after error {}", pq_error(&e)))
        }
        (error, Backend::CommandComplete { .. }) => ReadOutcome::More(Reader::RowsNext { error }),
        (_, Backend::ErrorResponse { error }) => {
            ReadOutcome::More(Reader::RowsNext { error: Some(error) })
        }
        (error, Backend::ReadyForQuery { .. }) => match error {
            Some(error) => ReadOutcome::ServerError(error),
            None => ReadOutcome::RowsDone,
        },
        (_, Backend::RowDescription { .. }) => ReadOutcome::RowsDone,
        (_, _) => ReadOutcome::Protocol(format!(
            "unexpected message after execute: {}",
            quoted(code)
        )),
    }
}
