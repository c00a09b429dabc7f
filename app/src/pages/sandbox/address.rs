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
    /// The link's spec, still packed ([`unpack`] opens it).
    pub packed: Option<String>,
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
        request.packed = Some(value);
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

/// The request with the link's spec opened (the browser inflates it, asynchronously).
pub async fn unpack(mut request: Request) -> Request {
    if let Some(value) = request.packed.take() {
        match link::SPEC.decode(&value).await {
            Ok(text) => request.text = Some(text),
            Err(e) => request.link_error = Some(e),
        }
    }
    request
}

/// A spec packed for the address: made once for each text the sandbox runs, since the browser
/// compresses asynchronously.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packed {
    /// The spec's text.
    pub text: String,
    /// Its `spec=` value, or why it cannot travel in a link.
    pub value: Result<String, String>,
}

impl Packed {
    /// Packs a spec's text.
    pub async fn new(text: String) -> Packed {
        let value = link::SPEC.encode(&text).await;
        Packed { text, value }
    }
}

/// Whether a spec's text needs packing to travel in the address: a shipped example travels by
/// name.
pub fn needs_packing(text: &str) -> bool {
    examples::example_with_text(text).is_none()
}

/// The query string for a sandbox's state, with the spec `packed` (for a spec other than an
/// example); also says why the spec is not in it when it is too long for a link. `None` while
/// the sandbox's spec is not packed yet.
pub fn query(sandbox: &Sandbox, packed: Option<&Packed>) -> Option<(String, Option<String>)> {
    let Ok(params) = UrlSearchParams::new() else {
        return Some(("?".into(), None));
    };
    let mut problem = None;
    match examples::example_with_text(&sandbox.text) {
        Some(ex) => params.append("example", ex.slug),
        None => match &packed.filter(|p| p.text == sandbox.text)?.value {
            Ok(value) => params.append("spec", value),
            Err(e) => problem = Some(e.clone()),
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
    Some((format!("?{text}"), problem))
}

/// Replaces the address without reloading or adding a history entry.
pub fn replace(query: &str) {
    crate::url::replace_with(query.to_string());
}

/// The page's address as it stands, for the share box: it follows the run
/// ([`replace`]; written now if a write is still waiting).
pub fn full_url() -> String {
    crate::url::write_pending();
    web_sys::window()
        .and_then(|w| w.location().href().ok())
        .unwrap_or_default()
}
