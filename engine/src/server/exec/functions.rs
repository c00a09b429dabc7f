//! The SQL functions Lockstep knows: advisory locks, sequences, `current_setting` and the
//! like.

use super::settings::show_duration;
use super::*;
use crate::server::eval::Stop;
use crate::server::event::Event;
use crate::server::locks::{Grant, LockManager, LockMode, LockTag, Owner};
use crate::server::storage::Value;
use crate::server::{AcquireFailure, PgError, Server, Session};
use crate::time::Instant;
use litemap::LiteMap;

/// What a SQL function may change: the lock manager (advisory locks), the backends its
/// releases wake, and the sequences.
pub(in crate::server) struct FunctionState<'a> {
    pub locks: &'a mut LockManager,
    pub woken: &'a mut Vec<Grant>,
    pub sequences: &'a mut LiteMap<String, i64>,
}

impl FunctionState<'_> {
    /// Calls the function `name` for backend `s`: Err(Stop::Wait) when an advisory lock makes
    /// it wait.
    pub(in crate::server) fn call(
        &mut self,
        s: &mut Session,
        name: &str,
        args: &[Value],
        now: Instant,
        events: &mut Vec<Event>,
    ) -> Result<Value, Stop> {
        match name {
            _ if name.starts_with("pg_advisory_") || name.starts_with("pg_try_advisory_") => {
                self.advisory(s, name, args, now, events)
            }
            "current_setting" => current_setting(s, args),
            // Sequences are not transactional: a value handed out stays used even if the
            // transaction rolls back, as in PostgreSQL.
            "nextval" => match args {
                [Value::Text(name)] => match self.sequences.get_mut(name) {
                    Some(v) => {
                        *v += 1;
                        Ok(Value::Int(*v))
                    }
                    None => Err(PgError::error(
                        "42P01",
                        format!("relation \"{name}\" does not exist"),
                    )
                    .into()),
                },
                _ => Err(PgError::error("42883", "function nextval does not exist").into()),
            },
            "pg_backend_pid" => Ok(Value::Int(s.pid.0 as i64)),
            "lower" | "upper" => match args {
                [Value::Text(t)] => Ok(Value::Text(if name == "lower" {
                    t.to_lowercase()
                } else {
                    t.to_uppercase()
                })),
                [Value::Null] => Ok(Value::Null),
                _ => Err(PgError::error("42883", format!("function {name} does not exist")).into()),
            },
            "coalesce" => Ok(args
                .iter()
                .find(|v| **v != Value::Null)
                .cloned()
                .unwrap_or(Value::Null)),
            _ if is_aggregate(name) => Err(PgError::error(
                "42803",
                format!("aggregate functions are not allowed here ({name})"),
            )
            .into()),
            // Functions PostgreSQL has and the engine lacks never get here: the parser refuses
            // them (`crate::sql::unsupported`). What is left does not exist in PostgreSQL either.
            _ => Err(PgError::error(
                "42883",
                format!("function {name} does not exist"),
            )
            .with_hint(
                "No function matches the given name and argument types. You might need to add explicit type casts.",
            )
            .into()),
        }
    }

    /// The advisory lock functions (`pg_advisory_lock`, its `_xact`, `_shared` and `pg_try_`
    /// forms, and the unlocks).
    fn advisory(
        &mut self,
        s: &mut Session,
        name: &str,
        args: &[Value],
        now: Instant,
        events: &mut Vec<Event>,
    ) -> Result<Value, Stop> {
        let level = Server::level(s);
        match name {
            "pg_advisory_lock"
            | "pg_advisory_xact_lock"
            | "pg_advisory_lock_shared"
            | "pg_advisory_xact_lock_shared"
            | "pg_try_advisory_lock"
            | "pg_try_advisory_xact_lock"
            | "pg_try_advisory_lock_shared"
            | "pg_try_advisory_xact_lock_shared" => {
                let k = advisory_key(name, args)?;
                let mode = if name.ends_with("_shared") {
                    LockMode::Share
                } else {
                    LockMode::Exclusive
                };
                let owner = if name.contains("xact") {
                    Owner::Xact(level)
                } else {
                    Owner::Session
                };
                let tryit = name.starts_with("pg_try");
                let request = LockRequest {
                    tag: LockTag::Advisory { key: k },
                    mode,
                    owner,
                    nowait: tryit,
                    context: None,
                };
                match acquire_lock(self.locks, s, request, now, events) {
                    Ok(true) => Ok(if tryit {
                        Value::Bool(true)
                    } else {
                        Value::Void
                    }),
                    Ok(false) => Err(Stop::Wait),
                    Err(AcquireFailure::WouldBlock) => Ok(Value::Bool(false)),
                    Err(AcquireFailure::Deadlock(e)) => Err(Stop::Error(e)),
                }
            }
            "pg_advisory_unlock" | "pg_advisory_unlock_shared" => {
                let k = advisory_key(name, args)?;
                let mode = if name.ends_with("_shared") {
                    LockMode::Share
                } else {
                    LockMode::Exclusive
                };
                match self
                    .locks
                    .release(s.pid, LockTag::Advisory { key: k }, mode, Owner::Session)
                {
                    Some(w) => {
                        self.woken.extend(w);
                        Ok(Value::Bool(true))
                    }
                    None => {
                        let message = format!(
                            "you don't own a lock of type {}",
                            crate::server::locks::mode_name(mode)
                        );
                        notice(s, "WARNING", &message, now, events);
                        Ok(Value::Bool(false))
                    }
                }
            }
            "pg_advisory_unlock_all" => {
                let pid = s.pid;
                // Only session-level advisory locks; transaction-level ones stay.
                let tags: Vec<LockTag> = self
                    .locks
                    .locks
                    .keys()
                    .filter(|t| matches!(t, LockTag::Advisory { .. }))
                    .copied()
                    .collect();
                for tag in tags {
                    for mode in [LockMode::Exclusive, LockMode::Share] {
                        while self.locks.hold_count(pid, &tag, mode, Owner::Session) > 0 {
                            if let Some(w) = self.locks.release(pid, tag, mode, Owner::Session) {
                                self.woken.extend(w);
                            }
                        }
                    }
                }
                Ok(Value::Void)
            }
            _ => Err(PgError::error("42883", format!("function {name} does not exist")).into()),
        }
    }
}

/// The advisory lock key of one bigint, or of two ints combined as PostgreSQL does.
fn advisory_key(name: &str, args: &[Value]) -> Result<i64, Stop> {
    match args {
        [Value::Int(k)] => Ok(*k),
        [Value::Int(a), Value::Int(b)] => Ok((*a << 32) | (*b & 0xffff_ffff)),
        [Value::Null] => Ok(i64::MIN),
        _ => Err(PgError::error(
            "42883",
            format!("function {name} does not exist with these arguments"),
        )
        .into()),
    }
}

/// `current_setting(name)` for the settings Lockstep models.
fn current_setting(s: &Session, args: &[Value]) -> Result<Value, Stop> {
    match args {
        [Value::Text(n)] => {
            let v = match n.as_str() {
                "default_transaction_isolation" => s.gucs.default_isolation.name().to_string(),
                "transaction_isolation" => s
                    .txn
                    .as_ref()
                    .map_or(s.gucs.default_isolation, |t| t.isolation)
                    .name()
                    .to_string(),
                "deadlock_timeout" => show_duration(s.gucs.deadlock_timeout),
                "lock_timeout" => show_duration(s.gucs.lock_timeout),
                "statement_timeout" => show_duration(s.gucs.statement_timeout),
                _ => {
                    return Err(PgError::error(
                        "42704",
                        format!("unrecognized configuration parameter \"{n}\""),
                    )
                    .into())
                }
            };
            Ok(Value::Text(v))
        }
        _ => Err(PgError::error("42883", "function current_setting does not exist").into()),
    }
}
