//! Step, Play/Pause with a speed slider, Back, Reset, the scrubber (all by steps a learner would
//! name), the two settings that shape them (protocol messages as steps, pausing at key
//! moments), and the schedule so far (exact engine moves).

use crate::player::{step, toggle_play, Player, SessionSignal};
use leptos::prelude::*;

/// The control bar.
#[component]
pub fn Controls() -> impl IntoView {
    let session = expect_context::<SessionSignal>();
    let player = expect_context::<Player>();
    let schedule = move || {
        let text = session.with(|s| s.schedule().to_string());
        if text.is_empty() {
            "(no steps yet)".to_string()
        } else {
            text
        }
    };
    view! {
        <div class="controls" role="toolbar" aria-label="Schedule controls">
            {run_buttons(session, player)}
            {speed_control(player)}
            {scrubber(session, player)}
            {settings(session, player)}
            <div class="schedule" title="The schedule so far: who ran at each step; + is the clock jumping to the next timer">
                <span class="label">"Schedule: "</span>
                <code data-testid="schedule">{schedule}</code>
            </div>
        </div>
    }
}

/// Back, Step, Play or Pause, and Reset.
fn run_buttons(session: SessionSignal, player: Player) -> impl IntoView {
    let ended = Memo::new(move |_| session.with(|s| s.outcome().is_final()));
    let at_start = move || session.with(|s| s.steps.is_empty());
    view! {
        <button
            data-testid="back"
            title="Back (← or b)"
            aria-label="Back"
            disabled=at_start
            on:click=move |_| {
                player.playing.set(false);
                session.update(|s| {
                    s.back();
                });
                player.key_pause.set(None);
            }
        >
            "◀ Back"
        </button>
        <button
            data-testid="step"
            class="primary"
            title=move || if player.scheduler_only.get() {
                "You are the scheduler: click a lane. Step only lets the clock run when no task can (→ or s)"
            } else {
                "Step (→ or s)"
            }
            aria-label="Step"
            disabled=move || ended.get() || (player.scheduler_only.get() && !session.with(|s| player.may_step(s)))
            on:click=move |_| {
                player.playing.set(false);
                step(session, player);
            }
        >
            "Step ▶"
        </button>
        <Show
            when=move || player.playing.get()
            fallback=move || {
                view! {
                    <button
                        data-testid="play"
                        title=move || if player.scheduler_only.get() {
                            "No Play in this challenge: you are the scheduler"
                        } else {
                            "Play (space)"
                        }
                        aria-label="Play"
                        disabled=move || player.scheduler_only.get()
                        on:click=move |_| toggle_play(session, player)
                    >
                        "▶▶ Play"
                    </button>
                }
            }
        >
            <button
                data-testid="pause"
                title="Pause (space)"
                aria-label="Pause"
                on:click=move |_| player.playing.set(false)
            >
                "❚❚ Pause"
            </button>
        </Show>
        <button
            data-testid="reset"
            title="Reset (r)"
            aria-label="Reset"
            on:click=move |_| {
                player.playing.set(false);
                session.update(|s| s.reset());
            }
        >
            "↺ Reset"
        </button>
    }
}

/// The speed slider, and the button that shows the keyboard shortcuts.
fn speed_control(player: Player) -> impl IntoView {
    let speed_label = move || {
        let ms = player.interval_ms.get();
        format!("{:.1} steps/s", 1000.0 / f64::from(ms.max(1)))
    };
    view! {
        <label class="speed">
            <span>"Speed"</span>
            <input
                type="range"
                min="0"
                max="100"
                data-testid="speed"
                prop:value=move || 100 - (player.interval_ms.get().saturating_sub(50) / 15).min(100)
                on:input=move |ev| {
                    let v: u32 = event_target_value(&ev).parse().unwrap_or(50);
                    player.interval_ms.set(50 + (100 - v.min(100)) * 15);
                }
            />
            <span class="speed-label">{speed_label}</span>
        </label>
        <button class="help-button" title="Keyboard shortcuts (?)" on:click=move |_| player.help.set(true)>
            "?"
        </button>
    }
}

/// The scrubber over the run's steps, labelled with the position in the run.
fn scrubber(session: SessionSignal, player: Player) -> impl IntoView {
    let step_count = move || session.with(|s| s.beat_position());
    let run_len = move || session.with(|s| s.beat_len());
    let position_label = move || {
        let (at, len, undone) = session.with(|s| (s.beat_position(), s.beat_len(), s.undone()));
        if undone > 0 {
            format!("step {at} of {len} — Step replays the rest; another move forks the run")
        } else {
            format!("step {at} of {len}")
        }
    };
    view! {
        <div class="scrubber">
            <input
                type="range"
                min="0"
                data-testid="scrubber"
                aria-label="Position in the run"
                aria-valuetext=position_label
                prop:max=move || run_len().to_string()
                prop:value=move || step_count().to_string()
                disabled=move || run_len() == 0
                on:input=move |ev| {
                    let at: usize = event_target_value(&ev).parse().unwrap_or(0);
                    player.playing.set(false);
                    session.update(|s| s.seek_beat(at));
                }
            />
            <span class="scrubber-label" data-testid="scrubber-label">{position_label}</span>
        </div>
    }
}

/// The two settings: protocol messages as steps, and pausing at key moments.
fn settings(session: SessionSignal, player: Player) -> impl IntoView {
    view! {
        <label class="setting" title="Show every wire-protocol message as a step of its own">
            <input
                type="checkbox"
                data-testid="protocol-view"
                prop:checked=move || session.with(|s| s.protocol)
                on:change=move |ev| {
                    let on = event_target_checked(&ev);
                    session.update(|s| s.protocol = on);
                }
            />
            " Protocol messages"
        </label>
        <label class="setting" title="Play stops at the first key moment of a run">
            <input
                type="checkbox"
                data-testid="key-pauses"
                prop:checked=move || player.key_pauses.get()
                on:change=move |ev| player.key_pauses.set(event_target_checked(&ev))
            />
            " Pause at key moments"
        </label>
    }
}
