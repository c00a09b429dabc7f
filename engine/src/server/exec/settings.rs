//! Run-time settings: `SET`, `SET LOCAL`-free session GUCs and `SHOW`, with PostgreSQL's units
//! for durations.

use super::*;
use crate::server::{PgError, Server, Session};
use crate::sql::IsolationLevel;
use crate::time::Duration;

impl Server {
    pub(super) fn set_guc_statement(&mut self, s: &mut Session, name: &str, value: &str) -> Flow {
        match self.set_guc(s, name, value) {
            Ok(()) => command("SET"),
            Err(e) => Flow::Fail(e),
        }
    }

    pub(super) fn set_guc(
        &mut self,
        s: &mut Session,
        name: &str,
        value: &str,
    ) -> Result<(), PgError> {
        let dur = || {
            parse_duration(value).ok_or_else(|| {
                PgError::error(
                    "22023",
                    format!("invalid value for parameter \"{name}\": \"{value}\""),
                )
            })
        };
        match name {
            "deadlock_timeout" => s.gucs.deadlock_timeout = dur()?.max(Duration::from_millis(1)),
            "lock_timeout" => s.gucs.lock_timeout = dur()?,
            "statement_timeout" => s.gucs.statement_timeout = dur()?,
            "idle_in_transaction_session_timeout" => {
                s.gucs.idle_in_transaction_session_timeout = dur()?
            }
            "default_transaction_isolation" | "transaction_isolation" => {
                let level = match value.to_ascii_lowercase().as_str() {
                    "read committed" | "read uncommitted" => IsolationLevel::ReadCommitted,
                    "repeatable read" => IsolationLevel::RepeatableRead,
                    "serializable" => IsolationLevel::Serializable,
                    _ => {
                        return Err(PgError::error(
                            "22023",
                            format!("invalid value for parameter \"{name}\": \"{value}\""),
                        ))
                    }
                };
                if name == "transaction_isolation" {
                    if let Some(t) = s.txn.as_mut() {
                        t.isolation = level;
                    }
                } else {
                    s.gucs.default_isolation = level;
                }
            }
            // Accepted and ignored: they change nothing the model shows.
            "client_min_messages"
            | "search_path"
            | "application_name"
            | "timezone"
            | "datestyle"
            | "log_lock_waits"
            | "enable_seqscan"
            | "max_parallel_workers" => {}
            _ => {
                return Err(PgError::error(
                    "42704",
                    format!("unrecognized configuration parameter \"{name}\""),
                ))
            }
        }
        Ok(())
    }

    pub(super) fn show_guc(&self, s: &Session, name: &str) -> Result<String, PgError> {
        Ok(match name {
            "deadlock_timeout" => show_duration(s.gucs.deadlock_timeout),
            "lock_timeout" => show_duration(s.gucs.lock_timeout),
            "statement_timeout" => show_duration(s.gucs.statement_timeout),
            "idle_in_transaction_session_timeout" => {
                show_duration(s.gucs.idle_in_transaction_session_timeout)
            }
            "default_transaction_isolation" => s.gucs.default_isolation.name().to_string(),
            "transaction_isolation" => s
                .txn
                .as_ref()
                .map_or(s.gucs.default_isolation, |t| t.isolation)
                .name()
                .to_string(),
            "max_connections" => self.settings.max_connections.to_string(),
            "superuser_reserved_connections" => {
                self.settings.superuser_reserved_connections.to_string()
            }
            _ => {
                return Err(PgError::error(
                    "42704",
                    format!("unrecognized configuration parameter \"{name}\""),
                ))
            }
        })
    }
}

fn parse_duration(value: &str) -> Option<Duration> {
    let v = value.trim();
    let digits: String = v.chars().take_while(|c| c.is_ascii_digit()).collect();
    let n: u64 = digits.parse().ok()?;
    let unit = v[digits.len()..].trim().to_ascii_lowercase();
    let us = match unit.as_str() {
        "" | "ms" => n * 1000,
        "us" => n,
        "s" => n * 1_000_000,
        "min" => n * 60_000_000,
        "h" => n * 3_600_000_000,
        _ => return None,
    };
    Some(Duration(us))
}

pub(super) fn show_duration(d: Duration) -> String {
    if d == Duration::ZERO {
        "0".to_string()
    } else {
        d.to_string()
    }
}
