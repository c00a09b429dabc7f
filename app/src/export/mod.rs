//! Standalone SVG files of a run: its timeline as a sequence diagram (one lane per task or
//! session, time downwards; statements, waits with arrows to whoever blocks them, errors) and
//! its wait-for graph. The builders and the writer are pure string code, unit-tested
//! natively, in the worker's crate (`lockstep_worker::svg`, `lockstep_worker::drawings`): a
//! lesson page asks its worker for the file ([`written`]: the run's lesson, fix, knobs and
//! schedule), so its own bundle carries no SVG writer; the sandbox, which has no worker,
//! writes its files itself. The download goes through a Blob and an object URL, never through
//! the page's HTML.

mod sandbox;

pub use lockstep_worker::drawings::{label, picture};
pub use lockstep_worker::svg::*;
pub use sandbox::{sandbox_graph, sandbox_timeline};

use crate::checker::{post, reply_of, request_text, WORKER_SCRIPT};
use crate::session::Session;
use leptos::prelude::*;
use lockstep_worker::{Draw, Drawing, Reply, Request};
use std::future::Future;
use std::pin::Pin;

/// A file to download: its name, and its text once written (at once in the sandbox; by the
/// worker on a lesson page, which keeps the page's bundle free of the worker's path where it
/// is not used).
pub struct SvgFile {
    /// The file's name.
    pub name: String,
    /// Its text, or why it could not be written.
    pub text: Pin<Box<dyn Future<Output = Result<String, String>>>>,
}

impl SvgFile {
    /// A file whose text is written already.
    pub fn ready(name: String, text: String) -> SvgFile {
        SvgFile {
            name,
            text: Box::pin(std::future::ready(Ok(text))),
        }
    }
}

/// The request that has the worker draw a lesson's run so far: its lesson (a course lesson by
/// slug, or the `authored` file's JSON), fix, knobs and moves.
pub fn run_request(s: &Session, authored: Option<&str>, drawing: Drawing) -> Request {
    Request {
        id: 1,
        lesson: s.lesson.slug.clone(),
        authored: authored.map(str::to_string),
        whole_lesson: false,
        fix: s.fix.clone(),
        knobs: s.knobs.clone(),
        first_failure: false,
        states_max: 0,
        draw: Some(Draw {
            schedule: s.schedule().to_string(),
            drawing,
        }),
    }
}

/// Has a worker of its own answer `request` with a drawing, then ends it. The worker's bundle
/// is the checker's: it loads on the first export or check, and the browser keeps it for the
/// next.
pub async fn written(request: Request) -> Result<String, String> {
    use wasm_bindgen::prelude::*;
    use wasm_bindgen::JsCast;
    let worker = web_sys::Worker::new(WORKER_SCRIPT)
        .map_err(|_| "the file could not be written: its writer did not start".to_string())?;
    let text = request_text(&request);
    let mut settle = None;
    let answered = js_sys::Promise::new(&mut |resolve, reject| settle = Some((resolve, reject)));
    let (resolve, reject) = settle.expect("a promise's executor runs at once");
    let fail = |reject: &js_sys::Function, why: String| {
        let _ = reject.call1(&JsValue::NULL, &JsValue::from_str(&why));
    };
    let on_message = {
        let (worker, reject) = (worker.clone(), reject.clone());
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
            match reply_of(&event.data().as_string().unwrap_or_default()) {
                // A message posted before the worker listens would be lost.
                Ok(Reply::Ready) => post(&worker, &text),
                Ok(Reply::Drawn { svg, .. }) => {
                    let _ = resolve.call1(&JsValue::NULL, &JsValue::from_str(&svg));
                }
                Ok(Reply::Refused { message, .. }) => fail(&reject, message),
                Ok(_) => {}
                Err(e) => fail(
                    &reject,
                    format!("its writer said something unreadable: {e}"),
                ),
            }
        })
    };
    let on_error = Closure::<dyn FnMut(JsValue)>::new(move |_| {
        fail(&reject, "its writer stopped with an error".to_string());
    });
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    let outcome = wasm_bindgen_futures::JsFuture::from(answered).await;
    worker.terminate();
    drop((on_message, on_error));
    match outcome {
        Ok(svg) => Ok(svg.as_string().unwrap_or_default()),
        Err(why) => Err(format!(
            "the file could not be written: {}",
            why.as_string().unwrap_or_default()
        )),
    }
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

/// The two export buttons; each callback makes its file (the run as it is at the click).
/// While the worker writes one, both buttons wait.
#[component]
pub fn ExportButtons(
    timeline: Callback<(), SvgFile>,
    graph: Callback<(), SvgFile>,
) -> impl IntoView {
    let problem = RwSignal::new(None::<String>);
    let writing = RwSignal::new(false);
    let save = move |file: SvgFile| {
        writing.set(true);
        problem.set(None);
        leptos::task::spawn_local(async move {
            let saved = file
                .text
                .await
                .and_then(|svg| offer_file(&file.name, &svg, "image/svg+xml"));
            // The page may have gone on without the buttons.
            let _ = writing.try_set(false);
            let _ = problem.try_set(saved.err());
        });
    };
    view! {
        <div class="export-buttons" role="group" aria-label="Export" aria-busy=move || writing.get().to_string()>
            <button data-testid="export-timeline" title="Download the run so far as a sequence diagram" disabled=move || writing.get() on:click=move |_| save(timeline.run(()))>
                "Export timeline (SVG)"
            </button>
            <button data-testid="export-graph" title="Download the wait-for graph as it is now" disabled=move || writing.get() on:click=move |_| save(graph.run(()))>
                "Export wait-for graph (SVG)"
            </button>
            {move || writing.get().then(|| view! { <span class="notice" role="status">"Writing the file…"</span> })}
            {move || problem.get().map(|p| view! { <span class="notice error">{p}</span> })}
        </div>
    }
}

#[cfg(test)]
mod tests;
