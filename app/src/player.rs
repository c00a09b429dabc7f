//! The player: the session signal every panel reads, Play and Step, the keyboard, and the
//! session changes that more than one panel makes (a knob turned). Pages provide it; panels
//! take it from context. It knows no panel.

use crate::checker::{Checker, Scenario};
use crate::session::Session;
use gloo_timers::callback::Interval;
use leptos::prelude::*;

/// The play/pause state and speed, shared by the controls and the keyboard.
#[derive(Clone, Copy)]
pub struct Player {
    /// Whether Play is on.
    pub playing: RwSignal<bool>,
    /// Milliseconds between two steps while playing.
    pub interval_ms: RwSignal<u32>,
    /// Whether the shortcut overlay is shown.
    pub help: RwSignal<bool>,
    /// Large type for a projector (`&workshop=1`).
    pub workshop: RwSignal<bool>,
    /// Whether Play pauses at the first key moment of a run.
    pub key_pauses: RwSignal<bool>,
    /// The step (in beats) at which Play last paused for a key moment, while it shows.
    pub key_pause: RwSignal<Option<usize>>,
    /// Whether Play has paused for a key moment in this run already.
    pub key_paused_in_run: RwSignal<bool>,
    /// Whether the learner is the scheduler (a challenge to make it fail is open): no Play,
    /// and Step only lets the clock run when no task can.
    pub scheduler_only: Signal<bool>,
}

impl Player {
    /// Whether Step may move now: always, except that a learner who is the scheduler picks
    /// every task's move, so Step then only lets the clock run.
    pub fn may_step(&self, session: &crate::session::Session) -> bool {
        !self.scheduler_only.get_untracked()
            || session.world().choices() == [lockstep::world::Choice::Tick]
    }
}

/// Whether a key press is typing into a form field, where letters and arrows are the field's.
fn typing_in_a_field(ev: &web_sys::KeyboardEvent) -> bool {
    use wasm_bindgen::JsCast;
    let Some(element) = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
    else {
        return false;
    };
    match element.tag_name().as_str() {
        "TEXTAREA" | "SELECT" => true,
        "INPUT" => !matches!(
            element.get_attribute("type").as_deref(),
            Some("checkbox" | "radio" | "button")
        ),
        _ => element.get_attribute("contenteditable").is_some(),
    }
}

/// Makes the running effect depend on `memo`, for a view that then reads the session itself.
/// `Memo::track` is not enough: it subscribes without bringing the memo up to date, and a
/// memo that nobody reads is never computed, so it never hears of a change (reactive_graph
/// 0.2.16, `impl Track for Memo` in src/computed/memo.rs). This is why "Who waits for whom"
/// kept the state the page loaded with.
pub fn depend_on<T: Send + Sync + 'static>(memo: Memo<T>) {
    memo.with(|_| ());
}

/// The engine state, provided by context.
pub type SessionSignal = RwSignal<Session>;

/// Steps once; stops Play when the run has ended.
pub fn step(session: SessionSignal, player: Player) {
    if !session.with_untracked(|s| player.may_step(s)) {
        return;
    }
    let declared = session.with_untracked(|s| s.outcome().is_declared());
    let mut moved = false;
    session.update(|s| moved = s.step());
    player.key_pause.set(None);
    let outcome = session.with_untracked(|s| s.outcome());
    if !moved || outcome.is_final() || (!declared && outcome.is_declared()) {
        player.playing.set(false);
    }
}

/// One step of Play: as [`step`], and the first key moment of a run pauses it (unless the
/// learner turned that off), saying so in the status line.
fn play_step(session: SessionSignal, player: Player) {
    step(session, player);
    if !player.playing.get_untracked()
        || !player.key_pauses.get_untracked()
        || player.key_paused_in_run.get_untracked()
    {
        return;
    }
    let (moments, at) = session.with_untracked(|s| (s.beat_moments(), s.beat_position()));
    if !moments.is_empty() {
        player.playing.set(false);
        player.key_paused_in_run.set(true);
        player.key_pause.set(Some(at));
    }
}

/// Starts Play (from the start if the run has ended) or pauses it.
pub fn toggle_play(session: SessionSignal, player: Player) {
    if player.playing.get_untracked() {
        player.playing.set(false);
    } else if player.scheduler_only.get_untracked() {
        // The learner picks every move; the challenge card says so.
    } else {
        if session.with_untracked(|s| s.outcome().is_final()) {
            session.update(|s| s.reset());
        }
        if session.with_untracked(|s| s.steps.is_empty()) {
            player.key_paused_in_run.set(false);
        }
        player.key_pause.set(None);
        player.playing.set(true);
    }
}

/// Sets knob `name` to `value` and starts the run again.
pub fn set_knob(session: SessionSignal, player: Player, name: &str, value: u32) {
    let (lesson, fix, mut knobs) =
        session.with_untracked(|s| (s.lesson, s.fix.clone(), s.knobs.clone()));
    if session.with_untracked(|s| s.knob_values().get(name) == Some(&value)) {
        return;
    }
    knobs.insert(name.to_string(), value);
    player.playing.set(false);
    if let Ok(fresh) = Session::with_knobs(lesson, fix.as_deref(), &knobs) {
        session.set(fresh);
    }
}

/// Play: one step per tick of an interval that lives as long as Play is on and the page.
pub fn play_on_a_timer(session: SessionSignal, player: Player) {
    let interval = StoredValue::new_local(None::<Interval>);
    Effect::new(move |_| {
        let playing = player.playing.get();
        let ms = player.interval_ms.get();
        interval.set_value(None);
        if playing {
            interval.set_value(Some(Interval::new(ms, move || play_step(session, player))));
        }
    });
    on_cleanup(move || interval.set_value(None));
}

/// The lesson's keyboard shortcuts (the help overlay lists them), for as long as the page lives.
pub fn listen_to_keys(session: SessionSignal, player: Player, checker: Checker) {
    let keys = window_event_listener(leptos::ev::keydown, move |ev| {
        if ev.ctrl_key() || ev.meta_key() || ev.alt_key() || typing_in_a_field(&ev) {
            return;
        }
        let pause = || player.playing.set(false);
        let handled = match ev.key().as_str() {
            " " | "p" => {
                toggle_play(session, player);
                true
            }
            "ArrowRight" | "s" => {
                pause();
                step(session, player);
                true
            }
            "ArrowLeft" | "b" => {
                pause();
                session.update(|s| {
                    s.back();
                });
                player.key_pause.set(None);
                true
            }
            "Home" => {
                pause();
                session.update(|s| s.seek(0));
                true
            }
            "End" => {
                pause();
                session.update(|s| s.seek(usize::MAX));
                true
            }
            "r" => {
                pause();
                session.update(|s| s.reset());
                true
            }
            "c" => {
                if checker.running() {
                    checker.cancel();
                } else {
                    start_check(session, checker);
                }
                true
            }
            "w" => {
                player.workshop.update(|w| *w = !*w);
                true
            }
            "?" => {
                player.help.update(|h| *h = !*h);
                true
            }
            "Escape" => {
                player.help.set(false);
                if checker.running() {
                    checker.cancel();
                }
                true
            }
            digit if digit.len() == 1 && digit.as_bytes()[0].is_ascii_digit() && digit != "0" => {
                // 1-9 run the n-th task next, like clicking its lane.
                let n = usize::from(digit.as_bytes()[0] - b'1');
                pause();
                session.update(|s| {
                    if let Some(task) = s.world().task_views().get(n).map(|t| t.id) {
                        s.run_task(task);
                    }
                });
                true
            }
            _ => false,
        };
        if handled {
            ev.prevent_default();
            keep_changes_in_view();
        }
    });
    on_cleanup(move || keys.remove());
}

/// What a move changed, in the order the eye looks for it: a lane, a row version, a new edge
/// of the wait-for graph.
const CHANGED_SELECTOR: &str = ".lane.changed, tr.tuple.changed, .edges li.new";

/// After the page has drawn the move: scrolls the first thing it changed into view, if it is
/// not in view already (a projector in workshop mode shows less of the page at once).
pub fn keep_changes_in_view() {
    request_animation_frame(|| {
        let Some(changed) = document().query_selector(CHANGED_SELECTOR).ok().flatten() else {
            return;
        };
        let options = web_sys::ScrollIntoViewOptions::new();
        options.set_block(web_sys::ScrollLogicalPosition::Nearest);
        options.set_inline(web_sys::ScrollLogicalPosition::Nearest);
        changed.scroll_into_view_with_scroll_into_view_options(&options);
    });
}

/// Starts a check of the session's current scenario.
pub fn start_check(session: SessionSignal, checker: Checker) {
    let scenario = session.with_untracked(|s| Scenario {
        lesson: s.lesson.slug.clone(),
        fix: s.fix.clone(),
        knobs: s.knobs.clone(),
    });
    checker.start(scenario);
}
