//! The page's state in its address: `?lesson=SLUG&fix=FIX&step=N` plus any knobs turned
//! (`&requests=5`), or `&schedule=S` (the
//! moves themselves, `A A B +`) once the learner has chosen a move Step would not have, and
//! `&embed=1` for the compact view inside an iframe, `&workshop=1` for large type on a projector.

use lockstep::lesson::KnobValues;
use web_sys::UrlSearchParams;

/// The parameters with a meaning of their own; any other `NAME=NUMBER` is a lesson knob.
const RESERVED: &[&str] = &["lesson", "fix", "step", "schedule", "embed", "workshop"];

/// What the address asks for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UrlState {
    /// The lesson's slug.
    pub lesson: Option<String>,
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
}

/// Every `NAME=NUMBER` parameter that is not one of the page's own.
fn knobs_of(params: &UrlSearchParams) -> KnobValues {
    let mut knobs = KnobValues::new();
    let Ok(Some(entries)) = js_sys::try_iter(params) else {
        return knobs;
    };
    for entry in entries.flatten() {
        let pair = js_sys::Array::from(&entry);
        let (Some(name), Some(value)) = (pair.get(0).as_string(), pair.get(1).as_string()) else {
            continue;
        };
        if RESERVED.contains(&name.as_str()) {
            continue;
        }
        if let Ok(value) = value.parse() {
            knobs.insert(name, value);
        }
    }
    knobs
}

/// Reads the address.
pub fn read() -> UrlState {
    let Some(search) = web_sys::window().and_then(|w| w.location().search().ok()) else {
        return UrlState::default();
    };
    let Ok(params) = UrlSearchParams::new_with_str(&search) else {
        return UrlState::default();
    };
    UrlState {
        lesson: params.get("lesson").filter(|s| !s.is_empty()),
        fix: params.get("fix").filter(|s| !s.is_empty()),
        step: params.get("step").and_then(|s| s.parse().ok()).unwrap_or(0),
        schedule: params.get("schedule").filter(|s| !s.trim().is_empty()),
        embed: params.get("embed").is_some_and(|e| e == "1" || e == "true"),
        workshop: params
            .get("workshop")
            .is_some_and(|e| e == "1" || e == "true"),
        knobs: knobs_of(&params),
    }
}

/// The query string for a state.
pub fn query(state: &UrlState) -> String {
    let Ok(params) = UrlSearchParams::new() else {
        return String::new();
    };
    if let Some(l) = &state.lesson {
        params.append("lesson", l);
    }
    if let Some(f) = &state.fix {
        params.append("fix", f);
    }
    for (name, value) in &state.knobs {
        params.append(name, &value.to_string());
    }
    match &state.schedule {
        Some(schedule) => params.append("schedule", schedule),
        None if state.step > 0 => params.append("step", &state.step.to_string()),
        None => {}
    }
    if state.embed {
        params.append("embed", "1");
    }
    if state.workshop {
        params.append("workshop", "1");
    }
    let text: String = params.to_string().into();
    if text.is_empty() {
        "?".to_string()
    } else {
        format!("?{text}")
    }
}

/// Replaces the address without reloading or adding a history entry.
pub fn replace(state: &UrlState) {
    let url = query(state);
    if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
    }
}
