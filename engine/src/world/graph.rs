//! "Why is everyone stuck?": the wait-for graph over tasks, pools, connections (with their
//! server sessions, transactions and locks), derived from the world state on demand.
//!
//! It finds what PostgreSQL sees (a cycle of lock waits between sessions, which its deadlock
//! detector will break) and what it cannot: pool starvation (every connection held by a task
//! that waits for the pool) and mixed cycles (a transaction holding a row lock while its task
//! waits for a full pool). Built with petgraph; the database edges are
//! PostgreSQL's hard and soft edges (`src/backend/storage/lmgr/deadlock.c`, `FindLockCycleRecurse`).

use super::task::Life;
use super::view::{BlockReason, TaskState};
use super::{BackendState, ConnId, PoolId, TaskId, World};
use litemap::LiteMap;
use petgraph::algo::tarjan_scc;
use petgraph::graphmap::DiGraphMap;
use serde::{Deserialize, Serialize};
use std::collections::hash_map::DefaultHasher;
use std::hash::BuildHasherDefault;

/// A node of the wait-for graph.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum WaitNode {
    /// A task.
    Task(TaskId),
    /// A pool's slots.
    Pool(PoolId),
    /// A connection and its server session (with its transaction and locks).
    Connection(ConnId),
}

/// What kind of cycle a set of waits forms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CycleKind {
    /// Sessions waiting for each other's locks: PostgreSQL's deadlock detector will break it.
    Database,
    /// Tasks holding connections while waiting for the same full pool.
    PoolStarvation,
    /// A cycle through the pool and the database: no single component can see it.
    Mixed,
}

/// One edge: `from` waits for `to`, and why.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct WaitEdge {
    /// The waiter.
    pub from: WaitNode,
    /// What it waits for.
    pub to: WaitNode,
    /// One sentence, in PostgreSQL's and the drivers' terms (processes, transactions, locks).
    pub sentence: String,
    /// The same in the lesson's terms (tasks by name, rows by key, pools by name).
    pub plain: String,
}

/// A fixed hasher: petgraph's map iterates in insertion order anyway, but nothing in the
/// engine may depend on a random seed.
type Fixed = BuildHasherDefault<DefaultHasher>;

/// The wait-for graph of one world state.
#[derive(Clone, Debug)]
pub struct WaitForGraph {
    graph: DiGraphMap<WaitNode, usize, Fixed>,
    /// Every edge, in a canonical order.
    pub edges: Vec<WaitEdge>,
    /// Nodes that can never make progress from here, in order.
    pub stuck: Vec<WaitNode>,
}

impl WaitForGraph {
    /// Cycles among stuck nodes: each one a strongly connected component, sorted.
    pub fn cycles(&self) -> Vec<Vec<WaitNode>> {
        let mut sub: DiGraphMap<WaitNode, usize, Fixed> = DiGraphMap::with_capacity_and_hasher(
            self.stuck.len(),
            self.edges.len(),
            Fixed::default(),
        );
        for &n in &self.stuck {
            sub.add_node(n);
        }
        for (i, e) in self.edges.iter().enumerate() {
            if self.stuck.contains(&e.from) && self.stuck.contains(&e.to) {
                sub.add_edge(e.from, e.to, i);
            }
        }
        let mut cycles: Vec<Vec<WaitNode>> = tarjan_scc(&sub)
            .into_iter()
            .filter(|scc| scc.len() > 1 || sub.contains_edge(scc[0], scc[0]))
            .map(|mut scc| {
                crate::order::sort(&mut scc);
                scc
            })
            .collect();
        crate::order::sort(&mut cycles);
        cycles
    }

    /// The cycles a learner is shown: PostgreSQL's deadlocks among sessions, which its detector
    /// will break, then the cycles nothing will break ([`WaitForGraph::cycles`]).
    pub fn closed_cycles(&self) -> Vec<Vec<WaitNode>> {
        let mut closed: Vec<Vec<WaitNode>> = self
            .all_cycles()
            .into_iter()
            .filter(|c| WaitForGraph::kind(c) == CycleKind::Database)
            .collect();
        for cycle in self.cycles() {
            if !closed.contains(&cycle) {
                closed.push(cycle);
            }
        }
        closed
    }

    /// Every cycle anywhere in the graph, stuck or not (a PostgreSQL deadlock is a cycle
    /// whose sessions will still move once the detector aborts one).
    pub fn all_cycles(&self) -> Vec<Vec<WaitNode>> {
        let mut cycles: Vec<Vec<WaitNode>> = tarjan_scc(&self.graph)
            .into_iter()
            .filter(|scc| scc.len() > 1 || self.graph.contains_edge(scc[0], scc[0]))
            .map(|mut scc| {
                crate::order::sort(&mut scc);
                scc
            })
            .collect();
        crate::order::sort(&mut cycles);
        cycles
    }

    /// What kind of cycle these nodes form.
    pub fn kind(cycle: &[WaitNode]) -> CycleKind {
        let pools = cycle.iter().any(|n| matches!(n, WaitNode::Pool(_)));
        let connections = cycle.iter().any(|n| matches!(n, WaitNode::Connection(_)));
        let tasks = cycle.iter().any(|n| matches!(n, WaitNode::Task(_)));
        match (pools, connections, tasks) {
            (false, true, false) => CycleKind::Database,
            (true, false, _) => CycleKind::PoolStarvation,
            _ => CycleKind::Mixed,
        }
    }

    /// The sentences of the edges inside a cycle, headed by what kind of cycle it is.
    pub fn explain_cycle(&self, cycle: &[WaitNode]) -> Vec<String> {
        let headline = match WaitForGraph::kind(cycle) {
            CycleKind::Database => "a deadlock between database sessions (PostgreSQL's deadlock detector breaks it after deadlock_timeout)",
            CycleKind::PoolStarvation => "pool starvation: every connection is held by a task that waits for the pool, and the pool has no deadlock detection",
            CycleKind::Mixed => "a cycle through the pool and the database: PostgreSQL sees no deadlock and the pool sees none either",
        };
        let mut lines = vec![headline.to_string()];
        lines.extend(
            self.edges
                .iter()
                .filter(|e| cycle.contains(&e.from) && cycle.contains(&e.to))
                .map(|e| e.sentence.clone()),
        );
        lines
    }

    /// One sentence per edge.
    pub fn explain(&self) -> Vec<String> {
        self.edges.iter().map(|e| e.sentence.clone()).collect()
    }

    /// What kind of cycle these nodes form, in a learner's words.
    pub fn plain_headline(cycle: &[WaitNode]) -> &'static str {
        match WaitForGraph::kind(cycle) {
            CycleKind::Database => "a deadlock between transactions: PostgreSQL's deadlock detector breaks it after deadlock_timeout",
            CycleKind::PoolStarvation => "pool starvation: every connection is held by a task that waits for another one, and nothing will give one back",
            CycleKind::Mixed => "a cycle through the pool and the database: neither PostgreSQL nor the pool can see it",
        }
    }

    /// Whether an edge lies on a cycle.
    pub fn in_cycle(&self, edge: &WaitEdge) -> bool {
        self.all_cycles()
            .iter()
            .any(|c| c.contains(&edge.from) && c.contains(&edge.to))
    }
}

impl World {
    /// The wait-for graph of this state.
    pub fn wait_for_graph(&self) -> WaitForGraph {
        let mut edges: Vec<WaitEdge> = Vec::new();
        let mut states = LiteMap::new_vec();
        for t in &self.tasks {
            let state = self.task_state(t.id);
            if let TaskState::Blocked(reason) = &state {
                self.blocked_task_edges(t.id, reason, &mut edges);
            }
            states.insert(t.id, state);
        }
        self.full_pool_edges(&mut edges);
        self.lock_wait_edges(&mut edges);
        self.idle_connection_edges(&mut edges);
        crate::order::sort_by_key(&mut edges, |e| (e.from, e.to));
        edges.dedup_by(|a, b| a.from == b.from && a.to == b.to);

        let mut graph: DiGraphMap<WaitNode, usize, Fixed> =
            DiGraphMap::with_capacity_and_hasher(0, edges.len(), Fixed::default());
        for (i, e) in edges.iter().enumerate() {
            graph.add_edge(e.from, e.to, i);
        }
        let stuck = self.stuck_nodes(&graph, &states);
        WaitForGraph {
            graph,
            edges,
            stuck,
        }
    }

    /// A connection as the graph's sentences name it: with its server process.
    fn connection_label(&self, c: ConnId) -> String {
        match self.connections.get(&c) {
            Some(conn) => format!("{c} (process {})", conn.pid.0),
            None => c.to_string(),
        }
    }

    /// The edges out of a blocked task: to the pool, connection or tasks it waits for.
    fn blocked_task_edges(&self, task: TaskId, reason: &BlockReason, edges: &mut Vec<WaitEdge>) {
        let task_name = |t: TaskId| self.task_name(t);
        let conn_label = |c: ConnId| self.connection_label(c);
        let name = &self.tasks[task.0 as usize].name;
        match reason {
            BlockReason::PoolSlot {
                pool,
                ahead,
                max_open,
            } => {
                if let Some(p) = self.pools.iter().position(|p| &p.name == pool) {
                    edges.push(WaitEdge {
                        from: WaitNode::Task(task),
                        to: WaitNode::Pool(PoolId(p as u32)),
                        sentence: format!(
                            "{name} waits in Acquire for a connection from pool {pool}: all {max_open} are in use ({ahead} waiter(s) ahead)"
                        ),
                        plain: format!("{name} {}", self.describe_wait(reason)),
                    });
                }
            }
            BlockReason::Lock { conn, .. } | BlockReason::Reply { conn } => {
                edges.push(WaitEdge {
                    from: WaitNode::Task(task),
                    to: WaitNode::Connection(*conn),
                    sentence: format!(
                        "{name} waits for the reply to its query on {}",
                        conn_label(*conn)
                    ),
                    plain: match reason {
                        BlockReason::Lock { .. } => {
                            format!("{name} {}", self.describe_wait(reason))
                        }
                        _ => format!("{name} waits for an answer on {conn}"),
                    },
                });
            }
            BlockReason::ConnectionMutex { conn, holder } => edges.push(WaitEdge {
                from: WaitNode::Task(task),
                to: WaitNode::Task(*holder),
                sentence: format!(
                    "{name} waits for {conn}'s driver mutex, held by {} during its call",
                    task_name(*holder)
                ),
                plain: format!("{name} {}", self.describe_wait(reason)),
            }),
            BlockReason::Goroutines { tasks } => {
                for child in tasks {
                    edges.push(WaitEdge {
                        from: WaitNode::Task(task),
                        to: WaitNode::Task(*child),
                        sentence: format!(
                            "{name} waits in g.Wait() for goroutine {}",
                            task_name(*child)
                        ),
                        plain: format!("{name} waits for {} to finish", task_name(*child)),
                    });
                }
            }
            BlockReason::Arrival { .. } | BlockReason::Sleep { .. } => {}
        }
    }

    /// A full pool waits for every task holding one of its connections.
    fn full_pool_edges(&self, edges: &mut Vec<WaitEdge>) {
        let task_name = |t: TaskId| self.task_name(t);
        for (index, pool) in self.pools.iter().enumerate() {
            if pool.waiters.is_empty() || !pool.is_full() {
                continue;
            }
            for conn in &pool.open {
                if let Some(holder) = self.connections.get(conn).and_then(|c| c.holder) {
                    edges.push(WaitEdge {
                        from: WaitNode::Pool(PoolId(index as u32)),
                        to: WaitNode::Task(holder),
                        sentence: format!(
                            "pool {}'s {} is held by {}, and only {} can give it back",
                            pool.name,
                            conn,
                            task_name(holder),
                            task_name(holder)
                        ),
                        plain: format!(
                            "pool {} has no free connection: {} holds {conn}, and only {} can give it back",
                            pool.name,
                            task_name(holder),
                            task_name(holder)
                        ),
                    });
                }
            }
        }
    }

    /// Sessions waiting for locks held by other sessions (what PostgreSQL sees).
    fn lock_wait_edges(&self, edges: &mut Vec<WaitEdge>) {
        let task_name = |t: TaskId| self.task_name(t);
        let mut by_pid: LiteMap<u32, ConnId> = LiteMap::new_vec();
        for c in self.connections.values() {
            by_pid.insert(c.pid.0, c.id);
        }
        for c in self.connections.values() {
            if !matches!(c.backend, BackendState::Executing { .. }) {
                continue;
            }
            let (blockers, what, row, tag) = self.lock_wait(c.pid);
            let waiter = match self.task_of_pid(c.pid) {
                Some(t) => format!("{}'s transaction", task_name(t)),
                None => format!("the transaction on {}", c.id),
            };
            let wanted = match &row {
                Some((table, ctid)) => self.row_name(table, *ctid),
                None => "a lock".to_string(),
            };
            let queued = matches!(tag, Some(crate::server::locks::LockTag::Tuple { .. }));
            for b in blockers {
                if let Some(&other) = by_pid.get(&b.0) {
                    let holder = match self.task_of_pid(b) {
                        Some(t) => format!("{}'s transaction", task_name(t)),
                        None => format!("the transaction on {other}"),
                    };
                    edges.push(WaitEdge {
                        from: WaitNode::Connection(c.id),
                        to: WaitNode::Connection(other),
                        sentence: format!(
                            "process {} waits for {what}, held by process {}",
                            c.pid.0, b.0
                        ),
                        plain: if queued {
                            format!("{waiter} waits in line for {wanted} behind {holder}")
                        } else {
                            format!("{waiter} waits for {wanted}, held by {holder}")
                        },
                    });
                }
            }
        }
    }

    /// A session that is not running a statement only moves when its task acts.
    fn idle_connection_edges(&self, edges: &mut Vec<WaitEdge>) {
        let task_name = |t: TaskId| self.task_name(t);
        let conn_label = |c: ConnId| self.connection_label(c);
        for c in self.connections.values() {
            if matches!(c.backend, BackendState::Executing { .. }) {
                continue;
            }
            let Some(holder) = c.holder else { continue };
            let finished = matches!(self.tasks[holder.0 as usize].life, Life::Finished { .. });
            let open = c.tx_status != super::TxStatus::Idle;
            let plain = match (finished, open) {
                (true, true) => format!(
                    "{} returned without ending its transaction on {}: nobody will end it",
                    task_name(holder),
                    c.id
                ),
                (true, false) => format!(
                    "{} returned without giving {} back to its pool",
                    task_name(holder),
                    c.id
                ),
                (false, true) => format!(
                    "{}'s transaction on {} is open between statements: only {} can end it",
                    task_name(holder),
                    c.id,
                    task_name(holder)
                ),
                (false, false) => format!(
                    "{} is {}'s: only {} can use it",
                    c.id,
                    task_name(holder),
                    task_name(holder)
                ),
            };
            let sentence = if finished {
                format!(
                    "{} is idle{} and held by {}, which has returned without giving it back: nobody will end it",
                    conn_label(c.id),
                    if c.tx_status == super::TxStatus::Idle { "" } else { " in a transaction" },
                    task_name(holder)
                )
            } else {
                format!(
                    "{} is idle{}: only {} can move it on",
                    conn_label(c.id),
                    if c.tx_status == super::TxStatus::Idle {
                        ""
                    } else {
                        " in a transaction"
                    },
                    task_name(holder)
                )
            };
            edges.push(WaitEdge {
                from: WaitNode::Connection(c.id),
                to: WaitNode::Task(holder),
                sentence,
                plain,
            });
        }
    }

    /// The nodes that cannot progress. Which may: a fixpoint from what can run or will be
    /// woken. A backend with a timer of its own pending (a deadlock check, a lock, statement
    /// or idle-in-transaction timeout) may see its wait or its session end when it fires.
    fn stuck_nodes(
        &self,
        graph: &DiGraphMap<WaitNode, usize, Fixed>,
        states: &LiteMap<TaskId, TaskState>,
    ) -> Vec<WaitNode> {
        let conn_timer = |c: ConnId| {
            self.connections
                .get(&c)
                .is_some_and(|conn| self.server.has_timer(conn.pid))
        };
        // A handful of nodes: a list is quicker to search than a set is to build.
        let mut moving: Vec<WaitNode> = Vec::new();
        for (id, state) in states {
            let free = match state {
                TaskState::Runnable => true,
                TaskState::Blocked(BlockReason::Arrival { .. } | BlockReason::Sleep { .. }) => true,
                // A pending context deadline will wake a blocked task.
                TaskState::Blocked(_) => self.task_has_deadline(*id),
                TaskState::Finished | TaskState::Failed(_) => false,
            };
            if free {
                moving.push(WaitNode::Task(*id));
            }
        }
        let nodes: Vec<WaitNode> = graph.nodes().collect();
        loop {
            let mut changed = false;
            for &n in &nodes {
                if moving.contains(&n) {
                    continue;
                }
                let mut targets = graph.neighbors(n).peekable();
                if targets.peek().is_none() {
                    continue;
                }
                let targets: Vec<WaitNode> = targets.collect();
                let progresses = match n {
                    // A pool frees a slot when any holder gives one back.
                    WaitNode::Pool(_) => targets.iter().any(|t| moving.contains(t)),
                    // A lock wait can also end by a server timer (deadlock check, timeouts).
                    WaitNode::Connection(c) => {
                        conn_timer(c) || targets.iter().all(|t| moving.contains(t))
                    }
                    WaitNode::Task(_) => targets.iter().all(|t| moving.contains(t)),
                };
                if progresses {
                    moving.push(n);
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        let mut stuck: Vec<WaitNode> = nodes.into_iter().filter(|n| !moving.contains(n)).collect();
        crate::order::sort(&mut stuck);
        stuck
    }

    fn task_has_deadline(&self, id: TaskId) -> bool {
        let t = &self.tasks[id.0 as usize];
        t.call
            .as_ref()
            .and_then(|c| c.context)
            .and_then(|ctx| self.context_deadline(ctx))
            .is_some_and(|d| d > self.now)
    }

    fn context_deadline(&self, ctx: super::ContextId) -> Option<crate::time::Instant> {
        let mut current = Some(ctx);
        let mut earliest: Option<crate::time::Instant> = None;
        while let Some(id) = current {
            let c = &self.contexts[id.0 as usize];
            if let Some(d) = c.deadline {
                earliest = Some(earliest.map_or(d, |e| e.min(d)));
            }
            current = c.parent;
        }
        earliest
    }
}
