//! An embedded page tells the page around it how tall it is, so the iframe can fit it: after
//! every change of size it posts `{ lockstep: "height", height: PIXELS }` to its parent (the
//! README shows the three lines that size an iframe from it). The message says nothing but a
//! height, so it goes to any origin; the page listens to no message.

use js_sys::{Object, Reflect};
use wasm_bindgen::prelude::*;

/// Posts the document's height to the parent window once it is laid out and after every
/// change of size, for as long as the page lives.
pub fn report_height() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let Some(root) = window.document().and_then(|d| d.document_element()) else {
        return;
    };
    let post = {
        let window = window.clone();
        let root = root.clone();
        move || {
            let Ok(Some(parent)) = window.parent() else {
                return;
            };
            let message = Object::new();
            let _ = Reflect::set(&message, &"lockstep".into(), &"height".into());
            // The content's own height: the document's scroll height never drops below the
            // iframe's, so an iframe sized from it could only grow.
            let height = root.get_bounding_client_rect().height().ceil();
            if height <= 0.0 {
                // Not laid out yet (the page is still mounting): an iframe sized from this
                // would collapse.
                return;
            }
            let _ = Reflect::set(&message, &"height".into(), &height.into());
            let _ = parent.post_message(&message, "*");
        }
    };
    // Not posted now: the page may still show what it showed before this (the lesson loading),
    // and an iframe sized from that would jump. The observer reports every observed box once
    // it is first laid out, and after every change of size.
    let on_resize = Closure::<dyn FnMut()>::new(post);
    if let Ok(observer) = web_sys::ResizeObserver::new(on_resize.as_ref().unchecked_ref()) {
        observer.observe(&root);
        if let Some(body) = window.document().and_then(|d| d.body()) {
            observer.observe(&body);
        }
    }
    // The observer lives as long as the page, and so must the callback it calls.
    on_resize.forget();
}
