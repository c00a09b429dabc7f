//! The sandbox's wait-for graph: sessions, and an arrow for each lock wait; a cycle in red.
//! Drawn by the lesson's drawing, from the same picture the SVG export uses.

use super::signal::SandboxSignal;
use crate::components::wait_for_graph::drawing;
use crate::export::sandbox_graph;
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
            let sentences: Vec<AnyView> = picture
                .edges
                .iter()
                .map(|e| view! { <li class:in-cycle=e.in_cycle>{e.sentence.clone()}</li> }.into_any())
                .collect();
            let cycle = picture.edges.iter().any(|e| e.in_cycle).then(|| {
                view! { <p class="cycle">"Cycle: a deadlock between database sessions (PostgreSQL's deadlock detector breaks it after deadlock_timeout)"</p> }
            });
            view! {
                {cycle}
                {drawing(&picture)}
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
