//! Who waits for whom, and why, with any cycle called out.

use crate::export::{self, label, GraphPicture};
use crate::player::{depend_on, SessionSignal};
use leptos::prelude::*;
use lockstep::world::WaitForGraph;

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
    // The edges shown before, to mark those the last move added.
    let before = StoredValue::new(Vec::<String>::new());
    let content = move || {
        depend_on(shape);
        session.with_untracked(|s| {
            let graph = s.world().wait_for_graph();
            // PostgreSQL's deadlocks too: the cycle a learner watches close, until the
            // detector breaks it.
            let cycles = graph.closed_cycles();
            let sentences: Vec<String> = graph.edges.iter().map(|e| e.sentence.clone()).collect();
            let previous = before
                .try_update_value(|b| std::mem::replace(b, sentences))
                .unwrap_or_default();
            if graph.edges.is_empty() {
                return view! { <p class="empty">"Nobody waits for anybody."</p> }.into_any();
            }
            // Stuck without a cycle: waiting on someone who will never let go.
            let stuck = (cycles.is_empty() && !graph.stuck.is_empty()).then(|| {
                let names: Vec<String> = graph.stuck.iter().map(|n| label(s.world(), *n)).collect();
                view! {
                    <p class="cycle stuck" data-testid="graph-stuck">
                        "Stuck for good, with no cycle: " {names.join(", ")}
                    </p>
                }
            });
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
                    let new = !previous.contains(&e.sentence);
                    view! {
                        <li class:in-cycle=in_cycle class:new=new title=e.sentence.clone()>{e.plain.clone()}</li>
                    }
                    .into_any()
                })
                .collect();
            let svg = drawing(&export::picture(s.world(), &graph, &cycles));
            view! {
                {cycle_text}
                {stuck}
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
