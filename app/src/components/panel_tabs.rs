//! The panels that are not the lesson's key panel, one click away: a row of tabs and the open
//! tab's panel. Which tab is open is remembered across lessons and visits.

use crate::remembered;
use leptos::prelude::*;

/// Where the open tab is remembered.
const OPEN_TAB_KEY: &str = "lockstep.open-tab";

/// One tab: its id (`data-testid="tab-ID"`, and what is remembered), its label, and the panel.
pub struct PanelTab {
    /// A stable id: `code`, `timeline`, `rows`, `pool`, `pg_locks`, ...
    pub id: &'static str,
    /// What the tab says.
    pub label: &'static str,
    /// Builds the panel when the tab is opened.
    pub panel: ViewFn,
}

/// The tab row and the open tab's panel. Only the open panel is built, so the others cost a
/// step nothing.
#[component]
pub fn PanelTabs(tabs: Vec<PanelTab>) -> impl IntoView {
    let ids: Vec<&'static str> = tabs.iter().map(|t| t.id).collect();
    let first = ids.first().copied().unwrap_or_default();
    let remembered_tab = remembered::get(OPEN_TAB_KEY)
        .and_then(|id| ids.iter().copied().find(|known| *known == id))
        .unwrap_or(first);
    let open = RwSignal::new(remembered_tab);
    let buttons: Vec<AnyView> = tabs
        .iter()
        .map(|tab| {
            let id = tab.id;
            view! {
                <button
                    role="tab"
                    class="tab"
                    data-testid=format!("tab-{id}")
                    aria-selected=move || (open.get() == id).to_string()
                    class:open=move || open.get() == id
                    on:click=move |_| {
                        open.set(id);
                        remembered::set(OPEN_TAB_KEY, id);
                    }
                >
                    {tab.label}
                </button>
            }
            .into_any()
        })
        .collect();
    let panels = StoredValue::new_local(tabs);
    let panel = move || {
        let id = open.get();
        panels.with_value(|tabs| {
            tabs.iter()
                .find(|t| t.id == id)
                .map(|t| t.panel.run())
                .unwrap_or_else(|| ().into_any())
        })
    };
    view! {
        <section class="panel-tabs" data-testid="panel-tabs">
            <div class="tab-row" role="tablist" aria-label="More panels">{buttons}</div>
            <div class="tab-panel" role="tabpanel" data-testid="tab-panel" data-tab=move || open.get()>
                {panel}
            </div>
        </section>
    }
}
