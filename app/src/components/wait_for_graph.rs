//! Who waits for whom, and why, with any cycle called out.

use super::lesson_view::SessionSignal;
use crate::session::Session;
use leptos::prelude::*;
use lockstep::world::{WaitForGraph, WaitNode};

/// How a node is labelled in the drawing.
fn label(s: &Session, node: WaitNode) -> String {
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
    let (width, height) = (440.0_f64, 220.0_f64);
    let (cx, cy, rx, ry) = (
        width / 2.0,
        height / 2.0,
        width / 2.0 - 80.0,
        height / 2.0 - 30.0,
    );
    let count = nodes.len().max(1) as f64;
    let at = |i: usize| {
        let angle = -std::f64::consts::FRAC_PI_2 + std::f64::consts::TAU * i as f64 / count;
        (cx + rx * angle.cos(), cy + ry * angle.sin())
    };
    let index = |n: &WaitNode| nodes.iter().position(|m| m == n).unwrap_or(0);
    let in_cycle =
        |a: &WaitNode, b: &WaitNode| cycles.iter().any(|c| c.contains(a) && c.contains(b));
    let edges: Vec<AnyView> = graph
        .edges
        .iter()
        .map(|e| {
            let (x1, y1) = at(index(&e.from));
            let (x2, y2) = at(index(&e.to));
            // Each edge bends to its own left, so that two waits in opposite directions
            // (a cycle of two) are two visible arcs; it stops short of the labels, which are
            // wider than tall.
            let (dx, dy) = (x2 - x1, y2 - y1);
            let len = (dx * dx + dy * dy).sqrt().max(1.0);
            let (ux, uy) = (dx / len, dy / len);
            let shorten = (14.0 + ux.abs() * 48.0).min(len / 3.0);
            let (sx, sy) = (x1 + ux * shorten, y1 + uy * shorten);
            let (ex, ey) = (x2 - ux * shorten, y2 - uy * shorten);
            let bend = 0.18 * len;
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
                    <text x=x y=y text-anchor="middle" dominant-baseline="middle">{label(s, *n)}</text>
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
    let content = move || {
        session.with(|s| {
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
