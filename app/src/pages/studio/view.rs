//! The studio page: the lesson file in an editor (its errors at their line and column, a
//! starting point from the blank file or any course lesson, a download), "Check the lesson"
//! in the worker, and below it the lesson the file reads as, on the course's own stage. The
//! page reads the file again a moment after the author stops typing; while the file does not
//! read, the last version that did stays on the stage.
//!
//! The address carries the whole file (`lesson_src=`, see [`crate::link`]), so a shared link or
//! an embed replays the author's lesson at the same fix and step; `?lesson=SLUG` starts from a
//! copy of a course lesson; with neither, the blank file.

use super::file::{self, FileError};
use crate::checker::{thousands, CheckLine, CheckPhase, Checker};
use crate::origin::{Authored, Origin};
use crate::pages::lesson::LessonView;
use crate::{cursor, export, link, url};
use gloo_timers::callback::Timeout;
use leptos::html::Textarea;
use leptos::prelude::*;
use lockstep_lessons::Lesson;

/// Milliseconds without typing before the page reads the file again: long enough not to
/// rebuild the stage at every key, short enough to feel immediate.
const READ_AFTER_MS: u32 = 400;

/// The lesson on the stage: the last version of the file that read.
#[derive(Clone)]
struct Shown {
    /// The lesson. Each version that reads is kept for the page's life (the stage's panels
    /// hold it by reference); a version is made only when the text that reads has changed.
    lesson: &'static Lesson,
    /// Its file as the checker and the address need it.
    authored: Authored,
    /// The text it was read from.
    text: String,
}

/// The studio's state: the editor's text, why it does not read, the lesson shown.
#[derive(Clone, Copy)]
struct Studio {
    text: RwSignal<String>,
    problem: RwSignal<Option<FileError>>,
    shown: RwSignal<Option<Shown>>,
    /// The typing pause being waited for.
    pending: StoredValue<Option<Timeout>, LocalStorage>,
    /// How many times the text has been read: a version that read goes on the stage once the
    /// browser has packed it for the address, unless a later reading came first.
    readings: StoredValue<u64>,
}

impl Studio {
    /// Reads the editor's text now; a text that reads replaces the lesson on the stage (as soon
    /// as the browser has packed it for the address). Says whether it reads.
    fn read_now(self) -> bool {
        self.pending.set_value(None);
        self.readings.update_value(|n| *n += 1);
        let reading = self.readings.get_value();
        let text = self.text.get_untracked();
        let unchanged = self
            .shown
            .with_untracked(|s| s.as_ref().is_some_and(|s| s.text == text));
        if unchanged {
            self.problem.set(None);
            return true;
        }
        match file::read(&text) {
            Ok(read) => {
                self.problem.set(None);
                leptos::task::spawn_local(async move {
                    let link = link::LESSON.encode(&text).await;
                    if self.readings.try_get_value() != Some(reading) {
                        return;
                    }
                    self.shown.set(Some(Shown {
                        lesson: Box::leak(Box::new(read.lesson)),
                        authored: Authored {
                            json: read.json.into(),
                            link,
                        },
                        text,
                    }));
                });
                true
            }
            Err(e) => {
                self.problem.set(Some(e));
                false
            }
        }
    }

    /// Reads the text once the author has paused.
    fn read_soon(self) {
        let timeout = Timeout::new(READ_AFTER_MS, move || {
            self.read_now();
        });
        self.pending.set_value(Some(timeout));
    }
}

/// The starting points the picker offers: the blank file, then each course lesson.
fn starting_points() -> Vec<(String, String)> {
    let mut points = vec![(
        String::new(),
        "A blank lesson: one pool, two tasks".to_string(),
    )];
    points.extend(
        lockstep_lessons::catalogue()
            .iter()
            .map(|l| (l.slug.clone(), format!("A copy of “{}”", l.title))),
    );
    points
}

/// The address's state for a new version of the lesson: the learner's fix, settings, challenge
/// and step where the new version still has them.
fn carried_over(lesson: &Lesson) -> url::UrlState {
    let mut state = url::read();
    state.fix = state.fix.filter(|f| lesson.fix(f).is_some());
    state.challenge = state.challenge.filter(|c| lesson.challenge(c).is_some());
    state.knobs.retain(|name, _| lesson.knob(name).is_some());
    state
}

/// The studio page. A link's own file (`lesson_src=`) is inflated by the browser first.
#[component]
pub fn StudioView() -> impl IntoView {
    let start = url::read();
    let Some(value) = start.lesson_src.clone() else {
        let text = file::starting_point(start.lesson.as_deref()).to_string();
        return studio_page(start, text, None);
    };
    let opened = RwSignal::new(None);
    leptos::task::spawn_local(async move {
        let _ = opened.try_set(Some(link::LESSON.decode(&value).await));
    });
    (move || {
        opened.get().map(|read| match read {
            Ok(text) => studio_page(start.clone(), text, None),
            Err(e) => studio_page(start.clone(), file::BLANK.to_string(), Some(e)),
        })
    })
    .into_any()
}

/// The studio page, from its first text (and why a link's file could not be read, when it
/// could not).
fn studio_page(start: url::UrlState, first_text: String, link_problem: Option<String>) -> AnyView {
    let studio = Studio {
        text: RwSignal::new(first_text),
        problem: RwSignal::new(None),
        shown: RwSignal::new(None),
        pending: StoredValue::new_local(None),
        readings: StoredValue::new(0),
    };
    let readable = studio.read_now();
    if start.embed && start.lesson_src.is_some() {
        // An embedded studio lesson is the lesson alone, as a course lesson's embed is; a
        // link whose file does not read says why.
        let problem = move || {
            studio.problem.get().map(|p| {
                view! {
                    <p class="notice error" data-testid="studio-problem" role="alert">
                        {format!("This lesson's file does not read: {}", p.message)}
                    </p>
                }
            })
        };
        return view! { {problem} {move || stage(studio)} }.into_any();
    }
    // Someone who opens a shared lesson came to see it: the file waits behind a button, unless
    // it does not read, and then the file and its problem are what there is to see.
    let editing = RwSignal::new(start.lesson_src.is_none() || !readable);
    view! {
        <section class="studio" data-testid="studio">
            <header class="studio-header">
                <h1>"Studio"</h1>
                <p class="studio-intro">
                    "Write your own incident as a lesson: it plays on the course's stage as you type, "
                    "the checker proves it as it proves the course's, and its link carries the whole file."
                </p>
                <button
                    data-testid="studio-toggle"
                    aria-expanded=move || editing.get().to_string()
                    aria-controls="studio-file"
                    on:click=move |_| editing.update(|e| *e = !*e)
                >
                    {move || if editing.get() { "Hide the file" } else { "Edit the lesson file" }}
                </button>
            </header>
            {link_problem.map(|e| view! {
                <p class="notice error" data-testid="studio-link-problem" role="alert">
                    {format!("This link's lesson could not be read: {e}. The studio starts from the blank lesson.")}
                </p>
            })}
            <div id="studio-file" class="studio-file" class:hidden=move || !editing.get()>
                <FileEditor studio=studio/>
                {move || lesson_check(studio)}
            </div>
            {move || stage(studio)}
        </section>
    }
    .into_any()
}

/// The lesson the file reads as, on the course's stage: a new stage for each new version.
fn stage(studio: Studio) -> impl IntoView {
    studio.shown.get().map(|shown| {
        let start = carried_over(shown.lesson);
        view! { <LessonView lesson=shown.lesson start=start authored=shown.authored/> }
    })
}

/// "Check the lesson": what `lockstep check` runs, in the worker, for the version on the stage.
fn lesson_check(studio: Studio) -> impl IntoView {
    let shown = studio.shown.get()?;
    // The checker sends this version's file to the worker.
    provide_context(Origin::Authored(shown.authored.clone()));
    let checker = Checker::new();
    on_cleanup(move || checker.drop_search());
    let slug = shown.lesson.slug.clone();
    let result = move || {
        match checker.phase.get() {
        CheckPhase::Idle => ().into_any(),
        CheckPhase::Running { states, what, .. } => view! {
            <div class="check-running" data-testid="lesson-check-progress">
                <progress aria-label="Checking the lesson"></progress>
                <span>
                    {format!(
                        "{}: {} states",
                        what.unwrap_or_else(|| "starting".into()),
                        thousands(states)
                    )}
                </span>
                <button data-testid="lesson-check-cancel" on:click=move |_| checker.cancel()>"Cancel"</button>
            </div>
        }
        .into_any(),
        CheckPhase::Cancelled { .. } => view! {
            <p class="check-result" data-testid="lesson-check-result" data-verdict="cancelled">
                "Cancelled: nothing is proven."
            </p>
        }
        .into_any(),
        CheckPhase::Broken(message) => view! {
            <p class="check-result" data-testid="lesson-check-result" data-verdict="broken">
                {format!("The check could not run: {message}.")}
            </p>
        }
        .into_any(),
        CheckPhase::LessonDone { ok, lines } => lesson_check_view(ok, lines),
        // A whole-lesson request is answered with its lines, never with one scenario's result.
        CheckPhase::Done(_) => ().into_any(),
    }
    };
    Some(view! {
        <div class="studio-check">
            <button
                class="primary"
                data-testid="studio-check"
                title="The bug must fail, every fix marked proven must be proven, every partial fix must still fail, every challenge must be solvable: what `lockstep check` asks of the course's lessons"
                disabled=move || checker.running()
                on:click=move |_| checker.start_whole_lesson(slug.clone())
            >
                "Check the lesson"
            </button>
            {result}
        </div>
    })
}

/// A finished whole-lesson check: one line a search, as `lockstep check` prints it,
/// marked as the lesson promises or not.
fn lesson_check_view(ok: bool, lines: Vec<CheckLine>) -> AnyView {
    let verdict = if ok { "as-promised" } else { "not-as-promised" };
    let heading = if ok {
        "✓ The lesson is as it promises: the bug is found, every fix is as it says."
    } else {
        "✗ The lesson is not as it promises: see the lines marked ✗."
    };
    let items = lines
        .into_iter()
        .map(|line| {
            let mark = if line.ok { "✓" } else { "✗" };
            view! {
                <li class:bad=!line.ok data-ok=line.ok.to_string()>
                    <span class="mark" aria-hidden="true">{mark}</span>
                    " "
                    <span>{line.text}</span>
                </li>
            }
        })
        .collect_view();
    view! {
        <div class="check-result lesson-check" data-testid="lesson-check-result" data-verdict=verdict>
            <p><strong>{heading}</strong></p>
            <ul class="lesson-check-lines">{items}</ul>
        </div>
    }
    .into_any()
}

/// The file: a starting point, the text, what is wrong with it, and a download.
#[component]
fn FileEditor(studio: Studio) -> impl IntoView {
    let area = NodeRef::<Textarea>::new();
    // The text a new starting point replaced, for Undo.
    let replaced = RwSignal::new(None::<String>);
    let go_to_problem = move |_| {
        let Some((line, column)) = studio
            .problem
            .with_untracked(|p| p.as_ref().and_then(|p| p.at))
        else {
            return;
        };
        if let Some(el) = area.get_untracked() {
            studio
                .text
                .with_untracked(|t| cursor::put(&el, t, line, column));
        }
    };
    let options = starting_points()
        .into_iter()
        .map(|(slug, label)| view! { <option value=slug>{label}</option> })
        .collect_view();
    let start_from = move |ev| {
        let slug = event_target_value(&ev);
        let text = file::starting_point((!slug.is_empty()).then_some(slug.as_str()));
        replaced.set(Some(studio.text.get_untracked()));
        studio.text.set(text.to_string());
        studio.read_now();
    };
    let undo = move |_| {
        if let Some(before) = replaced.get_untracked() {
            replaced.set(None);
            studio.text.set(before);
            studio.read_now();
        }
    };
    let download = move |_| {
        let name = studio
            .shown
            .with_untracked(|s| s.as_ref().map(|s| s.lesson.slug.clone()))
            .map_or("lesson.toml".to_string(), |slug| {
                format!("{}.lesson.toml", export::slug(&slug))
            });
        let _ = export::offer_file(&name, &studio.text.get_untracked(), "application/toml");
    };
    let status = move || file_status(studio, go_to_problem);
    view! {
        <div class="studio-editor-panel">
            <div class="studio-bar">
                <label>
                    <span>"Start from "</span>
                    <select data-testid="studio-start" on:change=start_from>{options}</select>
                </label>
                {move || replaced.with(Option::is_some).then(|| view! {
                    <button data-testid="studio-undo" on:click=undo>"Undo: back to my text"</button>
                })}
                <button data-testid="studio-download" on:click=download>"Download lesson.toml"</button>
            </div>
            <textarea
                class="spec-editor studio-editor"
                data-testid="studio-editor"
                aria-label="lesson file (TOML)"
                spellcheck="false"
                wrap="off"
                rows="20"
                node_ref=area
                prop:value=move || studio.text.get()
                on:input=move |ev| {
                    studio.text.set(event_target_value(&ev));
                    studio.read_soon();
                }
            ></textarea>
            {status}
        </div>
    }
}

/// What the editor says of the file: its problem (with its place and a way there), or what it
/// reads as.
fn file_status(
    studio: Studio,
    go_to_problem: impl Fn(leptos::ev::MouseEvent) + Copy + 'static,
) -> AnyView {
    if let Some(problem) = studio.problem.get() {
        let excerpt = problem.at.and_then(|(line, column)| {
            let text = studio
                .text
                .with(|t| t.lines().nth(line - 1).map(str::to_string))?;
            let caret = format!("{}^", " ".repeat(column.saturating_sub(1)));
            Some(view! { <pre class="spec-excerpt">{text}"\n"{caret}</pre> })
        });
        let jump = problem.at.map(|_| view! {
            <button class="link-button" data-testid="studio-go-to-problem" on:click=go_to_problem>"Go there"</button>
        });
        let kept = studio
            .shown
            .with(Option::is_some)
            .then_some(" The stage shows the last version that read.");
        return view! {
            <div class="notice error" data-testid="studio-problem" role="alert">
                <strong>{problem.message}</strong>
                {kept}
                " "
                {jump}
                {excerpt}
            </div>
        }
        .into_any();
    }
    let Some(shown) = studio.shown.get() else {
        return ().into_any();
    };
    let lesson = shown.lesson;
    let fixes = lesson.fixes.len();
    let said = format!(
        "✓ Reads as a lesson: “{}”, {} task{}, {} fix{}.",
        lesson.title,
        lesson.scenario.tasks.len(),
        if lesson.scenario.tasks.len() == 1 {
            ""
        } else {
            "s"
        },
        fixes,
        if fixes == 1 { "" } else { "es" },
    );
    let too_long =
        shown.authored.link.err().map(|why| {
            format!(" It cannot travel in a link ({why}): download the file to keep it.")
        });
    view! {
        <p class="studio-status" data-testid="studio-status" role="status">{said}{too_long}</p>
    }
    .into_any()
}
