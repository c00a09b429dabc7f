//! The sandbox's wait-for graph: sessions, and an arrow for each lock wait; a cycle in red.
//! Laid out and drawn like the lesson's, from the same picture the SVG export uses.

use super::view::SandboxSignal;
use crate::export::{layout, sandbox_graph};
use leptos::prelude::*;

/// The wait-for graph panel of the sandbox.
#[component]
pub fn SandboxWaitGraph(sandbox: SandboxSignal) -> impl IntoView {
    let content = move || {
        sandbox.with(|s| {
            let Some(s) = s else {
                return ().into_any();
            };
            let picture = sandbox_graph(s);
            if picture.edges.is_empty() {
                return view! { <p class="empty">"Nobody waits for anybody."</p> }.into_any();
            }
            let at = layout(&picture);
            let edges: Vec<AnyView> = picture
                .edges
                .iter()
                .zip(&at.paths)
                .map(|(e, d)| {
                    let (class, marker) = if e.in_cycle {
                        ("edge in-cycle", "url(#sandbox-arrow-cycle)")
                    } else {
                        ("edge", "url(#sandbox-arrow)")
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
            let sentences: Vec<AnyView> = picture
                .edges
                .iter()
                .map(|e| view! { <li class:in-cycle=e.in_cycle>{e.sentence.clone()}</li> }.into_any())
                .collect();
            let cycle = picture.edges.iter().any(|e| e.in_cycle).then(|| {
                view! { <p class="cycle">"Cycle: a deadlock between database sessions (PostgreSQL's deadlock detector breaks it after deadlock_timeout)"</p> }
            });
            let view_box = format!("0 0 {} {}", at.width, at.height);
            view! {
                {cycle}
                <svg class="graph" viewBox=view_box role="img" aria-label="wait-for graph" data-testid="wait-for-svg">
                    <defs>
                        <marker id="sandbox-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
                            <path d="M 0 0 L 10 5 L 0 10 z" class="arrowhead"></path>
                        </marker>
                        <marker id="sandbox-arrow-cycle" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
                            <path d="M 0 0 L 10 5 L 0 10 z" class="arrowhead in-cycle"></path>
                        </marker>
                    </defs>
                    {edges}
                    {labels}
                </svg>
                <ul class="edges">{sentences}</ul>
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
