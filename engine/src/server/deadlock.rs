//! PostgreSQL's deadlock detector (`deadlock.c`), run by a waiting backend once, when its
//! `deadlock_timeout` expires.
//!
//! The search follows `FindLockCycleRecurse`: from the checking backend along "hard" edges
//! (holders of conflicting modes, in the order they first asked for the lock) and then "soft"
//! edges (earlier waiters in the queue with conflicting requests). Only a cycle back to the
//! checking backend counts. A cycle that contains soft edges may be broken by reordering wait
//! queues (`DeadLockCheckRecurse` / `TestConfiguration` / `ExpandConstraints` / `TopoSort`);
//! only if no reordering works is it a real deadlock, and then the checking backend is the
//! victim.
//!
//! The search is hand-written rather than done with petgraph's DFS because its semantics are
//! PostgreSQL's own: a global visited list, "cycle only if we return to the start", per-lock
//! hypothetical queue orders, and the path recorded while unwinding for the DETAIL lines. The
//! graphs are tiny (one node per backend).

use super::event::{DeadlockVerdict, Event};
use super::locks::{bit, conflict_mask, mode_name, LockManager, LockMode, LockTag};
use super::{PgError, Pid, Server, Session};
use crate::limits::{DEADLOCK_CONSTRAINTS_MAX, DEADLOCK_WORK_MAX};
use crate::time::Instant;

/// A soft edge: `waiter` is behind `blocker` in `lock`'s queue with a conflicting request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Edge {
    waiter: Pid,
    blocker: Pid,
    lock: LockTag,
}

struct Detector<'a> {
    locks: &'a LockManager,
    cur: Vec<Edge>,
    possible: Vec<Edge>,
    wait_orders: Vec<(LockTag, Vec<Pid>)>,
    visited: Vec<Pid>,
    details: Vec<Option<(Pid, LockTag, LockMode)>>,
    n_details: usize,
    work: usize,
}

/// The outcome of one check.
pub(crate) enum Outcome {
    NoDeadlock,
    Soft(Vec<(LockTag, Vec<Pid>)>),
    /// The cycle, from the checking backend: (backend, lock it waits for, mode).
    Hard(Vec<(Pid, LockTag, LockMode)>),
}

impl<'a> Detector<'a> {
    fn new(locks: &'a LockManager) -> Detector<'a> {
        Detector {
            locks,
            cur: Vec::new(),
            possible: Vec::new(),
            wait_orders: Vec::new(),
            visited: Vec::new(),
            details: Vec::new(),
            n_details: 0,
            work: 0,
        }
    }

    /// `DeadLockCheck`.
    fn check(&mut self, start: Pid) -> Outcome {
        if self.check_recurse(start) {
            self.wait_orders.clear();
            let mut soft = Vec::new();
            if !self.find_lock_cycle(start, &mut soft) {
                // The cycle vanished: cannot happen with a consistent lock table, but
                // "no deadlock" is the safe answer.
                return Outcome::NoDeadlock;
            }
            let cycle = self.details[..self.n_details]
                .iter()
                .flatten()
                .copied()
                .collect();
            return Outcome::Hard(cycle);
        }
        if self.wait_orders.is_empty() {
            Outcome::NoDeadlock
        } else {
            Outcome::Soft(std::mem::take(&mut self.wait_orders))
        }
    }

    /// `DeadLockCheckRecurse`: true when no queue arrangement avoids a deadlock.
    fn check_recurse(&mut self, start: Pid) -> bool {
        let edges = match self.test_configuration(start) {
            None => return true,
            Some(e) => e,
        };
        if edges.is_empty() {
            return false;
        }
        if self.cur.len() >= DEADLOCK_CONSTRAINTS_MAX || self.work > DEADLOCK_WORK_MAX {
            return true;
        }
        let old = self.possible.len();
        self.possible.extend(edges.iter().copied());
        for i in 0..edges.len() {
            self.cur.push(self.possible[old + i]);
            if !self.check_recurse(start) {
                return false;
            }
            self.cur.pop();
        }
        self.possible.truncate(old);
        true
    }

    /// `TestConfiguration`: None for a hard deadlock (or inconsistent constraints), else the
    /// soft edges of a remaining cycle (empty: this configuration works).
    fn test_configuration(&mut self, start: Pid) -> Option<Vec<Edge>> {
        self.work += 1;
        let constraints = self.cur.clone();
        if !self.expand_constraints(&constraints) {
            return None;
        }
        let mut found: Vec<Edge> = Vec::new();
        let mut soft = Vec::new();
        for c in &constraints {
            for p in [c.waiter, c.blocker] {
                if self.find_lock_cycle(p, &mut soft) {
                    if soft.is_empty() {
                        return None;
                    }
                    found = soft.clone();
                }
            }
        }
        if self.find_lock_cycle(start, &mut soft) {
            if soft.is_empty() {
                return None;
            }
            found = soft.clone();
        }
        Some(found)
    }

    /// `ExpandConstraints`: one hypothetical queue order per lock named in the constraints.
    fn expand_constraints(&mut self, constraints: &[Edge]) -> bool {
        self.wait_orders.clear();
        for i in (0..constraints.len()).rev() {
            let lock = constraints[i].lock;
            if self.wait_orders.iter().any(|(l, _)| *l == lock) {
                continue;
            }
            match self.topo_sort(lock, &constraints[..=i]) {
                Some(order) => self.wait_orders.push((lock, order)),
                None => return false,
            }
        }
        true
    }

    /// `TopoSort`: the queue order closest to the current one that puts every constrained
    /// waiter before its blocker.
    fn topo_sort(&self, lock: LockTag, constraints: &[Edge]) -> Option<Vec<Pid>> {
        let procs: Vec<Pid> = self
            .locks
            .locks
            .get(&lock)
            .map(|l| l.queue.iter().map(|w| w.pid).collect())
            .unwrap_or_default();
        let n = procs.len();
        let mut before = vec![0i32; n];
        let mut after: Vec<Vec<usize>> = vec![Vec::new(); n];
        for c in constraints {
            if c.lock != lock {
                continue;
            }
            let Some(jj) = procs.iter().rposition(|p| *p == c.waiter) else {
                continue;
            };
            let Some(kk) = procs.iter().rposition(|p| *p == c.blocker) else {
                continue;
            };
            before[jj] += 1;
            after[kk].push(jj);
        }
        let mut remaining: Vec<Option<Pid>> = procs.iter().copied().map(Some).collect();
        let mut ordering = vec![Pid(0); n];
        for i in (0..n).rev() {
            let j = (0..n)
                .rev()
                .find(|&j| remaining[j].is_some() && before[j] == 0)?;
            ordering[i] = remaining[j].take()?;
            for &pred in &after[j] {
                before[pred] -= 1;
            }
        }
        Some(ordering)
    }

    /// `FindLockCycle`.
    fn find_lock_cycle(&mut self, check: Pid, soft: &mut Vec<Edge>) -> bool {
        self.visited.clear();
        self.details.clear();
        self.n_details = 0;
        soft.clear();
        self.recurse(check, 0, soft)
    }

    fn recurse(&mut self, p: Pid, depth: usize, soft: &mut Vec<Edge>) -> bool {
        self.work += 1;
        if let Some(i) = self.visited.iter().position(|v| *v == p) {
            if i == 0 {
                self.n_details = depth;
                return true;
            }
            return false;
        }
        self.visited.push(p);
        if let Some(&(tag, mode)) = self.locks.waiting.get(&p) {
            if self.member(p, tag, mode, depth, soft) {
                return true;
            }
        }
        false
    }

    fn record(&mut self, depth: usize, entry: (Pid, LockTag, LockMode)) {
        if self.details.len() <= depth {
            self.details.resize(depth + 1, None);
        }
        self.details[depth] = Some(entry);
    }

    /// `FindLockCycleRecurseMember`: hard edges first, then soft edges.
    fn member(
        &mut self,
        check: Pid,
        tag: LockTag,
        mode: LockMode,
        depth: usize,
        soft: &mut Vec<Edge>,
    ) -> bool {
        let Some(lock) = self.locks.locks.get(&tag) else {
            return false;
        };
        let conflict = conflict_mask(mode);
        let holders: Vec<Pid> = lock
            .procs
            .iter()
            .filter(|pl| pl.pid != check && pl.holds.iter().any(|h| bit(h.mode) & conflict != 0))
            .map(|pl| pl.pid)
            .collect();
        for h in holders {
            if self.recurse(h, depth + 1, soft) {
                self.record(depth, (check, tag, mode));
                return true;
            }
        }
        let queue: Vec<(Pid, LockMode)> = match self.wait_orders.iter().find(|(l, _)| *l == tag) {
            Some((_, order)) => order
                .iter()
                .filter_map(|p| {
                    lock.queue
                        .iter()
                        .find(|w| w.pid == *p)
                        .map(|w| (w.pid, w.mode))
                })
                .collect(),
            None => lock.queue.iter().map(|w| (w.pid, w.mode)).collect(),
        };
        for (q, qmode) in queue {
            if q == check {
                break;
            }
            if conflict & bit(qmode) != 0 && self.recurse(q, depth + 1, soft) {
                self.record(depth, (check, tag, mode));
                soft.push(Edge {
                    waiter: check,
                    blocker: q,
                    lock: tag,
                });
                return true;
            }
        }
        false
    }
}

/// Runs the check for `pid` against the current lock table.
pub(crate) fn deadlock_check(locks: &LockManager, pid: Pid) -> Outcome {
    Detector::new(locks).check(pid)
}

/// The DETAIL lines of `DeadLockReport`, one per edge of the cycle.
pub(crate) fn describe_cycle(cycle: &[(Pid, LockTag, LockMode)]) -> String {
    let mut lines = Vec::new();
    for (i, (pid, tag, mode)) in cycle.iter().enumerate() {
        let next = cycle[(i + 1) % cycle.len()].0;
        lines.push(format!(
            "Process {pid} waits for {} on {tag}; blocked by process {next}.",
            mode_name(*mode)
        ));
    }
    lines.join("\n")
}

impl Server {
    /// The deadlock check of backend `s`, run when its `deadlock_timeout` expires.
    pub(crate) fn check_deadlock(
        &mut self,
        s: &mut Session,
        now: Instant,
        events: &mut Vec<Event>,
    ) {
        if s.wait.is_none() {
            return;
        }
        match deadlock_check(&self.locks, s.pid) {
            Outcome::NoDeadlock => events.push(Event::DeadlockCheck {
                pid: s.pid,
                verdict: DeadlockVerdict::NoDeadlock,
            }),
            Outcome::Soft(orders) => {
                events.push(Event::DeadlockCheck {
                    pid: s.pid,
                    verdict: DeadlockVerdict::SoftDeadlockResolved,
                });
                for (tag, order) in orders {
                    let woken = self.locks.reorder_queue(tag, &order);
                    self.woken.extend(woken);
                }
            }
            Outcome::Hard(cycle) => {
                let detail = describe_cycle(&cycle);
                events.push(Event::DeadlockCheck {
                    pid: s.pid,
                    verdict: DeadlockVerdict::Deadlock {
                        detail: detail.clone(),
                    },
                });
                // The server log's DETAIL also names each process's query.
                let mut log = detail.clone();
                for (pid, _, _) in &cycle {
                    let activity = if *pid == s.pid {
                        s.activity.clone()
                    } else {
                        self.sessions
                            .get(pid)
                            .map(|x| x.activity.clone())
                            .unwrap_or_default()
                    };
                    log.push_str(&format!("\nProcess {pid}: {activity}"));
                }
                let context = s.wait.as_ref().and_then(|w| w.context.clone());
                self.fail_query_logged(
                    s,
                    PgError::deadlock(detail, context),
                    Some(log),
                    now,
                    events,
                );
            }
        }
    }
}
