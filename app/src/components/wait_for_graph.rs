//! Who waits for whom, and why, with any cycle called out.

use super::lesson_view::SessionSignal;
use leptos::prelude::*;

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
            view! {
                {cycle_text}
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
