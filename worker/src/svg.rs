//! The drawings as SVG text: a sequence diagram of a run and a wait-for graph, laid out and
//! written as pure string code; every piece of text goes through [`escape`]. A lesson page has
//! them written here, in its worker, and carries no SVG writer of its own (the sandbox, which
//! has no worker, writes them itself); the page's live wait-for graph uses the same
//! [`layout`].

use std::fmt::Write as _;

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
#[derive(Clone, Debug, Default, PartialEq, Eq)]
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
            format!(
                "M {sx} {sy} Q {mx} {my} {ex} {ey}",
                sx = Tenths(sx),
                sy = Tenths(sy),
                mx = Tenths(mx),
                my = Tenths(my),
                ex = Tenths(ex),
                ey = Tenths(ey)
            )
        })
        .collect();
    GraphLayout {
        width,
        height,
        centres,
        paths,
    }
}

/// A length written with one decimal (`12.3`), rounded half away from zero. Written with
/// integer arithmetic: Rust's formatting of floating-point numbers would add about 11 KB to
/// the worker's bundle, which has no other use for it.
pub struct Tenths(pub f64);

impl std::fmt::Display for Tenths {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let tenths = (self.0 * 10.0).round() as i64;
        let sign = if tenths < 0 { "-" } else { "" };
        let tenths = tenths.unsigned_abs();
        write!(f, "{sign}{}.{}", tenths / 10, tenths % 10)
    }
}

/// A length written as a whole number, rounded half away from zero (see [`Tenths`]).
pub struct Whole(pub f64);

impl std::fmt::Display for Whole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0.round() as i64)
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
pub fn wrap(text: &str, width: usize, lines_max: usize) -> Vec<String> {
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
            "<rect x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"{box_height}\" rx=\"4\" fill=\"{fill}\" stroke=\"{stroke}\"{dash}/>", x = Tenths(x), y = Tenths(y), w = Tenths(w), box_height = Tenths(box_height));
        for (k, line) in lines.iter().enumerate() {
            let ty = y + 5.0 + LINE_HEIGHT * (k as f64 + 0.8);
            let _ = writeln!(
                body,
                "<text x=\"{}\" y=\"{ty}\" font-size=\"11\" {FONT} fill=\"{color}\">{}</text>",
                Tenths(x + 6.0),
                escape(line),
                ty = Tenths(ty)
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
                    "<line x1=\"{from_x}\" y1=\"{ay}\" x2=\"{to_x}\" y2=\"{ay}\" stroke=\"#d98a00\" stroke-width=\"1.5\" stroke-dasharray=\"5 3\" marker-end=\"url(#waits-for)\"/>", from_x = Tenths(from_x), ay = Tenths(ay), to_x = Tenths(to_x));
            }
        }
        body.push_str("</g>\n");
        y += box_height + 8.0;
    }
    let height = y + 16.0;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"{}\">",
        escape(&diagram.title), width = Whole(width), height = Whole(height));
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
            "<g class=\"lane\"><line x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{}\" stroke=\"#c5cbd6\" stroke-dasharray=\"4 4\"/><rect x=\"{}\" y=\"36\" width=\"{}\" height=\"26\" rx=\"4\" fill=\"#1b2a44\"/><text x=\"{x}\" y=\"53\" text-anchor=\"middle\" font-size=\"12\" {FONT} fill=\"#ffffff\">{}</text></g>",
            Tenths(top - 12.0),
            Tenths(height - 8.0),
            Tenths(x - LANE_WIDTH / 2.0 + 8.0),
            Tenths(LANE_WIDTH - 16.0),
            escape(lane), x = Tenths(x));
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
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"{}\">",
        escape(title), width = Whole(width), height = Whole(height));
    let _ = writeln!(out, "<title>{}</title>", escape(title));
    out.push_str("<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M 0 0 L 10 5 L 0 10 z\" fill=\"#555555\"/></marker><marker id=\"arrow-cycle\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M 0 0 L 10 5 L 0 10 z\" fill=\"#c62828\"/></marker></defs>\n");
    let _ = writeln!(
        out,
        "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n<text x=\"10\" y=\"20\" font-size=\"13\" font-weight=\"bold\" {FONT} fill=\"#1b2a44\">{}</text>",
        escape(title)
    );
    let _ = writeln!(
        out,
        "<g transform=\"translate({offset} {caption_height})\">",
        offset = Tenths(offset),
        caption_height = Whole(caption_height)
    );
    if picture.edges.is_empty() {
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"40\" text-anchor=\"middle\" font-size=\"12\" {FONT} fill=\"#555555\">Nobody waits for anybody.</text>",
            Tenths(width / 2.0)
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
            "<g class=\"node {}\"><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"26\" rx=\"5\" fill=\"{fill}\" stroke=\"{stroke}\"/><text x=\"{x}\" y=\"{y}\" text-anchor=\"middle\" dominant-baseline=\"middle\" font-size=\"12\" {FONT} fill=\"#1b2a44\">{}</text></g>",
            n.kind,
            Tenths(x - half),
            Tenths(y - 13.0),
            Tenths(2.0 * half),
            escape(&n.label), x = Tenths(*x), y = Tenths(*y));
    }
    out.push_str("</g>\n");
    for (i, e) in picture.edges.iter().enumerate() {
        let y = caption_height + at.height + 16.0 * (i as f64 + 1.0);
        let color = if e.in_cycle { "#c62828" } else { "#333333" };
        let _ = writeln!(
            out,
            "<text x=\"10\" y=\"{y}\" font-size=\"11\" {FONT} fill=\"{color}\">{}</text>",
            escape(&e.sentence),
            y = Tenths(y)
        );
    }
    out.push_str("</svg>\n");
    out
}
