//! The spec editor: the examples, a text area, Run, the share link, and a spec's errors with
//! their line and column (the cursor jumps there).

use super::address;
use super::examples::{self, Origin, EXAMPLES};
use super::signal::{load, Loader, Problem, SandboxSignal};
use crate::cursor;
use leptos::html::Textarea;
use leptos::prelude::*;

/// The editor panel.
#[component]
pub fn SpecEditor(
    text: RwSignal<String>,
    sandbox: SandboxSignal,
    problem: RwSignal<Option<Problem>>,
    link_problem: RwSignal<Option<String>>,
    loader: Loader,
) -> impl IntoView {
    let area = NodeRef::<Textarea>::new();
    let share = RwSignal::new(None::<String>);
    let run = move || {
        share.set(None);
        let t = text.get_untracked();
        load(&t, sandbox, problem, loader, || {});
        // Put the cursor where the problem is.
        if let (Some((line, column)), Some(el)) = (
            problem.with_untracked(|p| p.as_ref().and_then(|p| p.at)),
            area.get_untracked(),
        ) {
            cursor::put(&el, &t, line as usize, column as usize);
        }
    };
    let chosen = move || {
        text.with(|t| {
            examples::example_with_text(t)
                .map(|e| e.slug)
                .unwrap_or("own")
        })
    };
    let options: Vec<AnyView> = EXAMPLES
        .iter()
        .map(|e| {
            let label = match e.origin {
                Origin::Lockstep => e.title.to_string(),
                Origin::Postgres => format!("{} — PostgreSQL's own spec", e.title),
            };
            view! { <option value=e.slug selected=move || chosen() == e.slug>{label}</option> }
                .into_any()
        })
        .collect();
    let excerpt = move || {
        problem.with(|p| {
            let p = p.as_ref()?;
            let (_, column) = p.at?;
            let line = p.excerpt.clone()?;
            let caret = format!("{}^", " ".repeat(column.saturating_sub(1) as usize));
            Some(view! { <pre class="spec-excerpt">{line}"\n"{caret}</pre> })
        })
    };
    view! {
        <section class="panel editor-panel">
            <h2>"Spec"</h2>
            <label class="example-picker">
                <span>"Example "</span>
                <select
                    data-testid="example-select"
                    on:change=move |ev| {
                        let slug = event_target_value(&ev);
                        if let Some(e) = examples::example(&slug) {
                            text.set(e.text.to_string());
                            run();
                        }
                    }
                >
                    {options}
                    <option value="own" selected=move || chosen() == "own">"(your own spec)"</option>
                </select>
            </label>
            <textarea
                class="spec-editor"
                data-testid="spec-editor"
                aria-label="isolation spec"
                spellcheck="false"
                wrap="off"
                rows="24"
                node_ref=area
                prop:value=move || text.get()
                on:input=move |ev| text.set(event_target_value(&ev))
            ></textarea>
            <div class="editor-buttons">
                <button class="primary" data-testid="load-spec" on:click=move |_| run()>"Run this spec"</button>
                <button
                    data-testid="share"
                    title="A link that opens this spec, permutation and step"
                    on:click=move |_| {
                        let loaded = sandbox.with_untracked(Option::is_some);
                        share.set(loaded.then(address::full_url));
                    }
                >
                    "Share link"
                </button>
            </div>
            {move || share.get().map(|url| view! {
                <input class="share-link" data-testid="share-link" readonly prop:value=url aria-label="link to this run"/>
            })}
            {move || link_problem.get().map(|p| view! {
                <p class="notice">"This spec is too long for a link: " {p} "."</p>
            })}
            {move || problem.get().map(|p| view! {
                <div class="notice error spec-error" data-testid="spec-error" role="alert">
                    <strong>{p.message.clone()}</strong>
                    {excerpt}
                </div>
            })}
            <details class="format-help">
                <summary>"The spec format"</summary>
                <p>
                    "Global " <code>"setup { … }"</code> " blocks and a " <code>"teardown"</code>
                    "; then " <code>"session NAME"</code> " blocks, each with an optional setup, "
                    <code>"step NAME { SQL }"</code> " lines and an optional teardown; then optional "
                    <code>"permutation a b c"</code> " lines. Without permutation lines every interleaving "
                    "of the sessions' steps is listed. " <code>"#"</code> " starts a comment outside braces."
                </p>
            </details>
        </section>
    }
}
