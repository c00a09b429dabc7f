//! The client side of a step: running a task's operations, its calls' micro-steps, pools
//! handing out and taking back connections, and what contexts ending does. The driver rules
//! follow the drivers' source: github.com/jackc/pgx v5.10.0 (`pgxpool/pool.go`, `pgxpool/conn.go`,
//! `pgconn/pgconn.go`), Go's `src/database/sql/sql.go`, and github.com/lib/pq v1.10.9 (`conn.go`:
//! `prepareTo`, `readParseResponse`, `rows.Next`, `rows.Close`; `error.go`: `errorf`).

use super::pool::{AcquireDecision, ReleaseDecision};
use super::program::{Action, Comparison, Op, When};
use super::protocol::{pgx_error, pq_error, Backend, Client, Frontend, ReadOutcome, Reader};
use super::task::{Call, CallKind, Context, Life, Micro, Pc, Rows, TaskError, Transaction, Var};
use super::*;

/// What a program's `on = ...` refers to.
#[derive(Clone, Copy, Debug)]
enum Target {
    Pool(PoolId),
    Tx(TxId),
    Conn(ConnId),
}

fn error(text: impl Into<String>) -> TaskError {
    TaskError {
        text: text.into(),
        sqlstate: None,
    }
}

use crate::limits::CONTEXTS_MAX;

/// database/sql's `driver.ErrBadConn`.
const BAD_CONNECTION: &str = "driver: bad connection";
/// database/sql's `ErrTxDone`.
const SQL_TX_DONE: &str = "sql: transaction has already been committed or rolled back";

mod calls;
mod connections;
mod interpreter;
mod ops;
mod scripts;
mod state;

use scripts::{simple_script, statement_script};

impl World {
    fn task_mut(&mut self, id: TaskId) -> &mut Task {
        &mut self.tasks[id.0 as usize]
    }

    fn driver_of_pool(&self, pool: PoolId) -> Driver {
        self.pools[pool.0 as usize].driver
    }

    /// The client library whose words a pool's errors are reported in (pools are built in
    /// scenario order, so a pool's id is its index there).
    fn client_of_pool(&self, pool: PoolId) -> Client {
        self.scenario
            .0
            .pools
            .get(pool.0 as usize)
            .map_or(Client::of_driver(self.driver_of_pool(pool)), |p| p.client())
    }

    fn client_of_conn(&self, conn: ConnId) -> Client {
        self.connections
            .get(&conn)
            .map_or(Client::Pgx, |c| self.client_of_pool(c.pool))
    }

    fn driver_of_conn(&self, conn: ConnId) -> Driver {
        self.connections
            .get(&conn)
            .map(|c| self.driver_of_pool(c.pool))
            .unwrap_or(Driver::Pgxpool)
    }
}

fn compare(left: Option<&str>, is: Comparison, right: Option<&str>) -> bool {
    match is {
        Comparison::Null => return left.is_none(),
        Comparison::NotNull => return left.is_some(),
        _ => {}
    }
    let (Some(l), Some(r)) = (left, right) else {
        // SQL-like: a comparison with NULL is not true (but `ne` against a value is).
        return matches!(is, Comparison::Ne) && left != right;
    };
    let ordering = match (l.trim().parse::<i64>(), r.trim().parse::<i64>()) {
        (Ok(a), Ok(b)) => a.cmp(&b),
        _ => l.cmp(r),
    };
    match is {
        Comparison::Eq => ordering.is_eq(),
        Comparison::Ne => ordering.is_ne(),
        Comparison::Lt => ordering.is_lt(),
        Comparison::Le => ordering.is_le(),
        Comparison::Gt => ordering.is_gt(),
        Comparison::Ge => ordering.is_ge(),
        Comparison::Null | Comparison::NotNull => unreachable!(),
    }
}
