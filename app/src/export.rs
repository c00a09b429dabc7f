//! Standalone SVG files of a run: its timeline as a sequence diagram (one lane per task or
//! session, time downwards; statements, waits with arrows to whoever blocks them, errors) and
//! its wait-for graph. The builders are pure string code, unit-tested natively; every piece
//! of text goes through [`escape`]. The download goes through a Blob and an object URL, never
//! through the page's HTML.

use crate::pages::sandbox::model::{MoveKind, Sandbox};
use crate::session::Session;
use leptos::prelude::*;
use lockstep::server;
use lockstep::world::{BlockReason, Event, WaitForGraph, WaitNode};
use std::fmt::Write as _;

/// How a node is labelled in the drawing (and in the SVG export).
pub fn label(s: &Session, node: WaitNode) -> String {
    let world = s.world();
    match node {
        WaitNode::Task(t) => s.task_name(t),
        WaitNode::Pool(p) => world
            .pools
            .get(p.0 as usize)
            .map(|pool| format!("pool {}", pool.name))
            .unwrap_or_else(|| p.to_string()),
        WaitNode::Connection(c) => match world.connections.get(&c).and_then(|c| c.holder) {
            Some(holder) => format!("{c} · {}", s.task_name(holder)),
            None => c.to_string(),
        },
    }
}

/// What one row of a sequence diagram shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RowKind {
    /// A statement sent (a step launched, a query run).
    Statement,
    /// A wait: for a lock, a pool slot, a reply.
    Waiting,
    /// A wait that ended, or a task that returned.
    Completed,
    /// An error.
    Error,
    /// Something that concerns no single lane (the clock, the end of a permutation).
    Note,
}

/// One row of a sequence diagram.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// The lane, or none for a note across all lanes.
    pub lane: Option<usize>,
    /// What it shows.
    pub kind: RowKind,
    /// Its text.
    pub text: String,
    /// For a wait, the lanes it waits for (an arrow to each).
    pub blockers: Vec<usize>,
}

/// A run as a sequence diagram.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SequenceDiagram {
    /// The title above the lanes.
    pub title: String,
    /// The lanes' names, left to right.
    pub lanes: Vec<String>,
    /// The rows, top to bottom.
    pub rows: Vec<Row>,
}

/// A node of a wait-for graph picture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GraphNode {
    /// Its label.
    pub label: String,
    /// Its row: tasks 0, pools 1, sessions 2.
    pub row: usize,
    /// A CSS class naming its kind (`task`, `pool`, `conn`).
    pub kind: &'static str,
    /// Whether it can never make progress from here.
    pub stuck: bool,
}

/// An edge of a wait-for graph picture: `from` waits for `to`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GraphEdge {
    /// The waiter's index.
    pub from: usize,
    /// The awaited's index.
    pub to: usize,
    /// Why, in one sentence.
    pub sentence: String,
    /// Whether the edge lies on a cycle.
    pub in_cycle: bool,
}

/// A wait-for graph, ready to be laid out.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GraphPicture {
    /// The nodes.
    pub nodes: Vec<GraphNode>,
    /// The edges.
    pub edges: Vec<GraphEdge>,
}

/// Where everything of a [`GraphPicture`] goes.
#[derive(Clone, Debug, PartialEq)]
pub struct GraphLayout {
    /// The drawing's width.
    pub width: f64,
    /// The drawing's height.
    pub height: f64,
    /// Each node's centre.
    pub centres: Vec<(f64, f64)>,
    /// Each edge's path (`M … Q …`), from label box to label box.
    pub paths: Vec<String>,
}

/// Lays a graph out in rows (tasks, pools, sessions), each row spread across the width; each
/// edge bends to its own left so that two opposite waits are two visible arcs.
pub fn layout(picture: &GraphPicture) -> GraphLayout {
    let rows_used: Vec<usize> = (0..3)
        .filter(|r| picture.nodes.iter().any(|n| n.row == *r))
        .collect();
    let width = 480.0_f64;
    let height = 80.0 * rows_used.len().max(1) as f64 + 10.0;
    let centres: Vec<(f64, f64)> = (0..picture.nodes.len())
        .map(|i| {
            let row = picture.nodes[i].row;
            let in_row: Vec<usize> = (0..picture.nodes.len())
                .filter(|j| picture.nodes[*j].row == row)
                .collect();
            let k = in_row.iter().position(|j| *j == i).unwrap_or(0) as f64;
            let margin = 100.0;
            let x = if in_row.len() == 1 {
                width / 2.0
            } else {
                margin + (width - 2.0 * margin) * k / (in_row.len() as f64 - 1.0)
            };
            let y = 40.0 + 80.0 * rows_used.iter().position(|r| *r == row).unwrap_or(0) as f64;
            (x, y)
        })
        .collect();
    // How far along (ux, uy) a line leaves the box around node i's label.
    let exit = |i: usize, ux: f64, uy: f64| {
        let half_width = picture.nodes[i].label.chars().count() as f64 * 3.8 + 8.0;
        let half_height = 13.0;
        let tx = if ux.abs() > 1e-6 {
            half_width / ux.abs()
        } else {
            f64::INFINITY
        };
        let ty = if uy.abs() > 1e-6 {
            half_height / uy.abs()
        } else {
            f64::INFINITY
        };
        tx.min(ty)
    };
    let paths = picture
        .edges
        .iter()
        .map(|e| {
            let (x1, y1) = centres[e.from];
            let (x2, y2) = centres[e.to];
            let (dx, dy) = (x2 - x1, y2 - y1);
            let len = (dx * dx + dy * dy).sqrt().max(1.0);
            let (ux, uy) = (dx / len, dy / len);
            let (sx, sy) = (
                x1 + ux * exit(e.from, ux, uy),
                y1 + uy * exit(e.from, ux, uy),
            );
            let (ex, ey) = (x2 - ux * exit(e.to, ux, uy), y2 - uy * exit(e.to, ux, uy));
            let bend = if y1 == y2 { 0.18 * len } else { 0.06 * len };
            let (mx, my) = ((sx + ex) / 2.0 + uy * bend, (sy + ey) / 2.0 - ux * bend);
            format!("M {sx:.1} {sy:.1} Q {mx:.1} {my:.1} {ex:.1} {ey:.1}")
        })
        .collect();
    GraphLayout {
        width,
        height,
        centres,
        paths,
    }
}

/// Text made safe for XML content and attribute values: the five special characters become
/// entities, and characters XML 1.0 forbids (most control characters) are dropped.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// Splits text into at most `lines_max` lines of at most `width` characters, breaking at
/// spaces where it can; an ellipsis marks anything cut.
fn wrap(text: &str, width: usize, lines_max: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    for word in text.split_whitespace() {
        let mut word = word.to_string();
        loop {
            let used = current.chars().count();
            let fits = if used == 0 {
                word.chars().count() <= width
            } else {
                used + 1 + word.chars().count() <= width
            };
            if fits {
                if used > 0 {
                    current.push(' ');
                }
                current.push_str(&word);
                break;
            }
            if used > 0 {
                lines.push(std::mem::take(&mut current));
                continue;
            }
            // A word longer than a line: cut it.
            let head: String = word.chars().take(width).collect();
            let rest: String = word.chars().skip(width).collect();
            lines.push(head);
            word = rest;
            if word.is_empty() {
                break;
            }
        }
    }
    if !current.is_empty() {
        lines.push(current);
    }
    if lines.len() > lines_max {
        lines.truncate(lines_max);
        if let Some(last) = lines.last_mut() {
            let keep: String = last.chars().take(width.saturating_sub(1)).collect();
            *last = format!("{keep}…");
        }
    }
    if lines.is_empty() {
        lines.push(String::new());
    }
    lines
}

const FONT: &str = "font-family=\"ui-monospace, SFMono-Regular, Menlo, Consolas, monospace\"";
const LANE_WIDTH: f64 = 230.0;
const LINE_HEIGHT: f64 = 15.0;
const CHARS_PER_LINE: usize = 30;
const LINES_MAX: usize = 4;

/// The sequence diagram as a standalone SVG document.
pub fn timeline_svg(diagram: &SequenceDiagram) -> String {
    let lanes = diagram.lanes.len().max(1);
    // Wide enough for the lanes and for the title (14 px bold monospace, about 8.6 px a
    // character).
    let width =
        (LANE_WIDTH * lanes as f64 + 20.0).max(diagram.title.chars().count() as f64 * 8.6 + 20.0);
    let lane_x = |i: usize| 10.0 + LANE_WIDTH * i as f64 + LANE_WIDTH / 2.0;
    let top = 74.0;
    let mut body = String::new();
    let mut y = top;
    for row in &diagram.rows {
        let lines = match row.lane {
            Some(_) => wrap(&row.text, CHARS_PER_LINE, LINES_MAX),
            None => wrap(&row.text, (width as usize - 40) / 7, 2),
        };
        let box_height = LINE_HEIGHT * lines.len() as f64 + 10.0;
        let (fill, stroke, dash, color) = match row.kind {
            RowKind::Statement => ("#eef4ff", "#3b6fd1", "", "#1b2a44"),
            RowKind::Waiting => ("#fff6e5", "#d98a00", " stroke-dasharray=\"5 3\"", "#5a3b00"),
            RowKind::Completed => ("#eaf8ee", "#2e8b57", "", "#184d30"),
            RowKind::Error => ("#fdecec", "#c62828", "", "#7a1010"),
            RowKind::Note => ("#f3f3f3", "#9e9e9e", " stroke-dasharray=\"2 2\"", "#444444"),
        };
        let (x, w) = match row.lane {
            Some(l) => (lane_x(l) - LANE_WIDTH / 2.0 + 8.0, LANE_WIDTH - 16.0),
            None => (10.0, width - 20.0),
        };
        let kind = match row.kind {
            RowKind::Statement => "statement",
            RowKind::Waiting => "waiting",
            RowKind::Completed => "completed",
            RowKind::Error => "error",
            RowKind::Note => "note",
        };
        let _ = writeln!(
            body,
            "<g class=\"row {kind}\"><title>{}</title>",
            escape(&row.text)
        );
        let _ = writeln!(
            body,
            "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{box_height:.1}\" rx=\"4\" fill=\"{fill}\" stroke=\"{stroke}\"{dash}/>"
        );
        for (k, line) in lines.iter().enumerate() {
            let ty = y + 5.0 + LINE_HEIGHT * (k as f64 + 0.8);
            let _ = writeln!(
                body,
                "<text x=\"{:.1}\" y=\"{ty:.1}\" font-size=\"11\" {FONT} fill=\"{color}\">{}</text>",
                x + 6.0,
                escape(line)
            );
        }
        if let (Some(lane), RowKind::Waiting) = (row.lane, row.kind) {
            for blocker in &row.blockers {
                if *blocker >= diagram.lanes.len() || *blocker == lane {
                    continue;
                }
                let from_x = if *blocker > lane { x + w } else { x };
                let to_x = lane_x(*blocker);
                let ay = y + box_height / 2.0;
                let _ = writeln!(
                    body,
                    "<line x1=\"{from_x:.1}\" y1=\"{ay:.1}\" x2=\"{to_x:.1}\" y2=\"{ay:.1}\" stroke=\"#d98a00\" stroke-width=\"1.5\" stroke-dasharray=\"5 3\" marker-end=\"url(#waits-for)\"/>"
                );
            }
        }
        body.push_str("</g>\n");
        y += box_height + 8.0;
    }
    let height = y + 16.0;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" viewBox=\"0 0 {width:.0} {height:.0}\" role=\"img\" aria-label=\"{}\">",
        escape(&diagram.title)
    );
    let _ = writeln!(out, "<title>{}</title>", escape(&diagram.title));
    out.push_str("<defs><marker id=\"waits-for\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M 0 0 L 10 5 L 0 10 z\" fill=\"#d98a00\"/></marker></defs>\n");
    let _ = writeln!(
        out,
        "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n<text x=\"10\" y=\"22\" font-size=\"14\" font-weight=\"bold\" {FONT} fill=\"#1b2a44\">{}</text>",
        escape(&diagram.title)
    );
    for (i, lane) in diagram.lanes.iter().enumerate() {
        let x = lane_x(i);
        let _ = writeln!(
            out,
            "<g class=\"lane\"><line x1=\"{x:.1}\" y1=\"{:.1}\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"#c5cbd6\" stroke-dasharray=\"4 4\"/><rect x=\"{:.1}\" y=\"36\" width=\"{:.1}\" height=\"26\" rx=\"4\" fill=\"#1b2a44\"/><text x=\"{x:.1}\" y=\"53\" text-anchor=\"middle\" font-size=\"12\" {FONT} fill=\"#ffffff\">{}</text></g>",
            top - 12.0,
            height - 8.0,
            x - LANE_WIDTH / 2.0 + 8.0,
            LANE_WIDTH - 16.0,
            escape(lane)
        );
    }
    out.push_str(&body);
    out.push_str("</svg>\n");
    out
}

/// The wait-for graph as a standalone SVG document.
pub fn graph_svg(picture: &GraphPicture, title: &str) -> String {
    let at = layout(picture);
    let caption_height = 30.0;
    let sentences_height = 16.0 * picture.edges.len() as f64 + 10.0;
    // Wide enough for the drawing, the title (13 px bold, about 8 px a character) and every
    // sentence (11 px, about 6.7 px a character); the drawing is centred.
    let longest_sentence = picture
        .edges
        .iter()
        .map(|e| e.sentence.chars().count())
        .max()
        .unwrap_or(0) as f64;
    let width = at
        .width
        .max(title.chars().count() as f64 * 8.0 + 20.0)
        .max(longest_sentence * 6.7 + 20.0);
    let offset = (width - at.width) / 2.0;
    let height = caption_height + at.height + sentences_height;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" viewBox=\"0 0 {width:.0} {height:.0}\" role=\"img\" aria-label=\"{}\">",
        escape(title)
    );
    let _ = writeln!(out, "<title>{}</title>", escape(title));
    out.push_str("<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M 0 0 L 10 5 L 0 10 z\" fill=\"#555555\"/></marker><marker id=\"arrow-cycle\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M 0 0 L 10 5 L 0 10 z\" fill=\"#c62828\"/></marker></defs>\n");
    let _ = writeln!(
        out,
        "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n<text x=\"10\" y=\"20\" font-size=\"13\" font-weight=\"bold\" {FONT} fill=\"#1b2a44\">{}</text>",
        escape(title)
    );
    let _ = writeln!(
        out,
        "<g transform=\"translate({offset:.1} {caption_height:.0})\">"
    );
    if picture.edges.is_empty() {
        let _ = writeln!(
            out,
            "<text x=\"{:.1}\" y=\"40\" text-anchor=\"middle\" font-size=\"12\" {FONT} fill=\"#555555\">Nobody waits for anybody.</text>",
            width / 2.0
        );
    }
    for (e, path) in picture.edges.iter().zip(&at.paths) {
        let (stroke, marker, class) = if e.in_cycle {
            ("#c62828", "arrow-cycle", "edge in-cycle")
        } else {
            ("#555555", "arrow", "edge")
        };
        let _ = writeln!(
            out,
            "<path class=\"{class}\" d=\"{path}\" fill=\"none\" stroke=\"{stroke}\" stroke-width=\"1.6\" marker-end=\"url(#{marker})\"><title>{}</title></path>",
            escape(&e.sentence)
        );
    }
    for (n, (x, y)) in picture.nodes.iter().zip(&at.centres) {
        let half = n.label.chars().count() as f64 * 3.8 + 8.0;
        let (fill, stroke) = if n.stuck {
            ("#fdecec", "#c62828")
        } else {
            ("#eef4ff", "#3b6fd1")
        };
        let _ = writeln!(
            out,
            "<g class=\"node {}\"><rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"26\" rx=\"5\" fill=\"{fill}\" stroke=\"{stroke}\"/><text x=\"{x:.1}\" y=\"{y:.1}\" text-anchor=\"middle\" dominant-baseline=\"middle\" font-size=\"12\" {FONT} fill=\"#1b2a44\">{}</text></g>",
            n.kind,
            x - half,
            y - 13.0,
            2.0 * half,
            escape(&n.label)
        );
    }
    out.push_str("</g>\n");
    for (i, e) in picture.edges.iter().enumerate() {
        let y = caption_height + at.height + 16.0 * (i as f64 + 1.0);
        let color = if e.in_cycle { "#c62828" } else { "#333333" };
        let _ = writeln!(
            out,
            "<text x=\"10\" y=\"{y:.1}\" font-size=\"11\" {FONT} fill=\"{color}\">{}</text>",
            escape(&e.sentence)
        );
    }
    out.push_str("</svg>\n");
    out
}

/// The lesson's run so far as a sequence diagram: one lane per task.
pub fn lesson_timeline(s: &Session) -> SequenceDiagram {
    let world = s.world();
    let lanes: Vec<String> = world.tasks.iter().map(|t| t.name.clone()).collect();
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

/// A file to download.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SvgFile {
    /// The file's name.
    pub name: String,
    /// Its content.
    pub content: String,
}

/// Offers `file` as a download: a Blob, an object URL and a link with a `download` name.
pub fn download(file: &SvgFile) -> Result<(), String> {
    use wasm_bindgen::JsCast;
    let fail = |what: &str| format!("could not {what}");
    let window = web_sys::window().ok_or_else(|| fail("reach the window"))?;
    let document = window
        .document()
        .ok_or_else(|| fail("reach the document"))?;
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(&file.content));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("image/svg+xml");
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options)
        .map_err(|_| fail("make the file"))?;
    let url = web_sys::Url::create_object_url_with_blob(&blob)
        .map_err(|_| fail("make a link to the file"))?;
    let link: web_sys::HtmlAnchorElement = document
        .create_element("a")
        .map_err(|_| fail("make a link"))?
        .dyn_into()
        .map_err(|_| fail("make a link"))?;
    link.set_href(&url);
    link.set_download(&file.name);
    link.click();
    // The browser reads the Blob when the download starts; let it go after that.
    gloo_timers::callback::Timeout::new(10_000, move || {
        let _ = web_sys::Url::revoke_object_url(&url);
    })
    .forget();
    Ok(())
}

/// A file name part from free text: lower-case letters, digits and dashes.
pub fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() {
        "lockstep".to_string()
    } else {
        out.chars().take(60).collect()
    }
}

/// The two export buttons; each callback makes its file when clicked.
#[component]
pub fn ExportButtons(
    timeline: Callback<(), SvgFile>,
    graph: Callback<(), SvgFile>,
) -> impl IntoView {
    let problem = RwSignal::new(None::<String>);
    let save = move |file: SvgFile| problem.set(download(&file).err());
    view! {
        <div class="export-buttons" role="group" aria-label="Export">
            <button data-testid="export-timeline" title="Download the run so far as a sequence diagram" on:click=move |_| save(timeline.run(()))>
                "Export timeline (SVG)"
            </button>
            <button data-testid="export-graph" title="Download the wait-for graph as it is now" on:click=move |_| save(graph.run(()))>
                "Export wait-for graph (SVG)"
            </button>
            {move || problem.get().map(|p| view! { <span class="notice error">{p}</span> })}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pages::sandbox::examples::example;

    /// Parses the document strictly; panics with the parser's message otherwise.
    fn parse(svg: &str) -> roxmltree::Document<'_> {
        roxmltree::Document::parse(svg)
            .unwrap_or_else(|e| panic!("not well-formed XML: {e}\n{svg}"))
    }

    fn played(slug: &str) -> Sandbox {
        let ex = example(slug).unwrap();
        let mut sandbox = Sandbox::new(ex.text, ex.check).unwrap();
        while sandbox.step() {}
        sandbox
    }

    #[test]
    fn the_timeline_is_well_formed_svg_with_one_lane_per_session() {
        let sandbox = played("deadlock");
        let svg = timeline_svg(&sandbox_timeline(&sandbox));
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        let doc = parse(&svg);
        let lanes: Vec<String> = doc
            .descendants()
            .filter(|n| n.attribute("class") == Some("lane"))
            .map(|n| {
                n.descendants()
                    .filter(|t| t.is_text())
                    .map(|t| t.text().unwrap())
                    .collect()
            })
            .collect();
        assert_eq!(lanes, vec!["t1".to_string(), "t2".to_string()]);
        let class_count = |class: &str| {
            doc.descendants()
                .filter(|n| n.attribute("class") == Some(class))
                .count()
        };
        assert_eq!(class_count("row waiting"), 2);
        assert_eq!(class_count("row error"), 1);
        assert!(svg.contains("ERROR:  deadlock detected"));
    }

    #[test]
    fn a_lesson_timeline_has_one_lane_per_task() {
        let lesson = lockstep_lessons::lesson("lock-order").unwrap();
        let mut session = Session::new(lesson, None).unwrap();
        while session.step() {}
        let diagram = lesson_timeline(&session);
        assert_eq!(diagram.lanes.len(), session.world().tasks.len());
        let svg = timeline_svg(&diagram);
        let doc = parse(&svg);
        let lanes = doc
            .descendants()
            .filter(|n| n.attribute("class") == Some("lane"))
            .count();
        assert_eq!(lanes, session.world().tasks.len());
        assert!(diagram.rows.iter().any(|r| r.kind == RowKind::Error));
    }

    #[test]
    fn text_is_escaped_so_markup_in_a_spec_stays_text() {
        let diagram = SequenceDiagram {
            title: "a <b> & \"c\" 'd'".into(),
            lanes: vec!["<script>alert(1)</script>".into()],
            rows: vec![Row {
                lane: Some(0),
                kind: RowKind::Statement,
                text: "SELECT '</text><script>' \u{1} FROM t".into(),
                blockers: vec![],
            }],
        };
        let svg = timeline_svg(&diagram);
        let doc = parse(&svg);
        assert!(!doc.descendants().any(|n| n.has_tag_name("script")));
        assert!(svg.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        let title = doc
            .descendants()
            .find(|n| n.has_tag_name("title"))
            .and_then(|n| n.text())
            .unwrap();
        assert_eq!(title, "a <b> & \"c\" 'd'");
    }

    #[test]
    fn the_wait_for_graph_shows_the_cycle_of_a_deadlock_in_red() {
        let ex = example("deadlock").unwrap();
        let mut sandbox = Sandbox::new(ex.text, ex.check).unwrap();
        for _ in 0..4 {
            sandbox.step();
        }
        let picture = sandbox_graph(&sandbox);
        assert_eq!(picture.nodes.len(), 2);
        assert!(picture.edges.iter().all(|e| e.in_cycle));
        let svg = graph_svg(&picture, "wait-for graph");
        let doc = parse(&svg);
        let cycle_edges = doc
            .descendants()
            .filter(|n| n.attribute("class") == Some("edge in-cycle"))
            .count();
        assert_eq!(cycle_edges, 2);
    }

    #[test]
    fn an_svg_is_wide_enough_for_its_longest_text() {
        let node = |label: &str| GraphNode {
            label: label.into(),
            row: 2,
            kind: "conn",
            stuck: false,
        };
        let picture = GraphPicture {
            nodes: vec![node("a"), node("b")],
            edges: vec![GraphEdge {
                from: 0,
                to: 1,
                sentence: "x".repeat(200),
                in_cycle: false,
            }],
        };
        let svg = graph_svg(&picture, "t");
        let doc = parse(&svg);
        let width: f64 = doc
            .root_element()
            .attribute("width")
            .unwrap()
            .parse()
            .unwrap();
        assert!(width >= 200.0 * 6.7, "{width}");
    }

    #[test]
    fn an_empty_wait_for_graph_says_nobody_waits() {
        let svg = graph_svg(&GraphPicture::default(), "wait-for graph");
        parse(&svg);
        assert!(svg.contains("Nobody waits for anybody."));
    }

    #[test]
    fn long_text_wraps_and_is_cut_with_an_ellipsis() {
        let lines = wrap(&"word ".repeat(100), 30, 4);
        assert_eq!(lines.len(), 4);
        assert!(lines.iter().all(|l| l.chars().count() <= 30));
        assert!(lines[3].ends_with('…'));
        assert_eq!(wrap("x".repeat(45).as_str(), 30, 4).len(), 2);
    }

    #[test]
    fn file_names_are_slugs() {
        assert_eq!(slug("Lock order: the fix!"), "lock-order-the-fix");
        assert_eq!(slug("***"), "lockstep");
    }
}
