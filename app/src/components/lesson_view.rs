//! One lesson on one page: the session signal, the player, keyboard shortcuts and the address
//! all live here; the panels read the session from context.

use super::activity_panel::ActivityPanel;
use super::check_schedules::{start_check, CheckSchedules, Checker};
use super::code_listing::CodeListings;
use super::connections_panel::ConnectionsPanel;
use super::controls::Controls;
use super::fixes::Fixes;
use super::help_overlay::HelpOverlay;
use super::knobs::Knobs;
use super::lanes::Lanes;
use super::locks_panel::LocksPanel;
use super::pg_log::PgLog;
use super::pool::PoolPanel;
use super::pool_sizing::PoolSizing;
use super::share::Share;
use super::status_banner::StatusBanner;
use super::story::Story;
use super::tables::Tables;
use super::timeline::Timeline;
use super::wait_for_graph::WaitForGraphPanel;
use crate::export::{self, ExportButtons, SvgFile};
use crate::session::Session;
use crate::{progress, url};
use gloo_timers::callback::Interval;
use leptos::prelude::*;
use lockstep::world::Schedule;
use lockstep_lessons::Lesson;

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

/// The engine state, provided by context.
pub type SessionSignal = RwSignal<Session>;

/// Steps once; stops Play when the run has ended or its verdict has just become certain.
pub fn step(session: SessionSignal, player: Player) {
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

/// Where the lesson sits in the course, with links to its neighbours.
#[component]
fn CourseNav(lesson: &'static Lesson) -> impl IntoView {
    let all = lockstep_lessons::catalogue();
    let Some(at) = all.iter().position(|l| l.slug == lesson.slug) else {
        return ().into_any();
    };
    let link = |l: &Lesson, text: String, testid: &'static str| {
        let href = format!("?lesson={}", l.slug);
        view! { <a class="course-link" href=href data-testid=testid title=l.title.clone()>{text}</a> }
    };
    let previous = at
        .checked_sub(1)
        .and_then(|i| all.get(i))
        .map(|l| link(l, "← Previous".to_string(), "previous-lesson"));
    let next = all
        .get(at + 1)
        .map(|l| link(l, format!("Next: {} →", l.title), "next-lesson"));
    view! {
        <nav class="course-nav" aria-label="Course">
            <a class="course-link" href="?">"All lessons"</a>
            {previous}
            <span class="course-position">{format!("Lesson {} of {}", at + 1, all.len())}</span>
            {next}
        </nav>
    }
    .into_any()
}

/// The lesson page.
#[component]
pub fn LessonView(lesson: &'static Lesson, start: url::UrlState) -> impl IntoView {
    let mut first = match Session::with_knobs(lesson, start.fix.as_deref(), &start.knobs) {
        Ok(s) => s,
        Err(e) => {
            let message = format!("This lesson cannot start: {e}");
            return view! { <p class="notice error">{message}</p> }.into_any();
        }
    };
    match start
        .schedule
        .as_deref()
        .and_then(|text| text.parse::<Schedule>().ok())
    {
        Some(schedule) => {
            first.replay(&schedule);
        }
        None => {
            // `step=N` counts engine moves, as Step took them before steps were beats.
            for _ in 0..start.step.min(10_000) {
                if !first.step_move() {
                    break;
                }
            }
        }
    }
    let embed = start.embed;
    let session: SessionSignal = RwSignal::new(first);
    let player = Player {
        playing: RwSignal::new(false),
        // About three steps a second: a step is something a learner would name, and Play pauses
        // at the first key moment.
        interval_ms: RwSignal::new(320),
        help: RwSignal::new(false),
        workshop: RwSignal::new(start.workshop),
        key_pauses: RwSignal::new(true),
        key_pause: RwSignal::new(None),
        key_paused_in_run: RwSignal::new(false),
    };
    // Workshop mode scales the whole page's type, which is set in rem on the root element.
    Effect::new(move |_| {
        let on = player.workshop.get();
        if let Some(root) = document().document_element() {
            let _ = root.class_list().toggle_with_force("workshop", on);
        }
    });
    let checker = Checker::new();
    provide_context(session);
    provide_context(player);
    provide_context(checker);

    // Play: one step per tick of an interval that lives as long as Play is on.
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

    // The address follows the session.
    Effect::new(move |_| {
        let (fix, steps, schedule, knobs) = session.with(|s| {
            let schedule = s.chosen.then(|| s.schedule().to_string());
            (s.fix.clone(), s.steps.len(), schedule, s.knobs.clone())
        });
        let workshop = player.workshop.get();
        url::replace(&url::UrlState {
            lesson: Some(lesson.slug.clone()),
            fix,
            step: steps,
            schedule,
            embed,
            workshop,
            knobs,
        });
    });

    // Progress: the bug seen without a fix, then a fix played to the end.
    Effect::new(move |_| {
        let (fix, outcome) = session.with(|s| (s.fix.clone(), s.outcome()));
        if !outcome.is_declared() {
            return;
        }
        match fix {
            None if outcome.is_bug() => progress::mark_seen(&lesson.slug),
            Some(_) if !outcome.is_bug() => progress::mark_fixed(&lesson.slug),
            _ => {}
        }
    });

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
        }
    });
    on_cleanup(move || keys.remove());

    let timeline = Callback::new(move |_: ()| {
        session.with_untracked(|s| SvgFile {
            name: format!("{}-timeline-step-{}.svg", lesson.slug, s.steps.len()),
            content: export::timeline_svg(&export::lesson_timeline(s)),
        })
    });
    let graph = Callback::new(move |_: ()| {
        session.with_untracked(|s| SvgFile {
            name: format!("{}-wait-for-graph-step-{}.svg", lesson.slug, s.steps.len()),
            content: export::graph_svg(
                &export::lesson_graph(s),
                &format!(
                    "{} — wait-for graph at step {}",
                    lesson.title,
                    s.steps.len()
                ),
            ),
        })
    });
    let title = lesson.title.clone();
    let summary = lesson.summary.clone();
    view! {
        <article class="lesson" class:embed=embed data-testid="lesson">
            <header class="lesson-header">
                <h1 data-testid="lesson-title">{title}</h1>
                <p class="summary">{summary}</p>
                {(!embed).then(|| {
                    view! {
                        <div class="lesson-actions">
                            <CourseNav lesson=lesson/>
                            <Share lesson=lesson/>
                            <button
                                data-testid="workshop"
                                aria-pressed=move || player.workshop.get().to_string()
                                title="Large type for a projector (w)"
                                on:click=move |_| player.workshop.update(|w| *w = !*w)
                            >
                                "Workshop mode"
                            </button>
                        </div>
                    }
                })}
                {embed.then(|| {
                    // The same lesson, fix and step, full size.
                    let href = move || {
                        session.with(|s| {
                            url::query(&url::UrlState {
                                lesson: Some(lesson.slug.clone()),
                                fix: s.fix.clone(),
                                step: s.steps.len(),
                                schedule: s.chosen.then(|| s.schedule().to_string()),
                                embed: false,
                                workshop: false,
                                knobs: s.knobs.clone(),
                            })
                        })
                    };
                    view! {
                        <a class="full-lesson" href=href target="_blank" rel="noopener">
                            "Open the full lesson in Lockstep ↗"
                        </a>
                    }
                })}
            </header>
            <div class="lesson-grid">
                {(!embed).then(|| view! {
                    <aside class="left">
                        <Story/>
                        <Fixes/>
                        <Knobs/>
                        <CheckSchedules/>
                    </aside>
                })}
                <section class="center">
                    <div class="sticky">
                        <StatusBanner/>
                        <Controls/>
                    </div>
                    <Lanes/>
                    {embed.then(|| view! { <CheckSchedules/> })}
                    <CodeListings/>
                    <Tables/>
                    <PoolPanel/>
                    <PoolSizing/>
                    <WaitForGraphPanel/>
                    <ActivityPanel/>
                    <LocksPanel/>
                    <ConnectionsPanel/>
                    <PgLog/>
                    <ExportButtons timeline=timeline graph=graph/>
                </section>
                <aside class="right">
                    <Timeline/>
                </aside>
            </div>
            <HelpOverlay/>
        </article>
    }
    .into_any()
}
