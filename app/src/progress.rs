//! Progress in localStorage, each key a JSON array of strings: `lockstep.seen` the lessons
//! whose bug the learner has seen, `lockstep.done` the lessons done (bug seen, then a fix played
//! to the end), `lockstep.tried` every fix played to the end (`SLUG/FIX`), `lockstep.solved`
//! every challenge met (`SLUG/ID`).
//!
//! The studio's lessons are not the course: on its page, [`keep_off_the_course`] keeps
//! progress in memory for as long as the page lives, so an authored lesson that reuses a
//! course slug never marks the course's lesson done.

use std::cell::RefCell;
use std::collections::BTreeMap;

const DONE_KEY: &str = "lockstep.done";
const SEEN_KEY: &str = "lockstep.seen";
const TRIED_KEY: &str = "lockstep.tried";
const SOLVED_KEY: &str = "lockstep.solved";

thread_local! {
    /// Progress kept off the course, by key; `None` on the course's pages.
    static OFF_THE_COURSE: RefCell<Option<BTreeMap<String, Vec<String>>>> = const { RefCell::new(None) };
}

/// From now on, this page's progress stays in memory and off the course's record.
pub fn keep_off_the_course() {
    OFF_THE_COURSE.with(|off| {
        off.borrow_mut().get_or_insert_with(BTreeMap::new);
    });
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

fn read(key: &str) -> Vec<String> {
    let off = OFF_THE_COURSE.with(|off| {
        off.borrow()
            .as_ref()
            .map(|store| store.get(key).cloned().unwrap_or_default())
    });
    if let Some(entries) = off {
        return entries;
    }
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

fn add(key: &str, entry: &str) {
    let mut entries = read(key);
    if entries.iter().any(|s| s == entry) {
        return;
    }
    entries.push(entry.to_string());
    let kept = OFF_THE_COURSE.with(|off| {
        off.borrow_mut()
            .as_mut()
            .map(|store| store.insert(key.to_string(), entries.clone()))
            .is_some()
    });
    if kept {
        return;
    }
    let quoted: Vec<String> = entries.iter().map(|s| format!("\"{s}\"")).collect();
    if let Some(s) = storage() {
        let _ = s.set_item(key, &format!("[{}]", quoted.join(",")));
    }
}

/// The lessons marked done.
pub fn done() -> Vec<String> {
    read(DONE_KEY)
}

/// Whether the learner saw this lesson's bug.
pub fn seen(slug: &str) -> bool {
    read(SEEN_KEY).iter().any(|s| s == slug)
}

/// The fixes of this lesson played to the end.
pub fn tried(slug: &str) -> Vec<String> {
    in_lesson(TRIED_KEY, slug)
}

/// The challenges of this lesson met.
pub fn solved(slug: &str) -> Vec<String> {
    in_lesson(SOLVED_KEY, slug)
}

fn in_lesson(key: &str, slug: &str) -> Vec<String> {
    read(key)
        .into_iter()
        .filter_map(|e| {
            let (lesson, item) = e.split_once('/')?;
            (lesson == slug).then(|| item.to_string())
        })
        .collect()
}

/// Records that the learner saw this lesson's bug.
pub fn mark_seen(slug: &str) {
    add(SEEN_KEY, slug);
}

/// Records that `fix` was played to the end; the lesson is done if its bug was seen.
pub fn mark_fixed(slug: &str, fix: &str) {
    add(TRIED_KEY, &format!("{slug}/{fix}"));
    if seen(slug) {
        add(DONE_KEY, slug);
    }
}

/// Records that the challenge `id` of this lesson was met.
pub fn mark_solved(slug: &str, id: &str) {
    add(SOLVED_KEY, &format!("{slug}/{id}"));
}

/// Forgets all progress.
pub fn reset() {
    if let Some(s) = storage() {
        for key in [DONE_KEY, SEEN_KEY, TRIED_KEY, SOLVED_KEY] {
            let _ = s.remove_item(key);
        }
    }
}
