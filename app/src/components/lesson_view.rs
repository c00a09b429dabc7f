//! One lesson on one page: the session signal, the player, keyboard shortcuts and the address
//! all live here; the panels read the session from context.

use super::code_listing::CodeListings;
use super::controls::Controls;
use super::fixes::Fixes;
use super::help_overlay::HelpOverlay;
use super::lanes::Lanes;
use super::locks_panel::LocksPanel;
use super::pool::PoolPanel;
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
}

/// The engine state, provided by context.
pub type SessionSignal = RwSignal<Session>;

/// Steps once; stops Play when the run has ended.
pub fn step(session: SessionSignal, player: Player) {
    let mut moved = false;
    session.update(|s| moved = s.step());
    if !moved || session.with(|s| s.outcome().is_final()) {
        player.playing.set(false);
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
        player.playing.set(true);
    }
}

/// The lesson page.
#[component]
pub fn LessonView(lesson: &'static Lesson, start: url::UrlState) -> impl IntoView {
    let mut first = match Session::new(lesson, start.fix.as_deref()) {
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
            for _ in 0..start.step.min(10_000) {
                if !first.step() {
                    break;
                }
            }
        }
    }
    let embed = start.embed;
    let session: SessionSignal = RwSignal::new(first);
    let player = Player {
        playing: RwSignal::new(false),
        interval_ms: RwSignal::new(450),
        help: RwSignal::new(false),
    };
    provide_context(session);
    provide_context(player);

    // Play: one step per tick of an interval that lives as long as Play is on.
    let interval = StoredValue::new_local(None::<Interval>);
    Effect::new(move |_| {
        let playing = player.playing.get();
        let ms = player.interval_ms.get();
        interval.set_value(None);
        if playing {
            interval.set_value(Some(Interval::new(ms, move || step(session, player))));
        }
    });
    on_cleanup(move || interval.set_value(None));

    // The address follows the session.
    Effect::new(move |_| {
        let (fix, steps, schedule) = session.with(|s| {
            let schedule = s.chosen.then(|| s.schedule().to_string());
            (s.fix.clone(), s.steps.len(), schedule)
        });
        url::replace(&url::UrlState {
            lesson: Some(lesson.slug.clone()),
            fix,
            step: steps,
            schedule,
            embed,
        });
    });

    // Progress: the bug seen without a fix, then a fix played to the end.
    Effect::new(move |_| {
        let (fix, outcome) = session.with(|s| (s.fix.clone(), s.outcome()));
        if !outcome.is_final() {
            return;
        }
        match fix {
            None if outcome.is_bug() => progress::mark_seen(&lesson.slug),
            Some(_) if !outcome.is_bug() => progress::mark_fixed(&lesson.slug),
            _ => {}
        }
    });

    let keys = window_event_listener(leptos::ev::keydown, move |ev| {
        if ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
            return;
        }
        let handled = match ev.key().as_str() {
            " " => {
                toggle_play(session, player);
                true
            }
            "ArrowRight" | "s" => {
                player.playing.set(false);
                step(session, player);
                true
            }
            "ArrowLeft" | "b" => {
                player.playing.set(false);
                session.update(|s| {
                    s.back();
                });
                true
            }
            "r" => {
                player.playing.set(false);
                session.update(|s| s.reset());
                true
            }
            "?" => {
                player.help.update(|h| *h = !*h);
                true
            }
            "Escape" => {
                player.help.set(false);
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
                {embed.then(|| {
                    let href = format!("?lesson={}", lesson.slug);
                    view! {
                        <a class="full-lesson" href=href target="_blank" rel="noopener">
                            "Open the full lesson in Lockstep ↗"
                        </a>
                    }
                })}
            </header>
            <div class="lesson-grid">
                <aside class="left">
                    <Story/>
                    <Fixes/>
                </aside>
                <section class="center">
                    <div class="sticky">
                        <StatusBanner/>
                        <Controls/>
                    </div>
                    <Lanes/>
                    <CodeListings/>
                    <Tables/>
                    <PoolPanel/>
                    <WaitForGraphPanel/>
                    <LocksPanel/>
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
