//! The server side of a connection: the backend reads frontend messages in order, runs
//! statements on the PostgreSQL model, and queues its replies, exactly in the order a real
//! backend writes them to the socket (PostgreSQL documentation, "Message Flow", Extended Query:
//! https://www.postgresql.org/docs/15/protocol-flow.html#PROTOCOL-FLOW-EXT-QUERY).
//!
//! This is the only module that talks to `server::Server`.

use super::protocol::{bind, returns_rows, ErrorFields, Frontend, TxStatus};
use super::scenario::ServerSettings;
use super::{Backend, BackendState, ConnId, Event, World};
use crate::server::{self, PgError, Pid, StatementResult};
use crate::time::Duration;

/// Whether a statement may take row locks one row at a time (UPDATE, DELETE, INSERT,
/// SELECT ... FOR ...): only then is the order of its units observable by other sessions. A
/// plain SELECT reads one snapshot; BEGIN, COMMIT and the like are one edge each.
pub(super) fn locks_rows(sql: &str) -> bool {
    let upper = sql.trim_start().to_ascii_uppercase();
    ["UPDATE", "DELETE", "INSERT", "WITH", "MERGE"]
        .iter()
        .any(|k| upper.starts_with(k))
        || (upper.starts_with("SELECT") && upper.contains(" FOR "))
}

/// The server's settings from the scenario's.
pub(super) fn server_settings(s: &ServerSettings) -> server::Settings {
    let mut settings = server::Settings::default();
    if let Some(n) = s.max_connections {
        settings.max_connections = n;
    }
    if let Some(n) = s.superuser_reserved_connections {
        settings.superuser_reserved_connections = n;
    }
    if let Some(ms) = s.deadlock_timeout_ms {
        settings.deadlock_timeout = Duration::from_millis(ms);
    }
    if let Some(ms) = s.lock_timeout_ms {
        settings.lock_timeout = Duration::from_millis(ms);
    }
    if let Some(ms) = s.statement_timeout_ms {
        settings.statement_timeout = Duration::from_millis(ms);
    }
    if let Some(ms) = s.idle_in_transaction_session_timeout_ms {
        settings.idle_in_transaction_session_timeout = Duration::from_millis(ms);
    }
    settings
}

/// An ErrorResponse's fields from the server's error.
pub(super) fn error_fields(e: &PgError) -> ErrorFields {
    ErrorFields {
        severity: e.severity.to_string(),
        code: e.code.to_string(),
        message: e.message.clone(),
        detail: e.detail.clone(),
        hint: e.hint.clone(),
        context: e.context.clone(),
    }
}

impl World {
    fn reply(&mut self, conn: ConnId, message: Backend, events: &mut Vec<Event>) {
        events.push(Event::MessageQueued {
            conn,
            message: message.clone(),
        });
        if let Some(c) = self.connections.get_mut(&conn) {
            c.to_frontend.push_back(message);
        }
    }

    /// The transaction status a ReadyForQuery reports for this session now.
    fn tx_status(&self, pid: Pid) -> TxStatus {
        match self.server.state(pid) {
            server::SessionState::IdleInTransaction => TxStatus::InTransaction,
            server::SessionState::IdleInTransactionAborted => TxStatus::Failed,
            _ => TxStatus::Idle,
        }
    }

    /// Processes frontend messages in order until one starts a statement on the server (which
    /// then runs in the steps of whoever waits for its reply) or none is left.
    pub(super) fn backend_process(&mut self, conn: ConnId, events: &mut Vec<Event>) {
        loop {
            let Some(c) = self.connections.get_mut(&conn) else {
                return;
            };
            if matches!(c.backend, BackendState::Executing { .. }) || c.terminated {
                return;
            }
            let Some(message) = c.to_backend.pop_front() else {
                return;
            };
            let pid = c.pid;
            if c.backend == BackendState::Skipping {
                // After an error, the backend discards messages until Sync.
                if message == Frontend::Sync {
                    c.backend = BackendState::Ready;
                    c.statement = None;
                    c.portal = None;
                    let status = self.tx_status(pid);
                    self.reply(conn, Backend::ReadyForQuery { status }, events);
                }
                continue;
            }
            match message {
                Frontend::Parse { sql } => {
                    c.statement = Some(sql);
                    c.portal = None;
                    self.reply(conn, Backend::ParseComplete, events);
                }
                Frontend::Describe => {
                    let rows = c.statement.as_deref().is_some_and(returns_rows);
                    self.reply(conn, Backend::ParameterDescription, events);
                    let description = if rows {
                        Backend::RowDescription {
                            columns: Vec::new(),
                        }
                    } else {
                        Backend::NoData
                    };
                    self.reply(conn, description, events);
                }
                Frontend::Bind { args } => {
                    c.portal = c.statement.as_deref().map(|sql| bind(sql, &args));
                    self.reply(conn, Backend::BindComplete, events);
                }
                Frontend::Execute => {
                    let Some(sql) = c.portal.clone() else {
                        c.backend = BackendState::Skipping;
                        let error = ErrorFields {
                            severity: "ERROR".into(),
                            code: "34000".into(),
                            message: "portal \"\" does not exist".into(),
                            detail: None,
                            hint: None,
                            context: None,
                        };
                        self.reply(conn, Backend::ErrorResponse { error }, events);
                        continue;
                    };
                    c.backend = BackendState::Executing {
                        simple: false,
                        row_by_row: locks_rows(&sql),
                    };
                    self.submit(conn, pid, &sql, events);
                }
                Frontend::Query { sql } => {
                    c.backend = BackendState::Executing {
                        simple: true,
                        row_by_row: locks_rows(&sql),
                    };
                    self.submit(conn, pid, &sql, events);
                }
                Frontend::Sync => {
                    // After a Bind/Execute series nothing refers to the unnamed statement or
                    // portal again (the drivers re-Parse each query): forgetting them keeps
                    // equal states equal.
                    if c.portal.take().is_some() {
                        c.statement = None;
                    }
                    let status = self.tx_status(pid);
                    self.reply(conn, Backend::ReadyForQuery { status }, events);
                }
                Frontend::Terminate => {
                    self.close_conn(conn, None, "the client terminated it", events);
                    return;
                }
            }
        }
    }

    fn submit(&mut self, conn: ConnId, pid: Pid, sql: &str, events: &mut Vec<Event>) {
        let mut server_events = Vec::new();
        self.server.submit(pid, sql, self.now, &mut server_events);
        events.extend(server_events.into_iter().map(Event::Server));
        self.poll_backend(conn, events);
    }

    /// One unit of a statement's work on the server (one row, or one statement edge).
    pub(super) fn backend_step(&mut self, conn: ConnId, events: &mut Vec<Event>) {
        let Some(c) = self.connections.get(&conn) else {
            return;
        };
        let pid = c.pid;
        let mut server_events = Vec::new();
        match c.backend {
            BackendState::Executing {
                row_by_row: false, ..
            } => self.server.run(pid, self.now, &mut server_events),
            _ => self.server.step(pid, self.now, &mut server_events),
        }
        events.extend(server_events.into_iter().map(Event::Server));
        self.poll_backend(conn, events);
    }

    /// When the backend's statement has finished, queues its replies and goes on with the
    /// frontend messages after it. Also notices a session the server has ended.
    pub(super) fn poll_backend(&mut self, conn: ConnId, events: &mut Vec<Event>) {
        let Some(c) = self.connections.get(&conn) else {
            return;
        };
        let pid = c.pid;
        if c.terminated {
            return;
        }
        if let server::SessionState::Terminated(fatal) = self.server.state(pid) {
            // The server ended the session (e.g. idle_in_transaction_session_timeout): it
            // writes the FATAL ErrorResponse and closes the socket.
            let _ = self.server.take_outcome(pid);
            self.reply(
                conn,
                Backend::ErrorResponse {
                    error: error_fields(&fatal),
                },
                events,
            );
            if let Some(c) = self.connections.get_mut(&conn) {
                c.terminated = true;
            }
            return;
        }
        let BackendState::Executing { simple, .. } = c.backend else {
            return;
        };
        let Some(outcome) = self.server.take_outcome(pid) else {
            return;
        };
        for result in outcome.results {
            match result {
                StatementResult::Rows { columns, rows } => {
                    if simple {
                        self.reply(conn, Backend::RowDescription { columns }, events);
                    }
                    let n = rows.len();
                    for values in rows {
                        self.reply(conn, Backend::DataRow { values }, events);
                    }
                    self.reply(
                        conn,
                        Backend::CommandComplete {
                            tag: format!("SELECT {n}"),
                        },
                        events,
                    );
                }
                StatementResult::Command { tag } => {
                    self.reply(conn, Backend::CommandComplete { tag }, events);
                }
            }
        }
        let failed = outcome.error.is_some();
        if let Some(error) = outcome.error {
            self.reply(
                conn,
                Backend::ErrorResponse {
                    error: error_fields(&error),
                },
                events,
            );
        }
        let c = self.connections.get_mut(&conn).expect("polled");
        if simple {
            c.backend = BackendState::Ready;
            let status = self.tx_status(pid);
            self.reply(conn, Backend::ReadyForQuery { status }, events);
        } else {
            c.backend = if failed {
                BackendState::Skipping
            } else {
                BackendState::Ready
            };
        }
        self.backend_process(conn, events);
    }

    /// lib/pq's CancelRequest: the statement running on this backend fails with
    /// `canceling statement due to user request`.
    pub(super) fn cancel_backend(&mut self, conn: ConnId, events: &mut Vec<Event>) {
        let Some(c) = self.connections.get(&conn) else {
            return;
        };
        if !matches!(c.backend, BackendState::Executing { .. }) {
            return;
        }
        let pid = c.pid;
        let mut server_events = Vec::new();
        self.server.cancel(pid, self.now, &mut server_events);
        events.extend(server_events.into_iter().map(Event::Server));
        self.poll_backend(conn, events);
    }

    /// database/sql's automatic rollback when a transaction's context ends: the driver runs
    /// ROLLBACK on the connection (no caller reads its messages, so they are not queued).
    pub(super) fn rollback_directly(&mut self, conn: ConnId, events: &mut Vec<Event>) {
        let Some(c) = self.connections.get(&conn) else {
            return;
        };
        let pid = c.pid;
        let mut server_events = Vec::new();
        self.server
            .submit(pid, "ROLLBACK", self.now, &mut server_events);
        self.server.run(pid, self.now, &mut server_events);
        let _ = self.server.take_outcome(pid);
        events.extend(server_events.into_iter().map(Event::Server));
        if let Some(c) = self.connections.get_mut(&conn) {
            c.tx_status = TxStatus::Idle;
        }
    }

    /// Who a waiting backend waits for: the blockers, the lock in PostgreSQL's words, the row
    /// version waited for (from the wait, or the tuple lock's slot) and the lock's tag.
    #[allow(clippy::type_complexity)]
    pub(super) fn lock_wait(
        &self,
        pid: Pid,
    ) -> (
        Vec<Pid>,
        String,
        Option<(String, (u32, u16))>,
        Option<server::locks::LockTag>,
    ) {
        match self.server.state(pid) {
            server::SessionState::Waiting(reason) => {
                let what = format!(
                    "{} on {}",
                    server::locks::mode_name(reason.mode),
                    reason.tag
                );
                let row = reason.row.or_else(|| match reason.tag {
                    server::locks::LockTag::Tuple { rel, block, offset } => self
                        .server
                        .table_name(rel)
                        .map(|name| (name.to_string(), (block, offset))),
                    _ => None,
                });
                (reason.blockers, what, row, Some(reason.tag))
            }
            _ => (Vec::new(), String::from("nothing"), None, None),
        }
    }
}
