//! Small page choices remembered across visits in localStorage (which tab of panels is open,
//! whether the whole story is shown), each under a `lockstep.` key. Without storage (a
//! private window that refuses it) the page simply forgets.

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

/// The value remembered under `key`, if any.
pub fn get(key: &str) -> Option<String> {
    storage()?.get_item(key).ok().flatten()
}

/// Remembers `value` under `key`.
pub fn set(key: &str, value: &str) {
    if let Some(storage) = storage() {
        let _ = storage.set_item(key, value);
    }
}
