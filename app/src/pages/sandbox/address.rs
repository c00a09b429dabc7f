//! The sandbox's state in the address of `sandbox.html` (which opens on the first example):
//!
//! - `?example=SLUG` names a shipped example, `&spec=1…` carries any other spec ([`crate::link`]);
//! - `&permutation=N` (1-based) picks a permutation and `&step=N` how many moves of it to
//!   take; or `&by-hand=a,b,c` lists steps picked by hand (`.` ends the permutation).

use super::examples;
use super::model::{MoveKind, Plan, Sandbox};
use crate::link;
use web_sys::UrlSearchParams;

/// What the address asks the sandbox for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Request {
    /// The spec's text, from an example or a link.
    pub text: Option<String>,
    /// A problem with the link's spec, in words.
    pub link_error: Option<String>,
    /// The permutation to follow (0-based).
    pub permutation: Option<usize>,
    /// How many moves of it to take.
    pub step: usize,
    /// Steps picked by hand, in order (`.` is the end of the permutation).
    pub by_hand: Option<Vec<String>>,
}

fn params() -> Option<UrlSearchParams> {
    let search = web_sys::window()?.location().search().ok()?;
    UrlSearchParams::new_with_str(&search).ok()
}

/// Reads the address.
pub fn read() -> Request {
    let Some(p) = params() else {
        return Request::default();
    };
    let mut request = Request::default();
    if let Some(value) = p.get("spec").filter(|v| !v.is_empty()) {
        match link::SPEC.decode(&value) {
            Ok(text) => request.text = Some(text),
            Err(e) => request.link_error = Some(e),
        }
    } else if let Some(slug) = p.get("example") {
        match examples::example(&slug) {
            Some(ex) => request.text = Some(ex.text.to_string()),
            None => request.link_error = Some(format!("there is no example called “{slug}”")),
        }
    }
    request.permutation = p
        .get("permutation")
        .and_then(|v| v.parse::<usize>().ok())
        .and_then(|n| n.checked_sub(1));
    request.step = p
        .get("step")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
        .min(super::model::MOVES_MAX);
    request.by_hand = p.get("by-hand").map(|v| {
        v.split(',')
            .filter(|s| !s.is_empty())
            .take(super::model::MOVES_MAX)
            .map(str::to_string)
            .collect()
    });
    request
}

/// The query string for a sandbox's state; also says why the spec is not in it when it is
/// too long for a link.
pub fn query(sandbox: &Sandbox) -> (String, Option<String>) {
    let Ok(params) = UrlSearchParams::new() else {
        return ("?".into(), None);
    };
    let mut problem = None;
    match examples::example_with_text(&sandbox.text) {
        Some(ex) => params.append("example", ex.slug),
        None => match link::SPEC.encode(&sandbox.text) {
            Ok(value) => params.append("spec", &value),
            Err(e) => problem = Some(e),
        },
    }
    match sandbox.plan {
        Plan::Permutation(i) => {
            if i > 0 {
                params.append("permutation", &(i + 1).to_string());
            }
            if !sandbox.moves.is_empty() {
                params.append("step", &sandbox.moves.len().to_string());
            }
        }
        Plan::ByHand => {
            let steps: Vec<String> = sandbox
                .moves
                .iter()
                .map(|m| match &m.kind {
                    MoveKind::Launch(entry) => entry.step.clone(),
                    MoveKind::Finish => ".".to_string(),
                })
                .collect();
            params.append("by-hand", &steps.join(","));
        }
    }
    let text: String = params.to_string().into();
    (format!("?{text}"), problem)
}

/// Replaces the address without reloading or adding a history entry.
pub fn replace(query: &str) {
    crate::url::replace_with(query.to_string());
}

/// The full address of a query, for the share box.
pub fn full_url(query: &str) -> String {
    let Some(location) = web_sys::window().map(|w| w.location()) else {
        return query.to_string();
    };
    let origin = location.origin().unwrap_or_default();
    let path = location.pathname().unwrap_or_default();
    format!("{origin}{path}{query}")
}
