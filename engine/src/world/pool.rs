//! Client pools: pgxpool v5 (puddle's semaphore: FIFO waiters, no barging) and Go
//! database/sql (unlimited by default, LIFO idle list capped at MaxIdleConns, a released
//! connection handed to a randomly chosen waiter). Sources: pgx v5.10.0
//! `pgxpool/pool.go` (`Acquire`) on puddle v2.2.2 `pool.go` (a `semaphore.Weighted` from
//! golang.org/x/sync, whose waiters are served in order); Go's `database/sql/sql.go` (`DB.conn`,
//! `putConnDBLocked`, `connRequestSet.TakeRandom`).
//!
//! This module only decides; the world carries out the decisions (opening and closing server
//! connections, waking tasks), so the rules can be read and tested on their own.

use super::rng::SplitMix64;
use super::scenario::Driver;
use super::schedule::TaskId;
use super::ConnId;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// A pool's state.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Pool {
    /// Its name in the scenario.
    pub name: String,
    /// Whose semantics it has.
    pub driver: Driver,
    /// The most connections it may have open (pgxpool MaxConns; database/sql MaxOpenConns),
    /// `None` for unlimited.
    pub max_open: Option<u32>,
    /// The most idle connections it keeps (database/sql MaxIdleConns), `None` for all.
    pub max_idle: Option<u32>,
    /// Idle connections; the last one is the most recently released and is reused first.
    pub idle: Vec<ConnId>,
    /// Every open connection of the pool, idle or checked out, in the order they were opened
    /// (which is id order).
    pub open: Vec<ConnId>,
    /// Tasks blocked in Acquire, in arrival order.
    pub waiters: VecDeque<TaskId>,
}

/// What an acquire attempt should do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AcquireDecision {
    /// Reuse this idle connection.
    Reuse(ConnId),
    /// Open a new server connection.
    Open,
    /// Join the wait queue.
    Wait,
}

/// What to do with a connection given back to the pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReleaseDecision {
    /// Hand it to this waiter.
    HandTo(TaskId),
    /// Close it and open a fresh one for this waiter (the old one could not be reused).
    CloseAndOpenFor(TaskId),
    /// Put it on the idle list.
    KeepIdle,
    /// Close it.
    Close,
}

impl Pool {
    /// A pool with no connections yet.
    pub fn new(name: String, driver: Driver, max_open: Option<u32>, max_idle: Option<u32>) -> Pool {
        Pool {
            name,
            driver,
            max_open,
            max_idle,
            idle: Vec::new(),
            open: Vec::new(),
            waiters: VecDeque::new(),
        }
    }

    /// Whether every connection the pool may open is open.
    pub fn is_full(&self) -> bool {
        self.max_open
            .is_some_and(|max| self.open.len() >= max as usize)
    }

    /// How an acquire by a new caller proceeds.
    pub fn decide_acquire(&self) -> AcquireDecision {
        // pgxpool: `TryAcquire` succeeds only if nobody is queued (no barging).
        // database/sql: a free connection is always preferred; a queue implies none is free.
        if self.driver == Driver::Pgxpool && !self.waiters.is_empty() {
            return AcquireDecision::Wait;
        }
        if let Some(&conn) = self.idle.last() {
            return AcquireDecision::Reuse(conn);
        }
        if self.is_full() {
            AcquireDecision::Wait
        } else {
            AcquireDecision::Open
        }
    }

    /// What happens to `conn` when its holder gives it back. `reusable` is false for a
    /// connection that must be destroyed: bad, closed, mid-query, or (pgxpool) still inside a
    /// transaction (pgx v5.10.0 `pgxpool/conn.go`, `Conn.Release`).
    pub fn decide_release(&mut self, reusable: bool, rng: &mut SplitMix64) -> ReleaseDecision {
        let waiter = match self.driver {
            Driver::Pgxpool => self.waiters.pop_front(),
            Driver::DatabaseSql => {
                if self.waiters.is_empty() {
                    None
                } else {
                    // `connRequests.TakeRandom()`: a seeded choice keeps runs reproducible.
                    let pick = rng.below(self.waiters.len());
                    self.waiters.remove(pick)
                }
            }
        };
        match (waiter, reusable) {
            (Some(task), true) => ReleaseDecision::HandTo(task),
            (Some(task), false) => ReleaseDecision::CloseAndOpenFor(task),
            (None, false) => ReleaseDecision::Close,
            (None, true) => match self.max_idle {
                Some(max) if self.idle.len() >= max as usize => ReleaseDecision::Close,
                _ => ReleaseDecision::KeepIdle,
            },
        }
    }

    /// The position of `task` in the wait queue (0 = front), if it waits.
    pub fn position(&self, task: TaskId) -> Option<usize> {
        self.waiters.iter().position(|&t| t == task)
    }

    /// Removes `task` from the wait queue (its context ended).
    pub fn leave_queue(&mut self, task: TaskId) {
        self.waiters.retain(|&t| t != task);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pgx(max: u32) -> Pool {
        Pool::new("db".into(), Driver::Pgxpool, Some(max), None)
    }

    #[test]
    fn pgxpool_hands_a_released_connection_to_the_first_waiter() {
        let mut pool = pgx(1);
        pool.open.push(ConnId(0));
        pool.waiters.extend([TaskId(2), TaskId(1), TaskId(3)]);
        let mut rng = SplitMix64::new(0);
        assert_eq!(
            pool.decide_release(true, &mut rng),
            ReleaseDecision::HandTo(TaskId(2))
        );
        assert_eq!(
            pool.decide_release(true, &mut rng),
            ReleaseDecision::HandTo(TaskId(1))
        );
    }

    #[test]
    fn pgxpool_does_not_let_a_newcomer_barge_past_the_queue() {
        let mut pool = pgx(2);
        pool.open.push(ConnId(0));
        pool.idle.push(ConnId(0));
        assert_eq!(pool.decide_acquire(), AcquireDecision::Reuse(ConnId(0)));
        pool.waiters.push_back(TaskId(7));
        assert_eq!(pool.decide_acquire(), AcquireDecision::Wait);
    }

    #[test]
    fn a_connection_released_inside_a_transaction_is_replaced_for_the_waiter() {
        let mut pool = pgx(1);
        pool.waiters.push_back(TaskId(1));
        let mut rng = SplitMix64::new(0);
        assert_eq!(
            pool.decide_release(false, &mut rng),
            ReleaseDecision::CloseAndOpenFor(TaskId(1))
        );
        assert_eq!(pool.decide_release(false, &mut rng), ReleaseDecision::Close);
    }

    #[test]
    fn database_sql_picks_a_seeded_random_waiter_reproducibly() {
        let picks = |seed: u64| {
            let mut pool = Pool::new("db".into(), Driver::DatabaseSql, Some(1), Some(2));
            pool.waiters.extend((0..5).map(TaskId));
            let mut rng = SplitMix64::new(seed);
            (0..5)
                .map(|_| match pool.decide_release(true, &mut rng) {
                    ReleaseDecision::HandTo(t) => t.0,
                    other => panic!("{other:?}"),
                })
                .collect::<Vec<u32>>()
        };
        assert_eq!(picks(1), picks(1));
        // Not first-come-first-served for every seed: some seed picks out of order.
        assert!((0..10).any(|seed| picks(seed) != vec![0, 1, 2, 3, 4]));
    }

    #[test]
    fn database_sql_keeps_at_most_max_idle_connections() {
        let mut pool = Pool::new("db".into(), Driver::DatabaseSql, None, Some(2));
        let mut rng = SplitMix64::new(0);
        assert!(!pool.is_full());
        pool.idle.extend([ConnId(0), ConnId(1)]);
        assert_eq!(pool.decide_release(true, &mut rng), ReleaseDecision::Close);
        pool.idle.pop();
        assert_eq!(
            pool.decide_release(true, &mut rng),
            ReleaseDecision::KeepIdle
        );
    }
}
