//! "Check every schedule", in a Web Worker: the explorer runs in the `worker/` crate's bundle,
//! which the page loads on the first check, so a lesson page neither pays for the explorer's
//! code up front nor gives up its main thread to the search. The page sends what to check
//! (the lesson, the fix, the knobs) and shows the worker's progress; Cancel terminates the
//! worker, and the next check starts a fresh one. The check panel and the pool-sizing sweep
//! each hold one checker; the keyboard starts and cancels the lesson's.

use crate::origin::Origin;
use leptos::prelude::*;
use lockstep::explore::STATES_MAX_DEFAULT;
use lockstep::lesson::KnobValues;
pub use lockstep_worker::{CheckLine, CheckResult, FoundFailure};
use lockstep_worker::{Reply, Request};
use serde::Serialize;
use std::sync::Arc;
use wasm_bindgen::prelude::*;
use web_sys::{MessageEvent, Worker};

/// The most distinct states one check may record in the browser: the same bound as
/// `lockstep check`, so the page and the command line give the same verdicts. The explorer's
/// bookkeeping for this many stays within a few tens of MB.
pub const CHECK_STATES_MAX: usize = STATES_MAX_DEFAULT;

/// The worker's script, which Trunk writes beside the page (`index.html`).
pub(crate) const WORKER_SCRIPT: &str = "./lockstep-worker_loader.js";

/// Where the check stands.
#[derive(Clone, Debug, PartialEq)]
pub enum CheckPhase {
    /// Not started (or the scenario changed since).
    Idle,
    /// Exploring.
    Running {
        /// Distinct states so far.
        states: usize,
        /// Steps taken so far.
        transitions: u64,
        /// Failure kinds found so far.
        failures: usize,
        /// For a whole-lesson check, the search under way ("fix order-by").
        what: Option<String>,
    },
    /// Cancelled by the user after this many states.
    Cancelled { states: usize },
    /// The check could not run (the worker failed to load, or refused the request).
    Broken(String),
    /// Done.
    Done(CheckResult),
    /// A whole-lesson check is done: each search as `lockstep check` words it.
    LessonDone {
        /// Every line is as the lesson promises.
        ok: bool,
        /// One line a search.
        lines: Vec<CheckLine>,
    },
}

/// What one check is about: the lesson's scenario with a fix and knob values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scenario {
    /// The lesson's slug.
    pub lesson: String,
    /// The fix applied, if any.
    pub fix: Option<String>,
    /// The learner's knob values.
    pub knobs: KnobValues,
}

/// A running worker and what the page still has to tell it.
struct Connection {
    worker: Worker,
    /// It has said it listens.
    ready: bool,
    /// A request waiting for it to listen.
    pending: Option<String>,
    /// Its listeners, kept as long as it lives.
    _listeners: [Closure<dyn FnMut(JsValue)>; 2],
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.worker.terminate();
    }
}

/// The check's state, provided by context so the keyboard can start and cancel it.
#[derive(Clone, Copy)]
pub struct Checker {
    /// Where it stands.
    pub phase: RwSignal<CheckPhase>,
    /// The worker, once a check has started it.
    connection: StoredValue<Option<Connection>, LocalStorage>,
    /// The request whose replies count; replies to any other are stale.
    current: StoredValue<u64>,
    /// End the search at the first failure found (the question is only whether one exists).
    first_failure: bool,
    /// The most distinct states one check may record.
    states_max: usize,
    /// A lesson written in the studio, as the JSON the worker reads: the worker knows only the
    /// course's lessons by name.
    authored: StoredValue<Option<Arc<str>>>,
}

impl Checker {
    /// An idle checker for the page's lesson: the [`Origin`] provided by context says whether
    /// that is a course lesson or one written in the studio.
    pub fn new() -> Checker {
        let authored = use_context::<Origin>().and_then(|o| o.authored_json());
        Checker {
            phase: RwSignal::new(CheckPhase::Idle),
            connection: StoredValue::new_local(None),
            current: StoredValue::new(0),
            first_failure: false,
            states_max: CHECK_STATES_MAX,
            authored: StoredValue::new(authored),
        }
    }

    /// A checker that only asks whether some schedule fails: it stops at the first failure, and
    /// at `states_max` distinct states.
    pub fn until_first_failure(states_max: usize) -> Checker {
        Checker {
            first_failure: true,
            states_max,
            ..Checker::new()
        }
    }

    /// Whether a check is running.
    pub fn running(&self) -> bool {
        matches!(self.phase.get_untracked(), CheckPhase::Running { .. })
    }

    /// Starts checking every schedule of `scenario`, cancelling any check in progress.
    pub fn start(self, scenario: Scenario) {
        self.send(scenario, false);
    }

    /// Starts checking the whole lesson as `lockstep check` does: the bug found, every fix as
    /// it promises, every challenge solvable.
    pub fn start_whole_lesson(self, lesson: String) {
        let scenario = Scenario {
            lesson,
            fix: None,
            knobs: KnobValues::new(),
        };
        self.send(scenario, true);
    }

    fn send(self, scenario: Scenario, whole_lesson: bool) {
        if self.running() {
            // The worker answers one request at a time: a new one needs a new worker.
            self.connection.set_value(None);
        }
        self.current.update_value(|id| *id += 1);
        let request = Request {
            id: self.current.get_value(),
            lesson: scenario.lesson,
            authored: self.authored.get_value().map(|json| json.to_string()),
            whole_lesson,
            fix: scenario.fix,
            knobs: scenario.knobs,
            first_failure: self.first_failure,
            states_max: self.states_max,
            draw: None,
        };
        let text = request_text(&request);
        self.phase.set(CheckPhase::Running {
            states: 0,
            transitions: 0,
            failures: 0,
            what: None,
        });
        if self.connection.with_value(Option::is_none) {
            match self.connect() {
                Ok(connection) => self.connection.set_value(Some(connection)),
                Err(message) => return self.phase.set(CheckPhase::Broken(message)),
            }
        }
        self.connection.update_value(|connection| {
            let Some(connection) = connection else { return };
            if connection.ready {
                post(&connection.worker, &text);
            } else {
                connection.pending = Some(text);
            }
        });
    }

    /// Stops a running check, keeping how far it came.
    pub fn cancel(self) {
        if let CheckPhase::Running { states, .. } = self.phase.get_untracked() {
            self.phase.set(CheckPhase::Cancelled { states });
            self.connection.set_value(None);
        }
    }

    /// Forgets any result: the scenario it was about has changed.
    pub fn clear(self) {
        if self.running() {
            self.connection.set_value(None);
        }
        self.current.update_value(|id| *id += 1);
        if self.phase.get_untracked() != CheckPhase::Idle {
            self.phase.set(CheckPhase::Idle);
        }
    }

    /// Ends the worker without touching the phase (the page is going away).
    pub fn drop_search(self) {
        self.current.update_value(|id| *id += 1);
        self.connection.set_value(None);
    }

    /// Starts the worker and listens to it.
    fn connect(self) -> Result<Connection, String> {
        let worker = Worker::new(WORKER_SCRIPT)
            .map_err(|e| format!("the checker could not start: {e:?}"))?;
        let on_message = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
            let text = event
                .unchecked_into::<MessageEvent>()
                .data()
                .as_string()
                .unwrap_or_default();
            match reply_of(&text) {
                Ok(reply) => self.hear(reply),
                Err(e) => self.break_with(format!("the checker said something unreadable: {e}")),
            }
        });
        let on_error = Closure::<dyn FnMut(JsValue)>::new(move |_| {
            self.break_with("the checker stopped with an error".to_string());
        });
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        Ok(Connection {
            worker,
            ready: false,
            pending: None,
            _listeners: [on_message, on_error],
        })
    }

    /// One reply from the worker.
    fn hear(self, reply: Reply) {
        let current = self.current.get_value();
        match reply {
            Reply::Ready => self.connection.update_value(|connection| {
                let Some(connection) = connection else { return };
                connection.ready = true;
                if let Some(text) = connection.pending.take() {
                    post(&connection.worker, &text);
                }
            }),
            Reply::Progress {
                id,
                states,
                transitions,
                failures,
                what,
            } if id == current && self.running() => self.phase.set(CheckPhase::Running {
                states,
                transitions,
                failures,
                what,
            }),
            Reply::Done { id, result } if id == current && self.running() => {
                self.phase.set(CheckPhase::Done(result));
            }
            Reply::LessonChecked { id, ok, lines } if id == current && self.running() => {
                self.phase.set(CheckPhase::LessonDone { ok, lines });
            }
            Reply::Refused { id, message } if id == current || id == 0 => {
                self.break_with(message);
            }
            _ => {}
        }
    }

    /// The check cannot go on: says why, and lets the next check start a fresh worker.
    fn break_with(self, message: String) {
        if self.running() {
            self.phase.set(CheckPhase::Broken(message));
        }
        // Dropped a frame later, not now: this runs inside one of the worker's own listeners.
        let dead = self.connection.try_update_value(Option::take).flatten();
        if let Some(dead) = dead {
            dead.worker.terminate();
            request_animation_frame(move || drop(dead));
        }
    }
}

impl Default for Checker {
    fn default() -> Checker {
        Checker::new()
    }
}

pub(crate) fn post(worker: &Worker, text: &str) {
    // Posting a string cannot fail (nothing to clone that could throw).
    let _ = worker.post_message(&JsValue::from_str(text));
}

/// A count with thousands separators, as people read it.
pub fn thousands(n: impl ToString) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A request as the text the worker reads (JSON), written by the browser's `JSON.stringify`:
/// the page carries no JSON writer or reader of its own.
pub(crate) fn request_text(request: &Request) -> String {
    let value = request
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .expect("requests serialize");
    js_sys::JSON::stringify(&value)
        .ok()
        .and_then(|text| text.as_string())
        .expect("a request is plain data")
}

/// A reply from the worker's text, read by the browser's `JSON.parse`.
pub(crate) fn reply_of(text: &str) -> Result<Reply, String> {
    let value = js_sys::JSON::parse(text).map_err(|e| format!("{e:?}"))?;
    serde_wasm_bindgen::from_value(value).map_err(|e| e.to_string())
}
