//! Property tests of the address decoder: a share link is untrusted input that runs in a
//! reader's browser, so any list of parameters must decode without a panic, and every state the
//! page writes must read back as itself.

use super::{decode, encode, UrlState};
use proptest::prelude::*;

/// The parameters with a meaning of their own (everything else numeric is a knob).
const OWN: [&str; 9] = [
    "lesson",
    "lesson_src",
    "fix",
    "step",
    "schedule",
    "embed",
    "workshop",
    "panel",
    "challenge",
];

/// Text a hostile link could carry: any characters, including separators, escapes and
/// multi-byte ones.
fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,40}",
        "[&=?%+# 0-9a-z-]{0,20}",
        prop::sample::select(OWN.to_vec()).prop_map(str::to_string),
    ]
}

fn slug() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9-]{0,20}"
}

fn state() -> impl Strategy<Value = UrlState> {
    (
        prop::option::of(slug()),
        prop::option::of(slug()),
        0usize..100_000,
        prop::option::of("[A-Z][A-Za-z0-9.]{0,6}( [A-Z+][A-Za-z0-9.]{0,6}){0,30}"),
        any::<bool>(),
        any::<bool>(),
        prop::collection::btree_map("[a-z_]{1,12}", any::<u32>(), 0..4),
        prop::option::of("[a-z][a-z-]{0,15}"),
        prop::option::of("[a-z][a-z0-9-]{0,20}"),
        prop::option::of("1[A-Za-z0-9_-]{1,200}"),
    )
        .prop_map(
            |(
                lesson,
                fix,
                step,
                schedule,
                embed,
                workshop,
                knobs,
                panel,
                challenge,
                lesson_src,
            )| {
                UrlState {
                    lesson,
                    lesson_src,
                    fix,
                    // The page writes `step` only without a schedule.
                    step: if schedule.is_some() { 0 } else { step },
                    schedule,
                    embed,
                    workshop,
                    knobs: knobs
                        .into_iter()
                        .filter(|(name, _)| !OWN.contains(&name.as_str()))
                        .collect(),
                    panel,
                    challenge,
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn any_parameters_decode_without_panic(pairs in prop::collection::vec((any_text(), any_text()), 0..12)) {
        let state = decode(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        // Knobs are only ever numbers under names that are not the page's own.
        for name in state.knobs.keys() {
            prop_assert!(!OWN.contains(&name.as_str()));
        }
        // Empty or blank values mean "not given".
        for text in [&state.lesson, &state.fix, &state.schedule, &state.panel, &state.challenge].into_iter().flatten() {
            prop_assert!(!text.trim().is_empty());
        }
    }

    #[test]
    fn every_state_the_page_writes_reads_back_as_itself(state in state()) {
        prop_assert_eq!(decode(encode(&state)), state);
    }

    #[test]
    fn a_panel_name_is_kept_as_written_and_never_taken_for_a_knob(name in "[a-z][a-z-]{0,15}", number in any::<u32>()) {
        let state = decode([("panel", name.as_str())]);
        prop_assert_eq!(state.panel, Some(name));
        let numeric = decode([("panel", number.to_string())]);
        prop_assert!(numeric.knobs.is_empty());
        prop_assert_eq!(numeric.panel, Some(number.to_string()));
    }

    #[test]
    fn the_first_of_a_repeated_parameter_wins(first in slug(), second in slug()) {
        let state = decode([("lesson", first.as_str()), ("lesson", second.as_str())]);
        prop_assert_eq!(state.lesson, Some(first));
    }
}
