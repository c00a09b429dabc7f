//! What the chosen fix changes: its explanation, whether it is a real fix, and the diff of
//! code, statements and settings, from the lesson data.

use crate::diff::{self, Line, Shown};
use crate::markdown;
use crate::player::SessionSignal;
use leptos::prelude::*;
use lockstep::world::{PoolSpec, ServerSettings};
use lockstep_lessons::{Fix, Lesson};

/// Server settings as `name = value` lines, only those the scenario sets.
fn settings_lines(settings: &ServerSettings) -> String {
    let ms = |v: Option<u64>| v.map(|v| format!("{v}ms"));
    let count = |v: Option<u32>| v.map(|v| v.to_string());
    [
        ("max_connections", count(settings.max_connections)),
        (
            "superuser_reserved_connections",
            count(settings.superuser_reserved_connections),
        ),
        ("deadlock_timeout", ms(settings.deadlock_timeout_ms)),
        ("lock_timeout", ms(settings.lock_timeout_ms)),
        ("statement_timeout", ms(settings.statement_timeout_ms)),
        (
            "idle_in_transaction_session_timeout",
            ms(settings.idle_in_transaction_session_timeout_ms),
        ),
    ]
    .into_iter()
    .filter_map(|(name, value)| value.map(|v| format!("{name} = {v}\n")))
    .collect()
}

/// Pools as one line each, in the driver's own words.
fn pool_lines(pools: &[PoolSpec]) -> String {
    pools
        .iter()
        .map(|p| {
            let mut line = format!("pool {} ({})", p.name, p.driver);
            for (name, value) in [
                ("MaxConns", p.max_conns),
                ("SetMaxOpenConns", p.max_open_conns),
                ("SetMaxIdleConns", p.max_idle_conns),
            ] {
                if let Some(v) = value {
                    line.push_str(&format!(", {name} = {v}"));
                }
            }
            line + "\n"
        })
        .collect()
}

/// Kept lines shown on each side of a change.
const DIFF_CONTEXT_LINES: usize = 2;

/// One titled diff: a file, the statements sent, or the settings. Only the changed lines and a
/// little context show; longer runs of kept lines fold into a count.
fn diff_block(title: String, old: &str, new: &str) -> AnyView {
    let lines: Vec<AnyView> = diff::around_changes(old, new, DIFF_CONTEXT_LINES)
        .into_iter()
        .map(|shown| {
            let line = match shown {
                Shown::Line(line) => line,
                Shown::Folded(n) => {
                    let words = format!("⋯ {n} unchanged line{}", if n == 1 { "" } else { "s" });
                    return view! { <div class="diff-line folded">{words}</div> }.into_any();
                }
            };
            let (class, mark, text) = match line {
                Line::Same(t) => ("diff-line same", " ", t),
                Line::Removed(t) => ("diff-line removed", "-", t),
                Line::Added(t) => ("diff-line added", "+", t),
            };
            view! {
                <div class=class>
                    <span class="diff-mark" aria-hidden="true">{mark}</span>
                    <span class="diff-text">{if text.is_empty() { " ".to_string() } else { text.to_string() }}</span>
                </div>
            }
            .into_any()
        })
        .collect();
    view! {
        <figure class="diff">
            <figcaption>{title}</figcaption>
            <pre class="code diff-code">{lines}</pre>
        </figure>
    }
    .into_any()
}

/// What a fix changes, from the lesson data: its listings against the ones they replace, the
/// statements it rewrites, and the server and pool settings it changes.
fn fix_diff(lesson: &Lesson, fix: &Fix) -> Vec<AnyView> {
    let mut out = Vec::new();
    for listing in &fix.listings {
        let old = lesson
            .listings
            .iter()
            .find(|l| l.file == listing.file)
            .or_else(|| {
                lesson
                    .listings
                    .iter()
                    .find(|l| listing.tasks.iter().any(|t| l.runs(t)))
            });
        let title = match old {
            Some(old) if old.file != listing.file => format!("{} → {}", old.file, listing.file),
            Some(_) => listing.file.clone(),
            None => format!("{} (new)", listing.file),
        };
        out.push(diff_block(
            title,
            old.map_or("", |l| l.code.as_str()),
            &listing.code,
        ));
    }
    if !fix.sql.is_empty() {
        let old: String = fix.sql.keys().map(|k| format!("{k}\n")).collect();
        let new: String = fix.sql.values().map(|v| format!("{v}\n")).collect();
        out.push(diff_block(
            "Statements sent to PostgreSQL".to_string(),
            &old,
            &new,
        ));
    }
    if let Some(server) = &fix.server {
        out.push(diff_block(
            "postgresql.conf".to_string(),
            &settings_lines(&lesson.scenario.server),
            &settings_lines(server),
        ));
    }
    if let Some(pools) = &fix.pools {
        out.push(diff_block(
            "Connection pools".to_string(),
            &pool_lines(&lesson.scenario.pools),
            &pool_lines(pools),
        ));
    }
    if !fix.knobs.is_empty() {
        // A fix that is a setting ("MaxConns = 5"): the knobs it sets, from their defaults.
        let knob_lines = |value_of: &dyn Fn(&lockstep::lesson::Knob) -> u32| -> String {
            lesson
                .knobs
                .iter()
                .filter(|k| fix.knobs.contains_key(&k.name))
                .map(|k| format!("{} = {}\n", k.label, value_of(k)))
                .collect()
        };
        out.push(diff_block(
            "Settings".to_string(),
            &knob_lines(&|k| k.default),
            &knob_lines(&|k| fix.knobs.get(&k.name).copied().unwrap_or(k.default)),
        ));
    }
    out
}

/// The chosen fix's explanation and diff; nothing without a fix.
#[component]
pub fn FixChange() -> impl IntoView {
    let session = expect_context::<SessionSignal>();
    let lesson = session.with_untracked(|s| s.lesson);
    let current = Memo::new(move |_| session.with(|s| s.fix.clone()));
    let explanation = move || {
        current.get().and_then(|slug| {
            lesson.fix(&slug).map(|fix| {
                let verdict = if fix.proven {
                    "A real fix: checking every schedule finds none that fails."
                } else {
                    "A partial fix: some schedule still goes wrong. Check every schedule to find it."
                };
                let diffs = fix_diff(lesson, fix);
                let testid = format!("fix-diff-{}", fix.slug);
                view! {
                    <div class="fix-explanation" data-testid="fix-explanation">
                        {markdown::render(&fix.explanation)}
                        <p class=if fix.proven { "fix-verdict proven-fix" } else { "fix-verdict partial-fix" }>
                            {verdict}
                        </p>
                    </div>
                    <details class="fix-diffs" open data-testid=testid>
                        <summary>"The change"</summary>
                        {diffs}
                    </details>
                }
            })
        })
    };
    view! { <div class="fix-change">{explanation}</div> }
}
