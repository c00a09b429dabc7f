//! Standalone SVG files of a run: its timeline as a sequence diagram (one lane per task or
//! session, time downwards; statements, waits with arrows to whoever blocks them, errors) and
//! its wait-for graph. The builders are pure string code, unit-tested natively; every piece
//! of text goes through [`escape`]. The download goes through a Blob and an object URL, never
//! through the page's HTML.

mod lesson;
mod sandbox;
mod svg;

pub use lesson::{label, lesson_graph, lesson_timeline, picture};
pub use sandbox::{sandbox_graph, sandbox_timeline};
pub use svg::*;

use leptos::prelude::*;

/// A file to download.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SvgFile {
    /// The file's name.
    pub name: String,
    /// Its content.
    pub content: String,
}

/// Offers `file` as a download: a Blob, an object URL and a link with a `download` name.
pub fn download(file: &SvgFile) -> Result<(), String> {
    offer_file(&file.name, &file.content, "image/svg+xml")
}

/// Offers a text as a file called `name` of type `mime`.
pub fn offer_file(name: &str, content: &str, mime: &str) -> Result<(), String> {
    use wasm_bindgen::JsCast;
    let fail = |what: &str| format!("could not {what}");
    let window = web_sys::window().ok_or_else(|| fail("reach the window"))?;
    let document = window
        .document()
        .ok_or_else(|| fail("reach the document"))?;
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(content));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options)
        .map_err(|_| fail("make the file"))?;
    let url = web_sys::Url::create_object_url_with_blob(&blob)
        .map_err(|_| fail("make a link to the file"))?;
    let link: web_sys::HtmlAnchorElement = document
        .create_element("a")
        .map_err(|_| fail("make a link"))?
        .dyn_into()
        .map_err(|_| fail("make a link"))?;
    link.set_href(&url);
    link.set_download(name);
    link.click();
    // The browser reads the Blob when the download starts; let it go after that.
    gloo_timers::callback::Timeout::new(10_000, move || {
        let _ = web_sys::Url::revoke_object_url(&url);
    })
    .forget();
    Ok(())
}

/// A file name part from free text: lower-case letters, digits and dashes.
pub fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() {
        "lockstep".to_string()
    } else {
        out.chars().take(60).collect()
    }
}

/// The two export buttons; each callback makes its file when clicked.
#[component]
pub fn ExportButtons(
    timeline: Callback<(), SvgFile>,
    graph: Callback<(), SvgFile>,
) -> impl IntoView {
    let problem = RwSignal::new(None::<String>);
    let save = move |file: SvgFile| problem.set(download(&file).err());
    view! {
        <div class="export-buttons" role="group" aria-label="Export">
            <button data-testid="export-timeline" title="Download the run so far as a sequence diagram" on:click=move |_| save(timeline.run(()))>
                "Export timeline (SVG)"
            </button>
            <button data-testid="export-graph" title="Download the wait-for graph as it is now" on:click=move |_| save(graph.run(()))>
                "Export wait-for graph (SVG)"
            </button>
            {move || problem.get().map(|p| view! { <span class="notice error">{p}</span> })}
        </div>
    }
}

#[cfg(test)]
mod tests;
