//! The page's state in its address: `?lesson=SLUG&fix=FIX&step=N`.

use web_sys::UrlSearchParams;

/// What the address asks for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UrlState {
    /// The lesson's slug.
    pub lesson: Option<String>,
    /// The fix's slug.
    pub fix: Option<String>,
    /// How many steps to take at start.
    pub step: usize,
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
    if state.step > 0 {
        params.append("step", &state.step.to_string());
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
