//! Who waits for whom, and why, with any cycle called out.

use super::lesson_view::SessionSignal;
use crate::session::Session;
use leptos::prelude::*;
use lockstep::world::{WaitForGraph, WaitNode};

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
        WaitNode::Connection(c) => match world.connections.get(&c) {
            Some(conn) => format!("{c} · pid {}", conn.pid),
            None => c.to_string(),
        },
    }
}

/// The graph drawn as nodes on a circle with arrows from waiter to awaited; cycle edges red.
fn drawing(s: &Session, graph: &WaitForGraph, cycles: &[Vec<WaitNode>]) -> AnyView {
    let mut nodes: Vec<WaitNode> = Vec::new();
    for e in &graph.edges {
        for n in [e.from, e.to] {
            if !nodes.contains(&n) {
                nodes.push(n);
            }
        }
    }
    // Rows by kind: tasks on top, pools in the middle, connections (sessions) below.
    let row_of = |n: &WaitNode| match n {
        WaitNode::Task(_) => 0,
        WaitNode::Pool(_) => 1,
        WaitNode::Connection(_) => 2,
    };
    let rows_used: Vec<usize> = (0..3)
        .filter(|r| nodes.iter().any(|n| row_of(n) == *r))
        .collect();
    let width = 480.0_f64;
    let height = 80.0 * rows_used.len() as f64 + 10.0;
    let labels_text: Vec<String> = nodes.iter().map(|n| label(s, *n)).collect();
    let at = |i: usize| {
        let row = row_of(&nodes[i]);
        let in_row: Vec<usize> = (0..nodes.len())
            .filter(|j| row_of(&nodes[*j]) == row)
            .collect();
        let k = in_row.iter().position(|j| *j == i).unwrap_or(0) as f64;
        // Spread each row to the edges, leaving room for the outermost labels.
        let margin = 100.0;
        let x = if in_row.len() == 1 {
            width / 2.0
        } else {
            margin + (width - 2.0 * margin) * k / (in_row.len() as f64 - 1.0)
        };
        let y = 40.0 + 80.0 * rows_used.iter().position(|r| *r == row).unwrap_or(0) as f64;
        (x, y)
    };
    // How far along direction (ux, uy) a line leaves the box around label `i`.
    let exit = |i: usize, ux: f64, uy: f64| {
        let half_width = labels_text[i].chars().count() as f64 * 3.8 + 8.0;
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
    let index = |n: &WaitNode| nodes.iter().position(|m| m == n).unwrap_or(0);
    let in_cycle =
        |a: &WaitNode, b: &WaitNode| cycles.iter().any(|c| c.contains(a) && c.contains(b));
    let edges: Vec<AnyView> = graph
        .edges
        .iter()
        .map(|e| {
            let (from, to) = (index(&e.from), index(&e.to));
            let (x1, y1) = at(from);
            let (x2, y2) = at(to);
            // Each edge bends to its own left, so that two waits in opposite directions
            // (a cycle of two) are two visible arcs; it starts and ends at the labels' boxes.
            let (dx, dy) = (x2 - x1, y2 - y1);
            let len = (dx * dx + dy * dy).sqrt().max(1.0);
            let (ux, uy) = (dx / len, dy / len);
            let (sx, sy) = (x1 + ux * exit(from, ux, uy), y1 + uy * exit(from, ux, uy));
            let (ex, ey) = (x2 - ux * exit(to, ux, uy), y2 - uy * exit(to, ux, uy));
            let bend = if y1 == y2 { 0.18 * len } else { 0.06 * len };
            let (mx, my) = ((sx + ex) / 2.0 + uy * bend, (sy + ey) / 2.0 - ux * bend);
            let d = format!("M {sx:.1} {sy:.1} Q {mx:.1} {my:.1} {ex:.1} {ey:.1}");
            let cycle = in_cycle(&e.from, &e.to);
            let class = if cycle { "edge in-cycle" } else { "edge" };
            let marker = if cycle {
                "url(#arrow-cycle)"
            } else {
                "url(#arrow)"
            };
            view! {
                <path class=class d=d fill="none" marker-end=marker>
                    <title>{e.sentence.clone()}</title>
                </path>
            }
            .into_any()
        })
        .collect();
    let labels: Vec<AnyView> = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let (x, y) = at(i);
            let kind = match n {
                WaitNode::Task(_) => "node task",
                WaitNode::Pool(_) => "node pool",
                WaitNode::Connection(_) => "node conn",
            };
            let stuck = graph.stuck.contains(n);
            view! {
                <g class=kind class:stuck=stuck>
                    <text x=x y=y text-anchor="middle" dominant-baseline="middle">{labels_text[i].clone()}</text>
                </g>
            }
            .into_any()
        })
        .collect();
    let view_box = format!("0 0 {width} {height}");
    view! {
        <svg class="graph" viewBox=view_box role="img" aria-label="wait-for graph" data-testid="wait-for-svg">
            <defs>
                <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
                    <path d="M 0 0 L 10 5 L 0 10 z" class="arrowhead"></path>
                </marker>
                <marker id="arrow-cycle" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
                    <path d="M 0 0 L 10 5 L 0 10 z" class="arrowhead in-cycle"></path>
                </marker>
            </defs>
            {edges}
            {labels}
        </svg>
    }
    .into_any()
}

/// The wait-for graph as explained edges.
#[component]
pub fn WaitForGraphPanel() -> impl IntoView {
    let session = expect_context::<SessionSignal>();
    // Most steps leave the graph as it was: redraw only when an edge or a stuck node changes.
    let shape = Memo::new(move |_| {
        session.with(|s| {
            let graph = s.world().wait_for_graph();
            (graph.edges, graph.stuck)
        })
    });
    let content = move || {
        shape.track();
        session.with_untracked(|s| {
            let graph = s.world().wait_for_graph();
            let cycles = graph.cycles();
            if graph.edges.is_empty() {
                return view! { <p class="empty">"Nobody waits for anybody."</p> }.into_any();
            }
            let cycle_text: Vec<AnyView> = cycles
                .iter()
                .map(|c| {
                    let lines = graph.explain_cycle(c);
                    let headline = lines.first().cloned().unwrap_or_default();
                    view! { <p class="cycle">"Cycle: " {headline}</p> }.into_any()
                })
                .collect();
            let edges: Vec<AnyView> = graph
                .edges
                .iter()
                .map(|e| {
                    let in_cycle = cycles
                        .iter()
                        .any(|c| c.contains(&e.from) && c.contains(&e.to));
                    view! { <li class:in-cycle=in_cycle>{e.sentence.clone()}</li> }.into_any()
                })
                .collect();
            let svg = drawing(s, &graph, &cycles);
            view! {
                {cycle_text}
                {svg}
                <ul class="edges">{edges}</ul>
            }
            .into_any()
        })
    };
    view! {
        <section class="panel graph-panel" data-testid="wait-for-graph">
            <h2>"Who waits for whom"</h2>
            {content}
        </section>
    }
}
