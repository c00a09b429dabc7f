//! Progress in localStorage: `lockstep.done` lists finished lessons, `lockstep.seen` the
//! lessons whose bug the learner has seen (a lesson is done once its bug was seen and a fix was
//! played to the end). Both hold a JSON array of slugs.

const DONE_KEY: &str = "lockstep.done";
const SEEN_KEY: &str = "lockstep.seen";

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

fn read(key: &str) -> Vec<String> {
    let Some(text) = storage().and_then(|s| s.get_item(key).ok().flatten()) else {
        return Vec::new();
    };
    text.trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .split(',')
        .map(|s| s.trim().trim_matches('"').to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

fn add(key: &str, slug: &str) {
    let mut slugs = read(key);
    if slugs.iter().any(|s| s == slug) {
        return;
    }
    slugs.push(slug.to_string());
    let quoted: Vec<String> = slugs.iter().map(|s| format!("\"{s}\"")).collect();
    if let Some(s) = storage() {
        let _ = s.set_item(key, &format!("[{}]", quoted.join(",")));
    }
}

/// The lessons marked done.
pub fn done() -> Vec<String> {
    read(DONE_KEY)
}

/// Records that the learner saw this lesson's bug.
pub fn mark_seen(slug: &str) {
    add(SEEN_KEY, slug);
}

/// Records that a fix was played to the end; the lesson is done if its bug was seen.
pub fn mark_fixed(slug: &str) {
    if read(SEEN_KEY).iter().any(|s| s == slug) {
        add(DONE_KEY, slug);
    }
}
