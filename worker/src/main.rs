//! The Web Worker: listens for requests from the page and answers each with [`answer`]. It
//! says [`Reply::Ready`] once it listens, since a message posted before that would be lost.
//! Trunk builds it as a no-modules script with a loader (`index.html`), which the page starts
//! with `new Worker("./lockstep-worker_loader.js")` on its first check.

use lockstep_worker::{answer, Reply};
use wasm_bindgen::prelude::*;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

fn main() {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let post = {
        let scope = scope.clone();
        move |reply: Reply| {
            let text = serde_json::to_string(&reply).expect("replies serialize");
            // Posting fails only when the page has already terminated the worker.
            let _ = scope.post_message(&JsValue::from_str(&text));
        }
    };
    let listen = {
        let post = post.clone();
        Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let text = event.data().as_string().unwrap_or_default();
            answer(&text, js_sys::Date::now, &post);
        })
    };
    scope.set_onmessage(Some(listen.as_ref().unchecked_ref()));
    // The worker lives as long as the page keeps it; so does its listener.
    listen.forget();
    post(Reply::Ready);
}
