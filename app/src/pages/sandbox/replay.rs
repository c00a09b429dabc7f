//! Playing a link's run (`step=N`, `by-hand=…`) without holding the tab: the moves are taken
//! while they fit in [`REPLAY_FIRST_BUDGET_MS`] before the page first draws (a short run opens
//! as it always did), and the rest one frame's budget at a time on a copy, with progress and a
//! Cancel that keeps the moves taken so far. The work itself is bounded by `MOVES_MAX` moves.

use super::address::Request;
use super::model::{Plan, Sandbox};
use super::signal::SandboxSignal;
use super::whole_run::FRAME_BUDGET_MS;
use leptos::prelude::*;

/// Milliseconds of replay before the page first draws; past it the replay goes on in frames.
pub const REPLAY_FIRST_BUDGET_MS: f64 = 40.0;

/// One move a link asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// What Step takes.
    Step,
    /// A step launched by hand.
    ByHand(String),
    /// The end of the permutation.
    Finish,
}

/// Follows the plan the request names and lists the moves it asks for.
pub fn actions(sandbox: &mut Sandbox, request: &Request) -> Vec<Action> {
    if let Some(steps) = &request.by_hand {
        sandbox.set_plan(Plan::ByHand);
        return steps
            .iter()
            .map(|step| match step.as_str() {
                "." => Action::Finish,
                _ => Action::ByHand(step.clone()),
            })
            .collect();
    }
    if let Some(p) = request.permutation {
        if sandbox
            .permutations
            .as_ref()
            .is_ok_and(|list| p < list.len())
        {
            sandbox.set_plan(Plan::Permutation(p));
        }
    }
    vec![Action::Step; request.step]
}

/// Takes one move; false when it could not be taken (the replay stops there).
pub fn apply(sandbox: &mut Sandbox, action: &Action) -> bool {
    match action {
        Action::Step => sandbox.step(),
        Action::ByHand(step) => sandbox.launch_by_hand(step),
        Action::Finish => sandbox.finish(),
    }
}

/// Takes moves from `actions[*next..]` until one fails or `deadline` (ms) passes; true when
/// the replay is over.
fn take_until(
    sandbox: &mut Sandbox,
    actions: &[Action],
    next: &mut usize,
    deadline: f64,
    now: impl Fn() -> f64,
) -> bool {
    while let Some(action) = actions.get(*next) {
        if now() >= deadline {
            return false;
        }
        *next += 1;
        if !apply(sandbox, action) {
            return true;
        }
    }
    true
}

/// A replay going on in frames: moves taken so far, of how many.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplayProgress {
    /// Moves taken (or tried) so far.
    pub done: usize,
    /// Moves the link asks for.
    pub total: usize,
}

/// Plays the request on the sandbox in the signal: at once while it fits the first budget, then
/// in frames. `progress` is `Some` while the replay goes on; `cancel` is bumped to stop it.
pub fn start(
    sandbox: SandboxSignal,
    request: &Request,
    progress: RwSignal<Option<ReplayProgress>>,
    cancel: StoredValue<u64>,
) {
    // The first slice runs in place: no copy for a short replay.
    let deadline = js_sys::Date::now() + REPLAY_FIRST_BUDGET_MS;
    let first = sandbox.try_update_untracked(|s| {
        let s = s.as_mut()?;
        let actions = actions(s, request);
        let mut next = 0;
        let over = take_until(s, &actions, &mut next, deadline, js_sys::Date::now);
        Some((over, actions, next))
    });
    let Some(Some((over, actions, next))) = first else {
        return;
    };
    if over {
        sandbox.notify();
        return;
    }
    let Some(copy) = sandbox.get_untracked() else {
        return;
    };
    progress.set(Some(ReplayProgress {
        done: next,
        total: actions.len(),
    }));
    let generation = cancel.get_value();
    let work = StoredValue::new_local(Some((copy, actions, next)));
    request_animation_frame(move || frame(sandbox, work, progress, cancel, generation));
}

type Work = StoredValue<Option<(Sandbox, Vec<Action>, usize)>, LocalStorage>;

/// One frame of the replay, then the next, until it is over or cancelled; either way the
/// sandbox gets the moves taken.
fn frame(
    sandbox: SandboxSignal,
    work: Work,
    progress: RwSignal<Option<ReplayProgress>>,
    cancel: StoredValue<u64>,
    generation: u64,
) {
    let cancelled = cancel.get_value() != generation;
    let deadline = js_sys::Date::now() + FRAME_BUDGET_MS;
    let state = work.try_update_value(|w| {
        let (copy, actions, next) = w.as_mut()?;
        let over = cancelled || take_until(copy, actions, next, deadline, js_sys::Date::now);
        Some((over, *next, actions.len()))
    });
    let Some(Some((over, done, total))) = state else {
        return;
    };
    if over {
        if let Some(Some((copy, _, _))) = work.try_update_value(Option::take) {
            sandbox.set(Some(copy));
        }
        progress.set(None);
        return;
    }
    progress.set(Some(ReplayProgress { done, total }));
    request_animation_frame(move || frame(sandbox, work, progress, cancel, generation));
}

#[cfg(test)]
mod tests {
    use super::super::examples::example;
    use super::*;

    #[test]
    fn a_replay_cut_by_its_deadline_goes_on_where_it_stopped_and_ends_as_at_once() {
        let ex = example("deadlock").unwrap();
        let request = Request {
            step: 5,
            ..Request::default()
        };
        let mut whole = Sandbox::new(ex.text, ex.check).unwrap();
        let all = actions(&mut whole, &request);
        let mut next = 0;
        assert!(take_until(&mut whole, &all, &mut next, 1.0, || 0.0));
        let mut sliced = Sandbox::new(ex.text, ex.check).unwrap();
        let list = actions(&mut sliced, &request);
        let mut next = 0;
        let clock = std::cell::Cell::new(0.0);
        // Each slice takes two moves before its clock runs out.
        let mut slices = 0;
        loop {
            slices += 1;
            let deadline = clock.get() + 2.0;
            let tick = || {
                clock.set(clock.get() + 1.0);
                clock.get() - 1.0
            };
            if take_until(&mut sliced, &list, &mut next, deadline, tick) {
                break;
            }
        }
        assert_eq!(slices, 3);
        assert_eq!(sliced.moves.len(), 5);
        assert_eq!(sliced.run().output(), whole.run().output());
    }
}
