//! The serde shape of an operation, as lesson files write it, and its reading into an [`Op`]
//! with every field checked.

use super::{Action, Comparison, Isolation, Op, When};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The serde shape of an operation: every field optional, unknown fields rejected, and the
/// per-operation requirements checked in `TryFrom`, so a typo in a lesson file is an error at
/// its line instead of a silently ignored field.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOp {
    /// The operation's name.
    pub op: String,
    /// The listing line.
    pub line: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    label: Option<String>,
    #[serde(default, skip_serializing_if = "is_always")]
    when: When,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    on_error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pool: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    on: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    conn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sql: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    args: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rows: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    into: Option<Names>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    context: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    done: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tx: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    isolation: Option<Isolation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    task: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    body: Option<Vec<Op>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    timeout_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    parent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    var: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    of: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    is: Option<Comparison>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    to: Option<String>,
}

fn is_always(when: &When) -> bool {
    *when == When::Always
}

/// One variable name or several: `into = "x"` or `into = ["x", "y"]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Names {
    /// A single name.
    One(String),
    /// Several names.
    Many(Vec<String>),
}

impl Names {
    fn into_vec(self) -> Vec<String> {
        match self {
            Names::One(n) => vec![n],
            Names::Many(ns) => ns,
        }
    }
}

/// Why an operation in a program is malformed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpError(pub String);

impl fmt::Display for OpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for OpError {}

/// The operations `op` may name, for error messages.
pub const OPERATION_NAMES: &[&str] = &[
    "acquire",
    "release",
    "query",
    "query-row",
    "exec",
    "next",
    "scan",
    "close",
    "collect",
    "begin",
    "commit",
    "rollback",
    "spawn",
    "wait",
    "defer",
    "return",
    "sleep",
    "context",
    "cancel",
    "record",
    "add",
    "if",
    "goto",
];

impl TryFrom<RawOp> for Op {
    type Error = OpError;

    fn try_from(raw: RawOp) -> Result<Op, OpError> {
        let mut reading = Reading {
            raw: &raw,
            used: Vec::new(),
        };
        let action = match database_action(&mut reading)? {
            Some(action) => action,
            None => task_action(&mut reading)?,
        };
        let used = reading.used;
        // A field that this operation does not read is almost certainly a mistake.
        let present = raw.present_fields();
        if let Some(extra) = present.iter().find(|f| !used.contains(f)) {
            return Err(OpError(format!("`{}` does not take `{extra}`", raw.op)));
        }
        Ok(Op {
            line: raw.line,
            label: raw.label,
            when: raw.when,
            on_error: raw.on_error,
            action,
        })
    }
}

/// A [`RawOp`] being read into an [`Op`]: the fields the operation has read so far, so that
/// any other field that is set can be reported.
struct Reading<'a> {
    raw: &'a RawOp,
    used: Vec<&'static str>,
}

impl Reading<'_> {
    fn missing(&self, field: &str) -> OpError {
        OpError(format!("`{}` needs `{field}`", self.raw.op))
    }
}

/// A required field.
macro_rules! take {
    ($reading:ident, $field:ident) => {{
        $reading.used.push(stringify!($field));
        $reading
            .raw
            .$field
            .clone()
            .ok_or_else(|| $reading.missing(stringify!($field)))?
    }};
}

/// An optional field.
macro_rules! opt {
    ($reading:ident, $field:ident) => {{
        $reading.used.push(stringify!($field));
        $reading.raw.$field.clone()
    }};
}

/// A field with a default name.
macro_rules! or {
    ($reading:ident, $field:ident, $default:expr) => {{
        $reading.used.push(stringify!($field));
        $reading
            .raw
            .$field
            .clone()
            .unwrap_or_else(|| $default.to_string())
    }};
}

/// The operations on the database: connections, statements, rows and transactions. `None` for
/// any other operation.
fn database_action(r: &mut Reading) -> Result<Option<Action>, OpError> {
    let action = match r.raw.op.as_str() {
        "acquire" => Action::Acquire {
            pool: take!(r, pool),
            conn: or!(r, conn, "conn"),
            context: opt!(r, context),
        },
        "release" => Action::Release {
            conn: or!(r, conn, "conn"),
        },
        "query" => Action::Query {
            on: take!(r, on),
            sql: take!(r, sql),
            args: {
                r.used.push("args");
                r.raw.args.clone()
            },
            rows: or!(r, rows, "rows"),
            context: opt!(r, context),
        },
        "query-row" => Action::QueryRow {
            on: take!(r, on),
            sql: take!(r, sql),
            args: {
                r.used.push("args");
                r.raw.args.clone()
            },
            into: opt!(r, into).map(Names::into_vec).unwrap_or_default(),
            context: opt!(r, context),
        },
        "exec" => Action::Exec {
            on: take!(r, on),
            sql: take!(r, sql),
            args: {
                r.used.push("args");
                r.raw.args.clone()
            },
            context: opt!(r, context),
        },
        "next" => Action::Next {
            rows: or!(r, rows, "rows"),
            done: take!(r, done),
        },
        "scan" => Action::Scan {
            rows: or!(r, rows, "rows"),
            into: take!(r, into).into_vec(),
        },
        "close" => Action::Close {
            rows: or!(r, rows, "rows"),
        },
        "collect" => {
            let into = match opt!(r, into) {
                Some(Names::One(n)) => n,
                Some(Names::Many(_)) => {
                    return Err(OpError("`collect` needs one `into` name".into()))
                }
                None => return Err(r.missing("into")),
            };
            Action::Collect {
                rows: or!(r, rows, "rows"),
                into,
            }
        }
        "begin" => Action::Begin {
            on: take!(r, on),
            tx: or!(r, tx, "tx"),
            isolation: opt!(r, isolation),
            context: opt!(r, context),
        },
        "commit" => Action::Commit {
            tx: or!(r, tx, "tx"),
        },
        "rollback" => Action::Rollback {
            tx: or!(r, tx, "tx"),
        },
        _ => return Ok(None),
    };
    Ok(Some(action))
}

/// The operations on the task itself: goroutines, defers, returns, contexts and values, and
/// the jumps.
fn task_action(r: &mut Reading) -> Result<Action, OpError> {
    let action = match r.raw.op.as_str() {
        "spawn" => Action::Spawn {
            task: take!(r, task),
        },
        "wait" => Action::Wait,
        "defer" => Action::Defer {
            body: take!(r, body),
        },
        "return" => Action::Return {
            error: opt!(r, error),
        },
        "sleep" => Action::Sleep { ms: take!(r, ms) },
        "context" => Action::Context {
            name: take!(r, name),
            timeout_ms: opt!(r, timeout_ms),
            parent: opt!(r, parent),
        },
        "cancel" => Action::Cancel {
            context: take!(r, context),
        },
        "record" => Action::Record { var: take!(r, var) },
        "add" => {
            let into = match take!(r, into) {
                Names::One(n) => n,
                Names::Many(_) => return Err(OpError("`add` needs one `into` name".into())),
            };
            Action::Add {
                into,
                of: take!(r, of),
            }
        }
        "if" => {
            let is = take!(r, is);
            let value = opt!(r, value);
            if matches!(is, Comparison::Null | Comparison::NotNull) != value.is_none() {
                return Err(OpError(
                    "`if` needs a `value` for eq/ne/lt/le/gt/ge and none for null/not-null".into(),
                ));
            }
            Action::If {
                var: take!(r, var),
                is,
                value,
                to: take!(r, to),
            }
        }
        "goto" => Action::Goto { to: take!(r, to) },
        other => {
            return Err(OpError(format!(
                "unknown operation `{other}`; expected one of: {}",
                OPERATION_NAMES.join(", ")
            )))
        }
    };
    Ok(action)
}

impl RawOp {
    /// The operation-specific fields that are set.
    fn present_fields(&self) -> Vec<&'static str> {
        let mut fields = Vec::new();
        let checks: [(&'static str, bool); 23] = [
            ("pool", self.pool.is_some()),
            ("on", self.on.is_some()),
            ("conn", self.conn.is_some()),
            ("sql", self.sql.is_some()),
            ("args", !self.args.is_empty()),
            ("rows", self.rows.is_some()),
            ("into", self.into.is_some()),
            ("context", self.context.is_some()),
            ("done", self.done.is_some()),
            ("tx", self.tx.is_some()),
            ("isolation", self.isolation.is_some()),
            ("task", self.task.is_some()),
            ("body", self.body.is_some()),
            ("error", self.error.is_some()),
            ("ms", self.ms.is_some()),
            ("name", self.name.is_some()),
            ("timeout_ms", self.timeout_ms.is_some()),
            ("parent", self.parent.is_some()),
            ("var", self.var.is_some()),
            ("of", self.of.is_some()),
            ("is", self.is.is_some()),
            ("value", self.value.is_some()),
            ("to", self.to.is_some()),
        ];
        for (name, set) in checks {
            if set {
                fields.push(name);
            }
        }
        fields
    }
}

impl From<Op> for RawOp {
    fn from(op: Op) -> RawOp {
        let mut raw = RawOp {
            op: op.action.name().to_string(),
            line: op.line,
            label: op.label,
            when: op.when,
            on_error: op.on_error,
            ..RawOp::default()
        };
        match op.action {
            Action::Acquire {
                pool,
                conn,
                context,
            } => {
                raw.pool = Some(pool);
                raw.conn = Some(conn);
                raw.context = context;
            }
            Action::Release { conn } => raw.conn = Some(conn),
            Action::Query {
                on,
                sql,
                args,
                rows,
                context,
            } => {
                raw.on = Some(on);
                raw.sql = Some(sql);
                raw.args = args;
                raw.rows = Some(rows);
                raw.context = context;
            }
            Action::QueryRow {
                on,
                sql,
                args,
                into,
                context,
            } => {
                raw.on = Some(on);
                raw.sql = Some(sql);
                raw.args = args;
                raw.into = Some(Names::Many(into));
                raw.context = context;
            }
            Action::Exec {
                on,
                sql,
                args,
                context,
            } => {
                raw.on = Some(on);
                raw.sql = Some(sql);
                raw.args = args;
                raw.context = context;
            }
            Action::Next { rows, done } => {
                raw.rows = Some(rows);
                raw.done = Some(done);
            }
            Action::Scan { rows, into } => {
                raw.rows = Some(rows);
                raw.into = Some(Names::Many(into));
            }
            Action::Close { rows } => raw.rows = Some(rows),
            Action::Collect { rows, into } => {
                raw.rows = Some(rows);
                raw.into = Some(Names::One(into));
            }
            Action::Begin {
                on,
                tx,
                isolation,
                context,
            } => {
                raw.on = Some(on);
                raw.tx = Some(tx);
                raw.isolation = isolation;
                raw.context = context;
            }
            Action::Commit { tx } | Action::Rollback { tx } => raw.tx = Some(tx),
            Action::Spawn { task } => raw.task = Some(task),
            Action::Wait => {}
            Action::Defer { body } => raw.body = Some(body),
            Action::Return { error } => raw.error = error,
            Action::Sleep { ms } => raw.ms = Some(ms),
            Action::Context {
                name,
                timeout_ms,
                parent,
            } => {
                raw.name = Some(name);
                raw.timeout_ms = timeout_ms;
                raw.parent = parent;
            }
            Action::Cancel { context } => raw.context = Some(context),
            Action::Record { var } => raw.var = Some(var),
            Action::Add { into, of } => {
                raw.into = Some(Names::One(into));
                raw.of = Some(of);
            }
            Action::If { var, is, value, to } => {
                raw.var = Some(var);
                raw.is = Some(is);
                raw.value = value;
                raw.to = Some(to);
            }
            Action::Goto { to } => raw.to = Some(to),
        }
        raw
    }
}
