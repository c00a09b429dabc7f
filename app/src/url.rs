//! The page's state in its address: `?lesson=SLUG&fix=FIX&step=N` plus any knobs turned
//! (`&requests=5`), or `&schedule=S` (the
//! moves themselves, `A A B +`) once the learner has chosen a move Step would not have, and
//! `&embed=1` for the compact view inside an iframe, `&workshop=1` for large type on a projector,
//! `&panel=NAME` for the panel shown beside the tasks instead of the lesson's own key panel,
//! `&challenge=ID` for one of the lesson's challenges, open. A lesson written in the studio
//! travels whole instead of by slug: `studio.html?lesson_src=TEXT` (its file, packed by
//! [`crate::link::LESSON`]).

use leptos::prelude::{set_timeout_with_handle, TimeoutHandle};
use lockstep::lesson::KnobValues;
use std::cell::{Cell, RefCell};
use std::time::Duration;
use web_sys::UrlSearchParams;

/// What the address asks for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UrlState {
    /// The lesson's slug.
    pub lesson: Option<String>,
    /// A studio lesson's file, packed ([`crate::link::LESSON`]), still to be unpacked.
    pub lesson_src: Option<String>,
    /// The fix's slug.
    pub fix: Option<String>,
    /// How many steps to take at start.
    pub step: usize,
    /// The moves to replay at start, when the learner chose them.
    pub schedule: Option<String>,
    /// The compact view for an iframe.
    pub embed: bool,
    /// Large type for a projector.
    pub workshop: bool,
    /// Knobs turned away from their setting (`&requests=5&max_conns=3`).
    pub knobs: KnobValues,
    /// The panel to show beside the tasks (`&panel=pool`), instead of the lesson's key panel.
    /// Kept as written: a name the page does not know is ignored where it is used.
    pub panel: Option<String>,
    /// The challenge open (`&challenge=make-it-hang`). Kept as written: an id the lesson does
    /// not have is ignored where it is used.
    pub challenge: Option<String>,
}

/// The state a list of query parameters asks for. Pure, so any address, however hostile, is
/// decoded the same way natively (where the property tests run) and in the browser: unknown
/// parameters are ignored, malformed numbers are dropped, empty values mean "not given".
pub fn decode<I, K, V>(pairs: I) -> UrlState
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    let mut state = UrlState::default();
    let flag = |v: &str| v == "1" || v == "true";
    let text = |v: &str| (!v.trim().is_empty()).then(|| v.to_string());
    let mut seen = std::collections::BTreeSet::new();
    for (name, value) in pairs {
        let (name, value) = (name.as_ref(), value.as_ref());
        // The first of a repeated parameter wins, as `URLSearchParams.get` has it.
        if !seen.insert(name.to_string()) {
            continue;
        }
        match name {
            "lesson" => state.lesson = text(value),
            "lesson_src" => state.lesson_src = text(value),
            "fix" => state.fix = text(value),
            "schedule" => state.schedule = text(value),
            "step" => state.step = value.parse().unwrap_or(0),
            "embed" => state.embed = flag(value),
            "workshop" => state.workshop = flag(value),
            "panel" => state.panel = text(value),
            "challenge" => state.challenge = text(value),
            _ => {
                // Every `NAME=NUMBER` parameter that is not one of the page's own is a knob.
                if let Ok(number) = value.parse() {
                    state.knobs.insert(name.to_string(), number);
                }
            }
        }
    }
    state
}

/// The query parameters for a state, in the order the page writes them; `decode` reads them
/// back to the same state.
pub fn encode(state: &UrlState) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    let mut push = |name: &str, value: String| pairs.push((name.to_string(), value));
    if let Some(l) = &state.lesson {
        push("lesson", l.clone());
    }
    if let Some(src) = &state.lesson_src {
        push("lesson_src", src.clone());
    }
    if let Some(f) = &state.fix {
        push("fix", f.clone());
    }
    for (name, value) in &state.knobs {
        push(name, value.to_string());
    }
    match &state.schedule {
        Some(schedule) => push("schedule", schedule.clone()),
        None if state.step > 0 => push("step", state.step.to_string()),
        None => {}
    }
    if state.embed {
        push("embed", "1".into());
    }
    if state.workshop {
        push("workshop", "1".into());
    }
    if let Some(panel) = &state.panel {
        push("panel", panel.clone());
    }
    if let Some(challenge) = &state.challenge {
        push("challenge", challenge.clone());
    }
    pairs
}

/// Reads the address, after writing one still due (see [`replace`]): what it reads is the
/// page's latest state.
pub fn read() -> UrlState {
    write_pending();
    let Some(search) = web_sys::window().and_then(|w| w.location().search().ok()) else {
        return UrlState::default();
    };
    let Ok(params) = UrlSearchParams::new_with_str(&search) else {
        return UrlState::default();
    };
    let Ok(Some(entries)) = js_sys::try_iter(&params) else {
        return UrlState::default();
    };
    decode(entries.flatten().filter_map(|entry| {
        let pair = js_sys::Array::from(&entry);
        Some((pair.get(0).as_string()?, pair.get(1).as_string()?))
    }))
}

/// The query string for a state.
pub fn query(state: &UrlState) -> String {
    let Ok(params) = UrlSearchParams::new() else {
        return String::new();
    };
    for (name, value) in encode(state) {
        params.append(&name, &value);
    }
    let text: String = params.to_string().into();
    if text.is_empty() {
        "?".to_string()
    } else {
        format!("?{text}")
    }
}

/// An address still to write: made only when it is written, so a burst of Steps builds one.
type Address = Box<dyn FnOnce() -> String>;

thread_local! {
    /// The address still to write, if one is due.
    static PENDING: RefCell<Option<Address>> = const { RefCell::new(None) };
    /// When the oldest change not yet written was made (ms, `performance.now()`).
    static DUE_SINCE: Cell<f64> = const { Cell::new(0.0) };
    /// The timer that writes the due address.
    static TIMER: Cell<Option<TimeoutHandle>> = const { Cell::new(None) };
    /// Whether the page writes a due address as it goes away.
    static WRITES_ON_PAGEHIDE: Cell<bool> = const { Cell::new(false) };
}

/// How long the address waits for the page to go quiet before it is written.
const QUIET_MS: f64 = 250.0;
/// How long a change waits at most while the page keeps changing (Play at full speed).
const LONGEST_WAIT_MS: f64 = 1000.0;

/// Replaces the address without reloading or adding a history entry: once the page has been
/// quiet for [`QUIET_MS`] (or [`LONGEST_WAIT_MS`] after a change, at the latest), always with
/// the latest state, and at once if the page goes away (reload, a link followed) or
/// [`read`] asks. In Chromium one `replaceState` takes 1 to 3 ms of the main thread on a
/// 2-core machine, more than the engine's share of a Step: a learner's Step is drawn first and
/// the address is written in the pause after it, and Play or quick Steps pay it about once a
/// second instead of once a Step.
pub fn replace(state: &UrlState) {
    let state = state.clone();
    replace_later(Box::new(move || query(&state)));
}

/// [`replace`] for any address (the sandbox's has its own parameters).
pub fn replace_with(url: String) {
    replace_later(Box::new(move || url));
}

fn replace_later(address: Address) {
    let now = now_ms();
    if PENDING.with(|pending| pending.borrow_mut().replace(address).is_none()) {
        DUE_SINCE.set(now);
    }
    let wait = QUIET_MS
        .min(DUE_SINCE.get() + LONGEST_WAIT_MS - now)
        .max(0.0);
    if let Some(timer) = TIMER.take() {
        timer.clear();
    }
    let timer = set_timeout_with_handle(write_pending, Duration::from_millis(wait as u64));
    TIMER.set(timer.ok());
    if !WRITES_ON_PAGEHIDE.replace(true) {
        std::mem::forget(leptos::prelude::window_event_listener_untyped(
            "pagehide",
            |_| write_pending(),
        ));
    }
}

fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}

/// Writes the due address now, if any.
pub fn write_pending() {
    if let Some(timer) = TIMER.take() {
        timer.clear();
    }
    let Some(address) = PENDING.with(|pending| pending.borrow_mut().take()) else {
        return;
    };
    if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&address()));
    }
}

#[cfg(test)]
#[path = "url_proptest.rs"]
mod proptests;
