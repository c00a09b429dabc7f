//! The lesson page: it makes the session signal, the player and the checker, provides them
//! to the panels by context, keeps the address and the course progress in step with the
//! session, and lays the panels out.

use super::course_nav::CourseNav;
use crate::challenge::{self, ChallengeState};
use crate::checker::{CheckPhase, Checker};
use crate::components::activity_panel::ActivityPanel;
use crate::components::challenges::{ChallengeCard, ChallengeList};
use crate::components::check_schedules::CheckSchedules;
use crate::components::code_listing::CodeListings;
use crate::components::connections_panel::ConnectionsPanel;
use crate::components::controls::Controls;
use crate::components::fix_change::FixChange;
use crate::components::fix_picker::FixPicker;
use crate::components::help_overlay::HelpOverlay;
use crate::components::knobs::Knobs;
use crate::components::lanes::Lanes;
use crate::components::locks_panel::LocksPanel;
use crate::components::panel_tabs::{PanelTab, PanelTabs};
use crate::components::pg_log::PgLog;
use crate::components::pool::PoolPanel;
use crate::components::pool_sizing::PoolSizing;
use crate::components::prediction::Prediction;
use crate::components::share::Share;
use crate::components::status_banner::StatusBanner;
use crate::components::story::Story;
use crate::components::tables::Tables;
use crate::components::timeline::Timeline;
use crate::components::wait_for_graph::WaitForGraphPanel;
use crate::export::{self, ExportButtons, SvgFile};
use crate::origin::{Authored, Origin};
use crate::player::{listen_to_keys, play_on_a_timer, Player, SessionSignal};
use crate::session::Session;
use crate::{embedding, progress, url};
use leptos::prelude::*;
use lockstep::analysis::pool_sizing::PoolSizing as Sizing;
use lockstep::lesson::{Challenge, KeyPanel};
use lockstep::world::Schedule;
use lockstep_lessons::Lesson;
use lockstep_worker::Drawing;

/// The lesson page. `authored` is given for a lesson written in the studio.
#[component]
pub fn LessonView(
    lesson: &'static Lesson,
    start: url::UrlState,
    #[prop(optional)] authored: Option<Authored>,
) -> impl IntoView {
    let origin = authored.map_or(Origin::Course, Origin::Authored);
    // Before the checker: it sends an authored lesson's file to the worker.
    provide_context(origin.clone());
    let opened = start
        .challenge
        .as_deref()
        .and_then(|id| lesson.challenge(id));
    let first = match first_session(lesson, &start, opened) {
        Ok(s) => s,
        Err(e) => {
            let message = format!("This lesson cannot start: {e}");
            return view! { <p class="notice error">{message}</p> }.into_any();
        }
    };
    let embed = start.embed;
    let panel_in_address = start.panel.clone();
    let session: SessionSignal = RwSignal::new(first);
    let challenges = ChallengeState::new();
    challenges.open.set(opened);
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
        scheduler_only: Signal::derive(move || challenges.scheduler_only()),
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
    provide_context(challenges);

    play_on_a_timer(session, player);
    challenge::judge(challenges, session, checker);

    let named = address_of(lesson, &origin);
    follow_session_in_address(
        named.clone(),
        session,
        player,
        challenges,
        embed,
        panel_in_address,
    );
    if !origin.is_authored() {
        record_progress(lesson, session);
    }

    listen_to_keys(session, player, checker);
    if embed {
        embedding::report_height();
    }

    let (timeline, graph) = svg_exports(lesson, session);
    let key = start
        .panel
        .as_deref()
        .and_then(KeyPanel::named)
        .unwrap_or(lesson.key_panel);
    let tabs = panel_tabs(lesson, key);
    // The stage's panels as they are by default, for the warm-up to update off the page.
    let phase = checker.phase;
    crate::warm_up::start(
        session,
        player,
        std::rc::Rc::new(move || !matches!(phase.try_get_untracked(), Some(CheckPhase::Idle))),
        Box::new(move || {
            view! {
                <StatusBanner/>
                <Controls/>
                <Lanes/>
                {panel_view(key)}
                <CodeListings/>
            }
            .into_any()
        }),
    );
    view! {
        <article class="lesson" class:embed=embed data-testid="lesson">
            {lesson_header(lesson, &origin, embed, session, player, challenges)}
            <div class="stage">
                <section class="center" data-testid="stage">
                    <StatusBanner/>
                    <ChallengeCard/>
                    <Prediction/>
                    <Controls/>
                    <Lanes/>
                    <div class="key-panel" data-testid="key-panel" data-panel=key.name()>
                        {panel_view(key)}
                    </div>
                </section>
                {(!embed).then(|| view! {
                    <aside class="left">
                        <Story/>
                        <FixPicker/>
                        <CheckSchedules/>
                        <ChallengeList/>
                        <Knobs/>
                        <FixChange/>
                    </aside>
                })}
                <aside class="right">
                    {embed.then(|| view! { <CheckSchedules/> })}
                    <PanelTabs tabs=tabs/>
                    <ExportButtons timeline=timeline graph=graph/>
                </aside>
            </div>
            <HelpOverlay/>
        </article>
    }
    .into_any()
}

/// How the address names the lesson: `(lesson, lesson_src)`, the course's slug or the studio's
/// packed file (none when the file is too long for a link).
fn address_of(lesson: &Lesson, origin: &Origin) -> (Option<String>, Option<String>) {
    match origin {
        Origin::Course => (Some(lesson.slug.clone()), None),
        Origin::Authored(authored) => (None, authored.link.clone().ok()),
    }
}

/// The address follows the session, so a reload or a shared link opens the same moment.
fn follow_session_in_address(
    (named, packed): (Option<String>, Option<String>),
    session: SessionSignal,
    player: Player,
    challenges: ChallengeState,
    embed: bool,
    panel_in_address: Option<String>,
) {
    Effect::new(move |_| {
        let (fix, steps, schedule, knobs) = session.with(|s| {
            let schedule = s.chosen.then(|| s.schedule().to_string());
            (s.fix.clone(), s.steps.len(), schedule, s.knobs.clone())
        });
        let workshop = player.workshop.get();
        let challenge = challenges.open.get().map(|c| c.id.clone());
        url::replace(&url::UrlState {
            lesson: named.clone(),
            lesson_src: packed.clone(),
            fix,
            step: steps,
            schedule,
            embed,
            workshop,
            knobs,
            panel: panel_in_address.clone(),
            challenge,
        });
    });
}

/// Progress: the bug seen without a fix, then a fix played to the end.
fn record_progress(lesson: &'static Lesson, session: SessionSignal) {
    Effect::new(move |_| {
        let (fix, outcome) = session.with(|s| (s.fix.clone(), s.outcome()));
        if !outcome.is_declared() {
            return;
        }
        match fix {
            None if outcome.is_bug() => progress::mark_seen(&lesson.slug),
            Some(fix) if !outcome.is_bug() => progress::mark_fixed(&lesson.slug, &fix),
            _ => {}
        }
    });
}

/// The session the page starts from: the address's fix, settings and schedule (or step count),
/// or the opened challenge's fix and settings; an error when the lesson cannot start with them.
fn first_session(
    lesson: &'static Lesson,
    start: &url::UrlState,
    opened: Option<&'static Challenge>,
) -> Result<Session, String> {
    // A challenge in the address starts from its own fix and settings, unless the address
    // names others (the learner's choices in a challenge to survive).
    let (fix, knobs) = match opened {
        Some(c) if start.fix.is_none() => {
            let mut knobs = c.knobs.clone();
            knobs.extend(start.knobs.iter().map(|(k, &v)| (k.clone(), v)));
            (c.fix.clone(), knobs)
        }
        _ => (start.fix.clone(), start.knobs.clone()),
    };
    let mut first = Session::with_knobs(lesson, fix.as_deref(), &knobs)?;
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
                // `step=N` counts engine moves, as Step took them before steps were beats.
                if !first.step_move() {
                    break;
                }
            }
        }
    }
    Ok(first)
}

/// The export buttons' files: the timeline and the wait-for graph at the current step, which
/// the worker draws from the run's moves.
fn svg_exports(
    lesson: &'static Lesson,
    session: SessionSignal,
) -> (Callback<(), SvgFile>, Callback<(), SvgFile>) {
    let authored = use_context::<Origin>().and_then(|o| o.authored_json());
    let file = move |what: &str, drawing: Drawing| {
        session.with_untracked(|s| SvgFile {
            name: format!("{}-{what}-step-{}.svg", lesson.slug, s.steps.len()),
            text: Box::pin(export::written(export::run_request(
                s,
                authored.as_deref(),
                drawing,
            ))),
        })
    };
    let timeline = {
        let file = file.clone();
        Callback::new(move |_: ()| file("timeline", Drawing::Timeline))
    };
    let graph = Callback::new(move |_: ()| file("wait-for-graph", Drawing::WaitForGraph));
    (timeline, graph)
}

/// The side panel's tabs: code, timeline, the key panels other than the `key` one, pool sizing
/// when the lesson has its knobs, and the server's views.
fn panel_tabs(lesson: &'static Lesson, key: KeyPanel) -> Vec<PanelTab> {
    let sizing = Sizing::of(lesson).is_some();
    let mut tabs = vec![
        PanelTab {
            id: "code",
            label: "Code",
            panel: ViewFn::from(|| view! { <CodeListings/> }),
        },
        PanelTab {
            id: "timeline",
            label: "Timeline",
            panel: ViewFn::from(|| view! { <Timeline/> }),
        },
    ];
    for panel in KeyPanel::ALL.into_iter().filter(|p| *p != key) {
        tabs.push(PanelTab {
            id: panel.name(),
            label: panel_label(panel),
            panel: ViewFn::from(move || panel_view(panel)),
        });
    }
    if sizing {
        tabs.push(PanelTab {
            id: "pool-sizing",
            label: "Pool sizing",
            panel: ViewFn::from(|| view! { <PoolSizing/> }),
        });
    }
    tabs.extend([
        PanelTab {
            id: "pg_stat_activity",
            label: "pg_stat_activity",
            panel: ViewFn::from(|| view! { <ActivityPanel/> }),
        },
        PanelTab {
            id: "pg_locks",
            label: "pg_locks",
            panel: ViewFn::from(|| view! { <LocksPanel/> }),
        },
        PanelTab {
            id: "log",
            label: "Log",
            panel: ViewFn::from(|| view! { <PgLog/> }),
        },
    ]);
    tabs
}

/// The lesson's title, with the course navigation, sharing and workshop mode; an embedded lesson
/// links to the full one instead.
fn lesson_header(
    lesson: &'static Lesson,
    origin: &Origin,
    embed: bool,
    session: SessionSignal,
    player: Player,
    challenges: ChallengeState,
) -> impl IntoView {
    let title = lesson.title.clone();
    let authored = origin.is_authored();
    let (named, packed) = address_of(lesson, origin);
    view! {
        <header class="lesson-header">
            <h1 data-testid="lesson-title">{title}</h1>
            {authored.then(|| view! {
                <p class="authored-badge" data-testid="authored-badge">
                    "Written in the Lockstep studio by its author, not part of the course"
                </p>
            })}
            {(!embed).then(|| {
                view! {
                    <div class="lesson-actions">
                        {(!authored).then(|| view! { <CourseNav lesson=lesson/> })}
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
                            lesson: named.clone(),
                            lesson_src: packed.clone(),
                            fix: s.fix.clone(),
                            step: s.steps.len(),
                            schedule: s.chosen.then(|| s.schedule().to_string()),
                            embed: false,
                            workshop: false,
                            knobs: s.knobs.clone(),
                            panel: None,
                            challenge: challenges.open.get().map(|c| c.id.clone()),
                        })
                    })
                };
                view! {
                    <a class="full-lesson" href=href target="_blank" rel="noopener">
                        "Open the full lesson ↗"
                    </a>
                }
            })}
        </header>
    }
}

/// What a panel's tab says.
fn panel_label(panel: KeyPanel) -> &'static str {
    match panel {
        KeyPanel::Pool => "Pool",
        KeyPanel::Rows => "Rows and locks",
        KeyPanel::WaitForGraph => "Who waits for whom",
        KeyPanel::Protocol => "Protocol",
    }
}

/// The panel itself.
fn panel_view(panel: KeyPanel) -> AnyView {
    match panel {
        KeyPanel::Pool => view! { <PoolPanel/> }.into_any(),
        KeyPanel::Rows => view! { <Tables/> }.into_any(),
        KeyPanel::WaitForGraph => view! { <WaitForGraphPanel/> }.into_any(),
        KeyPanel::Protocol => view! { <ConnectionsPanel/> }.into_any(),
    }
}
