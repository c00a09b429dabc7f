//! Who waits for whom, and why, with any cycle called out.

use super::lesson_view::SessionSignal;
use crate::export::{self, GraphPicture};
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
        WaitNode::Connection(c) => match world.connections.get(&c).and_then(|c| c.holder) {
            Some(holder) => format!("{c} · {}", s.task_name(holder)),
            None => c.to_string(),
        },
    }
}

/// A wait-for graph drawn as SVG: nodes in rows (tasks, pools, sessions), an arrow from waiter
/// to awaited, cycle edges red. The lesson and the sandbox draw with it; the SVG export lays
/// out the same picture ([`export::layout`]).
pub fn drawing(picture: &GraphPicture) -> AnyView {
    let at = export::layout(picture);
    let edges: Vec<AnyView> = picture
        .edges
        .iter()
        .zip(&at.paths)
        .map(|(e, d)| {
            let (class, marker) = if e.in_cycle {
                ("edge in-cycle", "url(#arrow-cycle)")
            } else {
                ("edge", "url(#arrow)")
            };
            view! {
                <path class=class d=d.clone() fill="none" marker-end=marker>
                    <title>{e.sentence.clone()}</title>
                </path>
            }
            .into_any()
        })
        .collect();
    let labels: Vec<AnyView> = picture
        .nodes
        .iter()
        .zip(&at.centres)
        .map(|(n, (x, y))| {
            view! {
                <g class=format!("node {}", n.kind) class:stuck=n.stuck>
                    <text x=*x y=*y text-anchor="middle" dominant-baseline="middle">{n.label.clone()}</text>
                </g>
            }
            .into_any()
        })
        .collect();
    let view_box = format!("0 0 {} {}", at.width, at.height);
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
                    let headline = WaitForGraph::plain_headline(c);
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
                    view! {
                        <li class:in-cycle=in_cycle title=e.sentence.clone()>{e.plain.clone()}</li>
                    }
                    .into_any()
                })
                .collect();
            let svg = drawing(&export::picture(s, &graph, &cycles));
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
