//! A lesson's run as drawings: its timeline and its wait-for graph, with nodes named the way
//! the page names them. The page draws its live wait-for graph with [`picture`] and names
//! nodes with [`label`]; the exported files are drawn from a run the worker replays
//! ([`crate::drawn`]).

use crate::svg::*;
use litemap::LiteMap;
use lockstep::server::{self, Pid};
use lockstep::world::{BlockReason, Event, WaitForGraph, WaitNode, World};

/// Which task each server process belongs to, for naming lock holders and waiters: the
/// world's connections, and for a connection given back to its pool (which no longer names
/// its task) the `events` of the run.
pub fn pid_names<'a>(
    world: &World,
    events: impl IntoIterator<Item = &'a Event>,
) -> LiteMap<Pid, String> {
    let mut names = LiteMap::new_vec();
    // Every task a connection or an event names is one of the world's tasks.
    for conn in world.connection_views() {
        if let Some(task) = conn.holder.or(conn.locked_by) {
            names.insert(conn.pid, world.task_name(task));
        }
    }
    for e in events {
        if let Event::ConnectionOpened {
            task: Some(t), pid, ..
        } = e
        {
            names.entry(*pid).or_insert_with(|| world.task_name(*t));
        }
    }
    names
}

/// How a node is labelled in the drawing (and in the SVG export).
pub fn label(world: &World, node: WaitNode) -> String {
    match node {
        WaitNode::Task(t) => world.task_name(t),
        WaitNode::Pool(p) => world
            .pool_name(p)
            .map(|name| format!("pool {name}"))
            .unwrap_or_else(|| p.to_string()),
        WaitNode::Connection(c) => match world.connection_view(c).and_then(|c| c.holder) {
            Some(holder) => format!("{c} · {}", world.task_name(holder)),
            None => c.to_string(),
        },
    }
}

/// A lesson's run as a sequence diagram, one lane per task: `events` are the run's, and
/// `world` is where they led.
pub fn timeline(world: &World, events: &[Event], title: String) -> SequenceDiagram {
    let lanes: Vec<String> = world.task_views().into_iter().map(|t| t.name).collect();
    let names = pid_names(world, events);
    let lane_of_pid = |pid: &server::Pid| {
        names
            .get(pid)
            .and_then(|n| lanes.iter().position(|l| l == n))
    };
    let mut rows = Vec::new();
    for e in events {
        let row = match e {
            Event::Server(server::Event::StatementStarted { pid, sql }) => {
                lane_of_pid(pid).map(|lane| Row {
                    lane: Some(lane),
                    kind: RowKind::Statement,
                    text: sql.clone(),
                    blockers: Vec::new(),
                })
            }
            Event::Server(server::Event::Error { pid, error }) => Some(Row {
                lane: lane_of_pid(pid),
                kind: RowKind::Error,
                text: format!("ERROR: {} (SQLSTATE {})", error.message, error.code),
                blockers: Vec::new(),
            }),
            Event::TaskBlocked { task, reason, .. } => {
                let blockers = match reason {
                    BlockReason::Lock { blockers, .. } => {
                        blockers.iter().filter_map(lane_of_pid).collect()
                    }
                    BlockReason::ConnectionMutex { holder, .. } => vec![holder.0 as usize],
                    BlockReason::Goroutines { tasks } => {
                        tasks.iter().map(|t| t.0 as usize).collect()
                    }
                    _ => Vec::new(),
                };
                Some(Row {
                    lane: Some(task.0 as usize),
                    kind: RowKind::Waiting,
                    text: reason.to_string(),
                    blockers,
                })
            }
            Event::TaskFinished { task, .. } => Some(Row {
                lane: Some(task.0 as usize),
                kind: RowKind::Completed,
                text: "returns".to_string(),
                blockers: Vec::new(),
            }),
            Event::TaskFailed { task, error, .. } => Some(Row {
                lane: Some(task.0 as usize),
                kind: RowKind::Error,
                text: format!("fails: {error}"),
                blockers: Vec::new(),
            }),
            Event::ClockAdvanced { to } => Some(Row {
                lane: None,
                kind: RowKind::Note,
                text: format!("the clock jumps to {to}"),
                blockers: Vec::new(),
            }),
            Event::InvariantViolated { explanation, .. } => Some(Row {
                lane: None,
                kind: RowKind::Error,
                text: explanation.clone(),
                blockers: Vec::new(),
            }),
            _ => None,
        };
        rows.extend(row);
    }
    SequenceDiagram { title, lanes, rows }
}

/// The world's wait-for graph, its cycles in red as the page shows them.
pub fn graph(world: &World) -> GraphPicture {
    let graph = world.wait_for_graph();
    let cycles = graph.closed_cycles();
    picture(world, &graph, &cycles)
}

/// A world's wait-for graph and its cycles as a picture.
pub fn picture(world: &World, graph: &WaitForGraph, cycles: &[Vec<WaitNode>]) -> GraphPicture {
    let mut nodes: Vec<WaitNode> = Vec::new();
    for e in &graph.edges {
        for n in [e.from, e.to] {
            if !nodes.contains(&n) {
                nodes.push(n);
            }
        }
    }
    let index = |n: &WaitNode| nodes.iter().position(|m| m == n).unwrap_or(0);
    GraphPicture {
        nodes: nodes
            .iter()
            .map(|n| {
                let (row, kind) = match n {
                    WaitNode::Task(_) => (0, "task"),
                    WaitNode::Pool(_) => (1, "pool"),
                    WaitNode::Connection(_) => (2, "conn"),
                };
                GraphNode {
                    label: label(world, *n),
                    row,
                    kind,
                    stuck: graph.stuck.contains(n),
                }
            })
            .collect(),
        edges: graph
            .edges
            .iter()
            .map(|e| GraphEdge {
                from: index(&e.from),
                to: index(&e.to),
                sentence: e.plain.clone(),
                in_cycle: cycles
                    .iter()
                    .any(|c| c.contains(&e.from) && c.contains(&e.to)),
            })
            .collect(),
    }
}
