//! A lesson's run as drawings: its timeline and its wait-for graph, with nodes named the way
//! the page names them.

use super::svg::*;
use crate::session::Session;
use lockstep::server;
use lockstep::world::{BlockReason, Event, WaitForGraph, WaitNode};

/// How a node is labelled in the drawing (and in the SVG export).
pub fn label(s: &Session, node: WaitNode) -> String {
    let world = s.world();
    match node {
        WaitNode::Task(t) => s.task_name(t),
        WaitNode::Pool(p) => world
            .pool_name(p)
            .map(|name| format!("pool {name}"))
            .unwrap_or_else(|| p.to_string()),
        WaitNode::Connection(c) => match world.connection_view(c).and_then(|c| c.holder) {
            Some(holder) => format!("{c} · {}", s.task_name(holder)),
            None => c.to_string(),
        },
    }
}

/// The lesson's run so far as a sequence diagram: one lane per task.
pub fn lesson_timeline(s: &Session) -> SequenceDiagram {
    let world = s.world();
    let lanes: Vec<String> = world.task_views().into_iter().map(|t| t.name).collect();
    let names = s.pid_names();
    let lane_of_pid = |pid: &server::Pid| {
        names
            .get(pid)
            .and_then(|n| lanes.iter().position(|l| l == n))
    };
    let mut rows = Vec::new();
    for step in &s.steps {
        for e in &step.events {
            let row = match e {
                Event::Server(server::Event::StatementStarted { pid, sql }) => lane_of_pid(pid)
                    .map(|lane| Row {
                        lane: Some(lane),
                        kind: RowKind::Statement,
                        text: sql.clone(),
                        blockers: Vec::new(),
                    }),
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
    }
    let fix = s
        .fix
        .as_deref()
        .map(|f| format!(" (fix: {f})"))
        .unwrap_or_default();
    SequenceDiagram {
        title: format!("{}{fix} — schedule {}", s.lesson.title, s.schedule()),
        lanes,
        rows,
    }
}

/// The lesson's wait-for graph now.
pub fn lesson_graph(s: &Session) -> GraphPicture {
    let graph = s.world().wait_for_graph();
    let cycles = graph.cycles();
    picture(s, &graph, &cycles)
}

/// A lesson's wait-for graph and its cycles as a picture.
pub fn picture(s: &Session, graph: &WaitForGraph, cycles: &[Vec<WaitNode>]) -> GraphPicture {
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
                    label: label(s, *n),
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
