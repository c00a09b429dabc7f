//! A sandbox run as drawings: its permutation's timeline and its wait-for graph.

use crate::pages::sandbox::model::{MoveKind, Sandbox};
use lockstep::server;
use lockstep::spec::Report;
use lockstep_worker::svg::*;

/// The sandbox's run so far as a sequence diagram: one lane per session, rows from what the
/// isolation tester reported (steps launched, waiting, completed, failed or cancelled).
pub fn sandbox_timeline(sandbox: &Sandbox) -> SequenceDiagram {
    let lanes: Vec<String> = sandbox
        .spec
        .sessions
        .iter()
        .map(|s| s.name.clone())
        .collect();
    let mut rows = Vec::new();
    for m in &sandbox.moves {
        for piece in &m.printed {
            let row = |lane: Option<usize>, kind: RowKind, text: String| Row {
                lane,
                kind,
                text,
                blockers: Vec::new(),
            };
            match &piece.what {
                Report::Launched { step, waiting } => {
                    let lane = sandbox.session_of(step);
                    let sql = sandbox
                        .spec
                        .step(step)
                        .map(|(_, s)| s.sql.as_str())
                        .unwrap_or_default();
                    if *waiting {
                        let blockers = lane
                            .and_then(|l| m.waits.iter().find(|(s, _)| *s == l))
                            .map(|(_, b)| b.clone())
                            .unwrap_or_default();
                        rows.push(Row {
                            blockers,
                            ..row(
                                lane,
                                RowKind::Waiting,
                                format!("{step}: {sql} <waiting ...>"),
                            )
                        });
                    } else {
                        rows.push(row(lane, RowKind::Statement, format!("{step}: {sql}")));
                    }
                }
                Report::Completed { step } => rows.push(row(
                    sandbox.session_of(step),
                    RowKind::Completed,
                    format!("{step}: <... completed>"),
                )),
                // The tester's own line, as printed, without its newline.
                Report::Error { step, .. } => rows.push(row(
                    sandbox.session_of(step),
                    RowKind::Error,
                    line(&piece.text),
                )),
                Report::Cancelled { .. } => rows.push(row(None, RowKind::Note, line(&piece.text))),
                Report::Rows { .. } | Report::Notice { .. } => {}
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

/// A one-line piece of the tester's output without its newline.
fn line(text: &str) -> String {
    text.strip_suffix('\n').unwrap_or(text).to_string()
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
