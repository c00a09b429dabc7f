//! The stage's code made ready before the learner's first Step.
//!
//! Chromium compiles a WebAssembly function the first time it is called, with its baseline
//! compiler (V8's lazy compilation and Liftoff), and a lesson's first Step is the first call of
//! most of the engine and of the code that updates the stage: it took 16–32 ms where later
//! Steps took 5–8 (the six lessons in Chromium, 2026-12-06). So half a second after the page
//! is built, once it is idle, [`start`] plays the lesson from the start on a scratch session
//! (the learner's fix and knobs), one move per idle period, into a copy of the stage's panels
//! built in an element that is not in the document: the engine steps, the panels update,
//! nothing is laid out or drawn. When the run ends, or as soon as the learner moves or starts
//! a check (their own Steps compile the code, and the warm-up must not compete with them or
//! with the explorer's worker), the copy is unmounted and dropped. The learner's session is
//! only read: nothing the page shows, stores or puts in its address changes.

use crate::player::{Player, SessionSignal};
use crate::session::Session;
use leptos::mount::mount_to;
use leptos::prelude::*;
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;
use wasm_bindgen::JsCast;

/// The `performance.mark` set when the warm-up is over: its run dropped, or not begun because
/// the learner moved first.
pub const WARMED_MARK: &str = "lockstep-warmed";
/// How long after the page is built the warm-up begins (a reader's first click comes later).
const START_AFTER: Duration = Duration::from_millis(500);
/// No lesson's default schedule runs longer than this; the warm-up stops here in any case.
const MAX_MOVES: usize = 60;

/// The scratch run: its session and how many moves it has taken, and the panels showing it.
struct Scratch {
    /// Whether the learner has moved or started a check since the warm-up began.
    learner_busy: Rc<dyn Fn() -> bool>,
    session: SessionSignal,
    moves: usize,
    /// Unmounts the panels and disposes of their reactive state when dropped.
    _panels: Box<dyn std::any::Any>,
}

type State = Rc<RefCell<Option<Scratch>>>;

/// Where a run is: its length and its last step's id.
type Position = (usize, Option<u64>);

fn position(s: &Session) -> Position {
    (s.steps.len(), s.steps.last().map(|step| step.id))
}

/// Once the page is idle, plays a scratch run of `session`'s lesson, fix and knobs into
/// `panels` (the stage's panels, which read the session and the player from context) built off
/// the document.
pub fn start(
    session: SessionSignal,
    player: Player,
    checking: Rc<dyn Fn() -> bool>,
    panels: Box<dyn FnOnce() -> AnyView>,
) {
    let (copy, learner_at) = session.with_untracked(|s| {
        (
            Session::with_knobs(s.lesson, s.fix.as_deref(), &s.knobs),
            position(s),
        )
    });
    let Ok(copy) = copy else {
        return;
    };
    // `try_`: the page may have been rebuilt (the studio rebuilds it on every edit) and its
    // session disposed of; a warm-up left over then ends quietly.
    let learner_busy: Rc<dyn Fn() -> bool> =
        Rc::new(move || session.try_with_untracked(position) != Some(learner_at) || checking());
    let state: State = Rc::new(RefCell::new(None));
    let mount = state.clone();
    let once = RefCell::new(Some((copy, panels)));
    let mount_copy = Rc::new(move || {
        let Some((copy, panels)) = once.borrow_mut().take() else {
            return;
        };
        if learner_busy() {
            finished();
            return;
        }
        let Ok(host) = document().create_element("div") else {
            return;
        };
        let scratch = Rc::new(RefCell::new(None));
        let signal = scratch.clone();
        let handle = mount_to(host.unchecked_into(), move || {
            let run = RwSignal::new(copy);
            *signal.borrow_mut() = Some(run);
            provide_context(run);
            provide_context(player);
            panels()
        });
        let Some(run) = scratch.borrow_mut().take() else {
            return;
        };
        *mount.borrow_mut() = Some(Scratch {
            learner_busy: learner_busy.clone(),
            session: run,
            moves: 0,
            _panels: Box::new(handle),
        });
        next_move(mount.clone());
    });
    // Not in the page's first idle period: the page has just answered, and a browser (or a
    // test) checking that it has should not wait behind the copy's mounting.
    set_timeout(move || later(mount_copy), START_AFTER);
}

/// Calls `f` in the browser's next idle period (after a short timer where there is no
/// `requestIdleCallback`).
fn later(f: Rc<dyn Fn()>) {
    let call = move || f();
    if request_idle_callback_with_handle(call.clone()).is_err() {
        set_timeout(call, Duration::from_millis(20));
    }
}

/// Takes one move of the scratch run in the next idle period; the panels update after it as
/// they do after a Step. Drops the run when it ends, or as soon as the learner has moved.
fn next_move(state: State) {
    later(Rc::new(move || {
        let mut slot = state.borrow_mut();
        let Some(scratch) = slot.as_mut() else {
            return;
        };
        let moved = !(scratch.learner_busy)()
            && scratch.moves < MAX_MOVES
            && scratch.session.try_update(|s| s.step()).unwrap_or(false);
        if moved {
            scratch.moves += 1;
            drop(slot);
            next_move(state.clone());
        } else {
            slot.take();
            finished();
        }
    }));
}

/// Marks the end of the warm-up, for profiles and the browser tests.
fn finished() {
    if let Some(performance) = window().performance() {
        let _ = performance.mark(WARMED_MARK);
    }
}
