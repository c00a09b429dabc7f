use super::*;

fn request(lesson: &str, fix: Option<&str>) -> Request {
    Request {
        id: 7,
        lesson: lesson.to_string(),
        fix: fix.map(str::to_string),
        knobs: KnobValues::new(),
        authored: None,
        whole_lesson: false,
        first_failure: false,
        states_max: lockstep::explore::STATES_MAX_DEFAULT,
        draw: None,
    }
}

/// A clock that moves a second at every reading, so every slice reports progress.
fn ticking() -> impl FnMut() -> f64 {
    let mut t = 0.0;
    move || {
        t += 1000.0;
        t
    }
}

#[test]
fn the_bug_fails_and_the_real_fix_is_proven() {
    let bug = check(&request("lock-order", None), ticking(), |_| {}).unwrap();
    assert_eq!(bug.verdict(), "fails");
    assert!(
        bug.failures[0].kind.contains("deadlock"),
        "{:?}",
        bug.failures
    );
    assert!(bug.failures[0].steps > 0);
    let fixed = check(&request("lock-order", Some("order-by")), ticking(), |_| {}).unwrap();
    assert_eq!(fixed.verdict(), "proven");
    assert!(fixed.complete && fixed.failures.is_empty() && fixed.ends > 0);
}

#[test]
fn the_worker_explores_the_same_world_as_lockstep_check() {
    // The same counts `lockstep check` prints for the lesson (pinned in tests/tests/lessons.rs).
    let lesson = lockstep_lessons::lesson("lock-order").unwrap();
    for fix in [None, Some("order-by")] {
        let scenario = lesson.scenario_at(fix, &KnobValues::new()).unwrap();
        let limits = Limits {
            depth_max: CHECK_DEPTH_MAX,
            ..Limits::default()
        };
        let expected = Explorer::new(World::new(&scenario).unwrap(), limits).run();
        let got = check(&request("lock-order", fix), ticking(), |_| {}).unwrap();
        assert_eq!(got.states, expected.states_unique, "{fix:?}");
        assert_eq!(got.complete, expected.complete, "{fix:?}");
    }
}

#[test]
fn first_failure_stops_early_with_the_failure() {
    let mut asked = request("pool-exhaustion", None);
    asked.first_failure = true;
    let first = check(&asked, ticking(), |_| {}).unwrap();
    let all = check(&request("pool-exhaustion", None), ticking(), |_| {}).unwrap();
    assert_eq!(first.verdict(), "fails");
    assert!(first.states <= all.states);
}

#[test]
fn progress_carries_the_request_id_and_grows() {
    let mut seen = Vec::new();
    check(&request("lock-order", None), ticking(), |reply| {
        seen.push(reply)
    })
    .unwrap();
    assert!(!seen.is_empty());
    let mut last = 0;
    for reply in seen {
        let Reply::Progress { id, states, .. } = reply else {
            panic!("only progress before the end: {reply:?}");
        };
        assert_eq!(id, 7);
        assert!(states >= last);
        last = states;
    }
}

#[test]
fn a_state_budget_gives_an_incomplete_verdict_never_proven() {
    let mut asked = request("lock-order", Some("order-by"));
    asked.states_max = 10;
    let result = check(&asked, ticking(), |_| {}).unwrap();
    assert_eq!(result.verdict(), "incomplete");
    assert_eq!(result.stop, Some(Stop::StatesMax));
}

#[test]
fn unknown_lessons_fixes_and_knobs_are_refused_in_words() {
    let mut replies = Vec::new();
    let text = serde_json::to_string(&request("no-such-lesson", None)).unwrap();
    answer(&text, ticking(), |r| replies.push(r));
    let mut fix = request("lock-order", Some("nope"));
    fix.id = 8;
    answer(&serde_json::to_string(&fix).unwrap(), ticking(), |r| {
        replies.push(r)
    });
    let mut knob = request("lock-order", None);
    knob.id = 9;
    knob.knobs.insert("nope".into(), 2);
    answer(&serde_json::to_string(&knob).unwrap(), ticking(), |r| {
        replies.push(r)
    });
    answer("{not json", ticking(), |r| replies.push(r));
    let refusals: Vec<(u64, String)> = replies
        .into_iter()
        .map(|r| match r {
            Reply::Refused { id, message } => (id, message),
            other => panic!("expected a refusal, got {other:?}"),
        })
        .collect();
    assert_eq!(refusals.len(), 4);
    assert_eq!(
        refusals[0],
        (7, "there is no lesson called `no-such-lesson`".into())
    );
    assert_eq!(
        refusals[1],
        (
            8,
            "the lesson has no fix `nope`; its fixes are order-by, retry".into()
        )
    );
    assert_eq!(
        refusals[2],
        (9, "the lesson has no knob `nope`; it has none".into())
    );
    assert_eq!(refusals[3].0, 0);
    assert!(refusals[3].1.starts_with("the request could not be read"));
}

#[test]
fn replies_round_trip_as_json() {
    let mut replies = vec![Reply::Ready];
    let text = serde_json::to_string(&request("read-skew", None)).unwrap();
    answer(&text, ticking(), |r| replies.push(r));
    for reply in replies {
        let json = serde_json::to_string(&reply).unwrap();
        assert_eq!(serde_json::from_str::<Reply>(&json).unwrap(), reply);
    }
}

/// The JSON the studio sends for a lesson file: its TOML, read as JSON values.
fn authored_json(toml_text: &str) -> String {
    let value: serde_json::Value = toml::from_str(toml_text).unwrap();
    serde_json::to_string(&value).unwrap()
}

#[test]
fn an_authored_lesson_is_checked_like_the_built_in_one_it_copies() {
    let text = lockstep_lessons::source("lock-order").unwrap();
    for fix in [None, Some("order-by")] {
        let built_in = check(&request("lock-order", fix), ticking(), |_| {}).unwrap();
        let mut asked = request("lock-order", fix);
        asked.authored = Some(authored_json(text));
        let authored = check(&asked, ticking(), |_| {}).unwrap();
        assert_eq!(authored.states, built_in.states, "{fix:?}");
        assert_eq!(authored.verdict(), built_in.verdict(), "{fix:?}");
    }
}

#[test]
fn a_whole_lesson_check_says_what_lockstep_check_says() {
    let lesson = lockstep_lessons::lesson("read-skew").unwrap();
    let limits = Limits {
        depth_max: CHECK_DEPTH_MAX,
        ..Limits::default()
    };
    let expected = lockstep::explore::world::check_lesson(lesson, limits).unwrap();
    let mut asked = request("read-skew", None);
    asked.whole_lesson = true;
    asked.authored = Some(authored_json(
        lockstep_lessons::source("read-skew").unwrap(),
    ));
    let mut progress = 0;
    let reply = check_whole_lesson(&asked, ticking(), |r| {
        assert!(matches!(r, Reply::Progress { what: Some(_), .. }), "{r:?}");
        progress += 1;
    })
    .unwrap();
    let Reply::LessonChecked { id, ok, lines } = reply else {
        panic!("{reply:?}")
    };
    assert_eq!(id, 7);
    assert!(ok, "{lines:?}");
    assert!(progress > 0);
    for (line, check) in lines.iter().zip(&expected) {
        assert_eq!(line.text, check.says());
        assert!(line.ok);
    }
    assert_eq!(lines.len(), expected.len() + lesson.challenges.len());
}

#[test]
fn an_authored_lesson_that_does_not_validate_is_refused_with_the_reason() {
    let mut asked = request("mine", None);
    asked.authored = Some(r#"{"slug": "mine"}"#.into());
    let mut replies = Vec::new();
    answer(&serde_json::to_string(&asked).unwrap(), ticking(), |r| {
        replies.push(r)
    });
    let Some(Reply::Refused { id: 7, message }) = replies.last() else {
        panic!("{replies:?}")
    };
    assert!(message.contains("missing field"), "{message}");
    asked.authored = Some("x".repeat(AUTHORED_BYTES_MAX + 1));
    let err = start_world(&asked).unwrap_err();
    assert!(err.contains("more than"), "{err}");
}

#[test]
fn lengths_read_as_rust_writes_them_with_one_decimal_and_none() {
    use svg::{Tenths, Whole};
    // Thirds never fall halfway between two tenths, where the two ways of rounding differ.
    for k in -3000..3000 {
        let x = f64::from(k) / 3.0;
        assert_eq!(Tenths(x).to_string(), format!("{x:.1}"), "{x}");
        if x.round() != 0.0 {
            assert_eq!(Whole(x).to_string(), format!("{x:.0}"), "{x}");
        }
    }
    // No minus sign on a zero.
    assert_eq!(Whole(-0.3).to_string(), "0");
    assert_eq!(Tenths(-0.03).to_string(), "0.0");
}

#[test]
fn a_drawing_request_is_answered_with_the_file() {
    let mut asked = request("lock-order", None);
    asked.draw = Some(Draw {
        schedule: "A B".into(),
        drawing: Drawing::Timeline,
    });
    let mut replies = Vec::new();
    answer(&serde_json::to_string(&asked).unwrap(), ticking(), |r| {
        replies.push(r)
    });
    let [Reply::Drawn { id: 7, svg }] = &replies[..] else {
        panic!("{replies:?}")
    };
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(svg.contains("schedule A B"), "{svg}");
    // The reply travels as JSON like the others.
    let json = serde_json::to_string(&replies[0]).unwrap();
    assert_eq!(serde_json::from_str::<Reply>(&json).unwrap(), replies[0]);
}
