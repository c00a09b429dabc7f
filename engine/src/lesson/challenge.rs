//! Goals for the learner, as lesson data (`[[challenges]]`). A challenge names what to reach,
//! where to start (a fix, knob settings), a hint, and a solution that `lockstep check` verifies
//! and the page can replay. The search that verifies them is
//! [`crate::analysis::challenges`].

use super::{KnobValues, Lesson};
use serde::{Deserialize, Serialize};

/// A goal the engine can tell is met.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Challenge {
    /// Its name in addresses (`&challenge=ID`) and progress: a public contract, never renamed.
    pub id: String,
    /// What the learner must reach.
    pub kind: ChallengeKind,
    /// A few words for the list of challenges ("Make it hang").
    pub title: String,
    /// The goal, in one or two sentences of the lesson's terms.
    pub prompt: String,
    /// Shown after a few tries that did not reach the goal.
    pub hint: String,
    /// The fix the challenge starts from (`break-the-fix`: the partial fix to break).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    /// Knob settings the challenge starts from (`size-it`: the load to size for).
    #[serde(default, skip_serializing_if = "KnobValues::is_empty")]
    pub knobs: KnobValues,
    /// The knob the learner turns (`size-it`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub knob: Option<String>,
    /// A solution, checked by `lockstep check`: for `make-it-fail` and `break-the-fix` the
    /// shortest schedule of clicks (task names, `+` for the clock), for `survive` a fix's slug,
    /// for `size-it` the knob's smallest safe value.
    pub solution: String,
}

/// The kinds of goal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChallengeKind {
    /// Reach the bug's outcome by choosing who runs next.
    MakeItFail,
    /// With a partial fix applied, find a schedule in which it still fails.
    BreakTheFix,
    /// Pick a fix (or knob setting) under which no schedule fails; the explorer confirms.
    Survive,
    /// Find the smallest value of a knob at which no schedule fails.
    SizeIt,
}

impl ChallengeKind {
    /// Its name in lesson files.
    pub fn name(self) -> &'static str {
        match self {
            ChallengeKind::MakeItFail => "make-it-fail",
            ChallengeKind::BreakTheFix => "break-the-fix",
            ChallengeKind::Survive => "survive",
            ChallengeKind::SizeIt => "size-it",
        }
    }

    /// Whether the learner plays it by choosing who runs next (the page is then the
    /// scheduler's: no Play, no default schedule).
    pub fn is_scheduling(self) -> bool {
        matches!(self, ChallengeKind::MakeItFail | ChallengeKind::BreakTheFix)
    }
}

/// Tries before a challenge offers its hint.
pub const TRIES_BEFORE_HINT: u32 = 2;

impl Challenge {
    /// The solution as clicks, for the kinds played by choosing who runs next.
    pub fn clicks(&self) -> Vec<String> {
        self.solution
            .split_whitespace()
            .map(str::to_string)
            .collect()
    }

    /// The smallest safe value, for `size-it`.
    pub fn size(&self) -> Option<u32> {
        (self.kind == ChallengeKind::SizeIt)
            .then(|| self.solution.trim().parse().ok())
            .flatten()
    }
}

/// Why a proof does not meet a `survive` or `size-it` challenge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NotMet {
    /// The load was turned: the challenge is to survive the load it sets.
    LoadChanged {
        /// The knob's label ("Concurrent requests").
        knob: String,
        /// The value the challenge keeps it at.
        keep: u32,
    },
    /// The fix is not the one the challenge sizes.
    OtherFix,
    /// Safe, but a smaller value is safe too.
    NotSmallest,
}

impl Challenge {
    /// Every knob's value the challenge starts from: its fix's settings, then its own.
    pub fn start_knobs(&self, lesson: &Lesson) -> KnobValues {
        let mut knobs = lesson.knob_values(self.fix.as_deref());
        knobs.extend(self.knobs.iter().map(|(k, &v)| (k.clone(), v)));
        knobs
    }

    /// Whether a run with `fix` and every knob at `knobs` meets a scheduling challenge once
    /// its verdict is `verdict`: the challenge's own setting, and a bug.
    pub fn met_by_run(
        &self,
        lesson: &Lesson,
        fix: Option<&str>,
        knobs: &KnobValues,
        verdict: &crate::world::Verdict,
    ) -> bool {
        self.kind.is_scheduling()
            && fix == self.fix.as_deref()
            && *knobs == self.start_knobs(lesson)
            && verdict.is_bug()
    }

    /// Whether a proof that no schedule of `fix` at `knobs` (every knob's value) fails meets a
    /// `survive` or `size-it` challenge. Knobs that set how many tasks run are the load, which
    /// the learner does not control: they must stay at the challenge's values.
    pub fn met_by_proof(
        &self,
        lesson: &Lesson,
        fix: Option<&str>,
        knobs: &KnobValues,
    ) -> Result<(), NotMet> {
        let start = self.start_knobs(lesson);
        for knob in lesson.knobs.iter().filter(|k| k.task.is_some()) {
            let keep = start.get(&knob.name).copied().unwrap_or(knob.default);
            if knobs.get(&knob.name).copied().unwrap_or(knob.default) != keep {
                return Err(NotMet::LoadChanged {
                    knob: knob.label.clone(),
                    keep,
                });
            }
        }
        match self.kind {
            ChallengeKind::SizeIt => {
                if fix != self.fix.as_deref() {
                    return Err(NotMet::OtherFix);
                }
                let sized = self.knob.as_deref().and_then(|k| knobs.get(k)).copied();
                match (sized, self.size()) {
                    (Some(value), Some(smallest)) if value > smallest => Err(NotMet::NotSmallest),
                    _ => Ok(()),
                }
            }
            _ => Ok(()),
        }
    }
}

impl Lesson {
    /// The challenge called `id`, if the lesson has one.
    pub fn challenge(&self, id: &str) -> Option<&Challenge> {
        self.challenges.iter().find(|c| c.id == id)
    }
}

/// What the file format alone cannot say about a lesson's challenges: ids are unique, and
/// what each names exists and fits its kind. Whether each is solvable is `lockstep check`'s.
pub(super) fn validate(lesson: &Lesson) -> Result<(), String> {
    let mut ids = std::collections::BTreeSet::new();
    for c in &lesson.challenges {
        let what = format!("challenge {}", c.id);
        if c.id.is_empty()
            || !c
                .id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(format!(
                "{what}: an id is lowercase letters, digits and dashes"
            ));
        }
        if !ids.insert(c.id.as_str()) {
            return Err(format!("{what} is listed twice"));
        }
        for (field, text) in [
            ("title", &c.title),
            ("prompt", &c.prompt),
            ("hint", &c.hint),
        ] {
            if text.trim().is_empty() {
                return Err(format!("{what}: `{field}` is empty"));
            }
        }
        if let Some(slug) = &c.fix {
            if lesson.fix(slug).is_none() {
                return Err(format!("{what}: the lesson has no fix `{slug}`"));
            }
        }
        lesson
            .scenario_at(c.fix.as_deref(), &c.knobs)
            .map_err(|e| format!("{what}: {e}"))?;
        match c.kind {
            ChallengeKind::MakeItFail if c.fix.is_some() => {
                return Err(format!(
                    "{what}: make-it-fail starts from the bug; to break a fix, use break-the-fix"
                ))
            }
            ChallengeKind::BreakTheFix => match c.fix.as_deref().and_then(|s| lesson.fix(s)) {
                None => return Err(format!("{what}: break-the-fix names the `fix` to break")),
                Some(fix) if fix.proven => {
                    return Err(format!(
                        "{what}: fix {} is proven, so no schedule breaks it",
                        fix.slug
                    ))
                }
                Some(_) => {}
            },
            ChallengeKind::Survive => {
                if lesson.fix(c.solution.trim()).is_none() {
                    return Err(format!(
                        "{what}: a survive solution is a fix's slug, and the lesson has no fix `{}`",
                        c.solution.trim()
                    ));
                }
            }
            ChallengeKind::SizeIt => {
                let Some(knob) = c.knob.as_deref().and_then(|k| lesson.knob(k)) else {
                    return Err(format!("{what}: size-it names the `knob` to turn"));
                };
                match c.size() {
                    Some(v) if (knob.min..=knob.max).contains(&v) => {}
                    _ => {
                        return Err(format!(
                            "{what}: the solution must be a value of knob {} within {}..={}",
                            knob.name, knob.min, knob.max
                        ))
                    }
                }
            }
            ChallengeKind::MakeItFail => {}
        }
        if c.kind.is_scheduling() {
            let schedule = c
                .solution
                .parse::<crate::world::Schedule>()
                .map_err(|e| format!("{what}: solution: {e}"))?;
            if schedule.0.is_empty() {
                return Err(format!("{what}: the solution names no click"));
            }
        }
    }
    Ok(())
}
