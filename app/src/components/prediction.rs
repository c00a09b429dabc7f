//! "What happens if B runs now?": when Play pauses at a key moment, the page asks about the task
//! Step would run next. The choices are what the engine finds by trying the next beat of every
//! task that can run (on copies of the run), so each is something that can happen here; picking
//! one plays the step and says whether it was right. Optional: Play and Step go on regardless.

use crate::player::{step, Player, SessionSignal};
use leptos::prelude::*;
use lockstep::world::{Choice, Guess};

/// A question at one position of the run.
#[derive(Clone, Debug, PartialEq)]
struct Question {
    /// The task it is about.
    task: String,
    /// What its next beat does.
    answer: Guess,
    /// The choices offered, the answer among them.
    options: Vec<Guess>,
}

/// The prediction card, shown while Play is paused at a key moment.
#[component]
pub fn Prediction() -> impl IntoView {
    let session = expect_context::<SessionSignal>();
    let player = expect_context::<Player>();
    // The answer given, shown at the position the step it played reached.
    let answered = RwSignal::new(None::<(usize, bool, String)>);
    let question = Memo::new(move |_| {
        let at = session.with(|s| s.beat_position());
        if player.key_pause.get() != Some(at) || player.scheduler_only.get() {
            return None;
        }
        session.with(|s| {
            let Some(Choice::Task(task)) = s.next_choice() else {
                return None;
            };
            let guesses = s.guesses();
            let answer = guesses.iter().find(|(t, _)| *t == task)?.1;
            // What the engine found by trying every task, and going on without waiting (what
            // a learner who expects no trouble would say).
            let mut options: Vec<Guess> = guesses.iter().map(|(_, g)| *g).collect();
            options.push(Guess::GoesOn);
            lockstep::order::sort(&mut options);
            options.dedup();
            if options.len() < 2 {
                options.push(Guess::Waits);
            }
            Some(Question {
                task: s.task_name(task),
                answer,
                options,
            })
        })
    });
    let feedback = move || {
        let (at, right, text) = answered.get()?;
        (session.with(|s| s.beat_position()) == at).then(|| {
            view! {
                <p class="prediction-feedback" class:right=right data-testid="prediction-feedback">
                    {if right { "Right: " } else { "Not quite: " }}
                    {text}
                    "."
                </p>
            }
        })
    };
    view! {
        {move || {
            question
                .get()
                .map(|q| {
                    let buttons = q
                        .options
                        .iter()
                        .map(|&g| {
                            let label = g.says(&q.task);
                            let answer = q.answer;
                            let said = answer.says(&q.task);
                            view! {
                                <button
                                    data-testid="prediction-choice"
                                    on:click=move |_| {
                                        player.playing.set(false);
                                        step(session, player);
                                        let at = session.with_untracked(|s| s.beat_position());
                                        answered.set(Some((at, g == answer, said.clone())));
                                    }
                                >
                                    {label}
                                </button>
                            }
                        })
                        .collect::<Vec<_>>();
                    view! {
                        <section class="prediction" data-testid="prediction" aria-label="Predict the next step">
                            <strong>{format!("Predict: what happens if {} runs now?", q.task)}</strong>
                            " "
                            {buttons}
                        </section>
                    }
                })
        }}
        {feedback}
    }
}
