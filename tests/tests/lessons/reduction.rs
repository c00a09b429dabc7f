//! The reduced search against the plain one, on every lesson and fix.

use super::*;

/// A failure's text with instance numbers of identical requests blanked (`R2` -> `R#`): the
/// reduced search reports failures up to renaming identical tasks.
fn up_to_renaming(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == 'R' && chars.peek().is_some_and(|d| d.is_ascii_digit()) {
            while chars.peek().is_some_and(|d| d.is_ascii_digit()) {
                chars.next();
            }
            out.push('#');
        }
    }
    out
}

/// The reduced search (private steps, sleep sets, symmetry) against the plain one on a world:
/// the same verdict, the same failure kinds up to renaming, and every schedule it reports
/// really reaches its failure.
fn assert_reduction_is_sound(world: World, what: &str) {
    use lockstep::explore::{Explorer, Limits, Model, Reduction};
    let limits = Limits::default();
    let plain = Explorer::with_reduction(world.clone(), limits, Reduction::Off).run();
    let reduced = Explorer::new(world.clone(), limits).run();
    assert!(plain.complete && reduced.complete, "{what}");
    assert_eq!(plain.proven(), reduced.proven(), "{what}");
    let kinds = |r: &lockstep::explore::Report<Choice, lockstep::explore::world::Failure>| {
        let mut k: Vec<String> = r
            .failures
            .iter()
            .map(|f| up_to_renaming(&f.failure.to_string()))
            .collect();
        k.sort();
        k.dedup();
        k
    };
    assert_eq!(kinds(&plain), kinds(&reduced), "{what}");
    assert!(reduced.states_unique <= plain.states_unique, "{what}");
    for found in &reduced.failures {
        let mut replay = world.clone();
        for choice in &found.schedule {
            Model::step(&mut replay, choice);
        }
        assert_eq!(
            Model::failure(&replay).as_ref(),
            Some(&found.failure),
            "{what}"
        );
    }
}

#[test]
fn the_reduced_search_agrees_with_the_plain_one_on_every_lesson_and_fix() {
    for lesson in lockstep_lessons::catalogue() {
        let fixes = std::iter::once(None).chain(lesson.fixes.iter().map(|f| Some(f.slug.as_str())));
        for fix in fixes {
            // Two requests keep the plain search small; the pool sizes cover hanging and not.
            let settings: Vec<lockstep::lesson::KnobValues> = if lesson.knobs.is_empty() {
                vec![Default::default()]
            } else {
                (1..=3)
                    .map(|pool| {
                        lockstep::lesson::KnobValues::from([
                            ("requests".to_string(), 2),
                            ("max_conns".to_string(), pool),
                        ])
                    })
                    .collect()
            };
            for knobs in settings {
                let scenario = lesson.scenario_at(fix, &knobs).unwrap();
                let what = format!("{} {fix:?} {knobs:?}", lesson.slug);
                assert_reduction_is_sound(World::new(&scenario).unwrap(), &what);
            }
        }
    }
}
