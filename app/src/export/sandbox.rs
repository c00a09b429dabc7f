//! A sandbox run as drawings: its permutation's timeline and its wait-for graph.

use super::svg::*;
use crate::pages::sandbox::model::{MoveKind, Sandbox};
use lockstep::server;

/// The sandbox's run so far as a sequence diagram: one lane per session, rows from what the
/// isolation tester printed.
pub fn sandbox_timeline(sandbox: &Sandbox) -> SequenceDiagram {
    let lanes: Vec<String> = sandbox
        .spec
        .sessions
        .iter()
        .map(|s| s.name.clone())
        .collect();
    let mut rows = Vec::new();
    for m in &sandbox.moves {
        let mut last_lane: Option<usize> = None;
        for line in m.output.lines() {
            if let Some(rest) = line.strip_prefix("step ") {
                let Some((name, what)) = rest.split_once(": ") else {
                    continue;
                };
                let lane = sandbox.session_of(name);
                last_lane = lane;
                let (kind, text, blockers) = if what == "<... completed>" {
                    (
                        RowKind::Completed,
                        format!("{name}: <... completed>"),
                        Vec::new(),
                    )
                } else if let Some(sql) = what.strip_suffix(" <waiting ...>") {
                    let blockers = lane
                        .and_then(|l| m.waits.iter().find(|(s, _)| *s == l))
                        .map(|(_, b)| b.clone())
                        .unwrap_or_default();
                    (
                        RowKind::Waiting,
                        format!("{name}: {sql} <waiting ...>"),
                        blockers,
                    )
                } else {
                    (RowKind::Statement, format!("{name}: {what}"), Vec::new())
                };
                rows.push(Row {
                    lane,
                    kind,
                    text,
                    blockers,
                });
            } else if line.starts_with("ERROR:") {
                rows.push(Row {
                    lane: last_lane,
                    kind: RowKind::Error,
                    text: line.to_string(),
                    blockers: Vec::new(),
                });
            } else if line.starts_with("isolationtester:") {
                rows.push(Row {
                    lane: None,
                    kind: RowKind::Note,
                    text: line.to_string(),
                    blockers: Vec::new(),
                });
            }
        }
        if m.kind == MoveKind::Finish {
            rows.push(Row {
                lane: None,
                kind: RowKind::Note,
                text: "end of the permutation".to_string(),
                blockers: Vec::new(),
            });
        }
    }
    let launched: Vec<&str> = sandbox
        .run()
        .launched()
        .iter()
        .map(|e| e.step.as_str())
        .collect();
    SequenceDiagram {
        title: format!("permutation: {}", launched.join(" ")),
        lanes,
        rows,
    }
}

/// The sandbox's wait-for graph now: sessions, and an edge for each lock wait.
pub fn sandbox_graph(sandbox: &Sandbox) -> GraphPicture {
    let run = sandbox.run();
    let names = sandbox.pid_names();
    let name = |p: &server::Pid| names.get(p).cloned().unwrap_or_else(|| p.to_string());
    let waits = run.server().wait_edges();
    let mut pids: Vec<server::Pid> = Vec::new();
    for w in &waits {
        for p in [w.waiter, w.blocker] {
            if !pids.contains(&p) {
                pids.push(p);
            }
        }
    }
    let index = |p: &server::Pid| pids.iter().position(|q| q == p).unwrap_or(0);
    let pairs: Vec<(usize, usize)> = waits
        .iter()
        .map(|w| (index(&w.waiter), index(&w.blocker)))
        .collect();
    let on_cycle: Vec<bool> = pairs
        .iter()
        .map(|(from, to)| reaches(&pairs, *to, *from))
        .collect();
    GraphPicture {
        nodes: pids
            .iter()
            .enumerate()
            .map(|(i, p)| GraphNode {
                label: format!("{} · pid {}", name(p), p.0),
                row: 2,
                kind: "conn",
                stuck: pairs.iter().zip(&on_cycle).any(|((f, _), c)| *c && *f == i),
            })
            .collect(),
        edges: waits
            .iter()
            .zip(&pairs)
            .zip(&on_cycle)
            .map(|((w, (from, to)), cycle)| {
                let how = if w.hard {
                    "held by"
                } else {
                    "queued behind a conflicting request of"
                };
                GraphEdge {
                    from: *from,
                    to: *to,
                    sentence: format!(
                        "{} waits for {} on {}, {how} {}",
                        name(&w.waiter),
                        server::locks::mode_name(w.mode),
                        w.tag,
                        name(&w.blocker)
                    ),
                    in_cycle: *cycle,
                }
            })
            .collect(),
    }
}

/// Whether `to` can be reached from `from` along the edges (a node reaches itself).
fn reaches(edges: &[(usize, usize)], from: usize, to: usize) -> bool {
    let mut seen = vec![from];
    let mut stack = vec![from];
    while let Some(n) = stack.pop() {
        if n == to {
            return true;
        }
        for (a, b) in edges {
            if *a == n && !seen.contains(b) {
                seen.push(*b);
                stack.push(*b);
            }
        }
    }
    false
}
