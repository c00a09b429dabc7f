//! The SVG builders, natively: escaping, wrapping, layout, and both drawings of a lesson (as
//! the worker draws them from the page's request) and of the sandbox.

use super::*;
use crate::pages::sandbox::examples::example;
use crate::pages::sandbox::model::Sandbox;
use crate::session::Session;
use lockstep_worker::drawings;

/// Parses the document strictly; panics with the parser's message otherwise.
fn parse(svg: &str) -> roxmltree::Document<'_> {
    roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("not well-formed XML: {e}\n{svg}"))
}

fn played(slug: &str) -> Sandbox {
    let ex = example(slug).unwrap();
    let mut sandbox = Sandbox::new(ex.text, ex.check).unwrap();
    while sandbox.step() {}
    sandbox
}

#[test]
fn the_timeline_is_well_formed_svg_with_one_lane_per_session() {
    let sandbox = played("deadlock");
    let svg = timeline_svg(&sandbox_timeline(&sandbox));
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    let doc = parse(&svg);
    let lanes: Vec<String> = doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("lane"))
        .map(|n| {
            n.descendants()
                .filter(|t| t.is_text())
                .map(|t| t.text().unwrap())
                .collect()
        })
        .collect();
    assert_eq!(lanes, vec!["t1".to_string(), "t2".to_string()]);
    let class_count = |class: &str| {
        doc.descendants()
            .filter(|n| n.attribute("class") == Some(class))
            .count()
    };
    assert_eq!(class_count("row waiting"), 2);
    assert_eq!(class_count("row error"), 1);
    assert!(svg.contains("ERROR:  deadlock detected"));
}

#[test]
fn a_cancelled_step_is_a_note_and_its_error_is_in_its_lane() {
    let text = "setup { CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1); }
        session s1
        setup { BEGIN; }
        step s1a { SELECT * FROM t FOR UPDATE; }
        session s2
        step s2a { SELECT * FROM t FOR UPDATE; }
        step s2b { SELECT 'step x: ERROR: no' AS looks_like_a_step; }
        permutation s1a s2a s2b";
    let mut sandbox = Sandbox::new(text, None).unwrap();
    while sandbox.step() {}
    let diagram = sandbox_timeline(&sandbox);
    let rows: Vec<(Option<usize>, RowKind, &str)> = diagram
        .rows
        .iter()
        .map(|r| (r.lane, r.kind, r.text.as_str()))
        .collect();
    let cancelled = rows
        .iter()
        .position(|r| r.1 == RowKind::Note && r.2.contains("canceling step s2a"))
        .expect("a note for the cancel");
    assert_eq!(
        rows[cancelled + 1],
        (Some(1), RowKind::Completed, "s2a: <... completed>")
    );
    assert_eq!(
        rows[cancelled + 2],
        (
            Some(1),
            RowKind::Error,
            "ERROR:  canceling statement due to user request"
        )
    );
    // A result row that reads like a tester's line is not a row of its own.
    assert_eq!(rows[cancelled + 3].1, RowKind::Statement);
    assert_eq!(rows[cancelled + 4].1, RowKind::Note);
    assert_eq!(rows.len(), cancelled + 5);
}

/// What the worker answers to the page's request for a drawing of the session's run.
fn drawn(session: &Session, drawing: Drawing) -> String {
    let request = run_request(session, None, drawing);
    let draw = request.draw.clone().unwrap();
    lockstep_worker::drawn(&request, &draw).unwrap()
}

#[test]
fn a_lesson_timeline_has_one_lane_per_task() {
    let lesson = lockstep_lessons::lesson("lock-order").unwrap();
    let mut session = Session::new(lesson, None).unwrap();
    while session.step() {}
    let svg = drawn(&session, Drawing::Timeline);
    let doc = parse(&svg);
    let lanes = doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("lane"))
        .count();
    assert_eq!(lanes, session.world().task_views().len());
    assert!(doc
        .descendants()
        .any(|n| n.attribute("class") == Some("row error")));
}

#[test]
fn the_worker_draws_the_run_the_page_shows() {
    // The worker replays the page's moves from the same start: the same events, the same world.
    let lesson = lockstep_lessons::lesson("pool-exhaustion").unwrap();
    let mut knobs = lockstep::lesson::KnobValues::new();
    knobs.insert("requests".into(), 3);
    let mut session = Session::with_knobs(lesson, Some("drain-first"), &knobs).unwrap();
    assert_eq!(session.knobs.len(), 1);
    for _ in 0..6 {
        session.step();
    }
    let events: Vec<_> = session.events().cloned().collect();
    let title = format!(
        "{}{} — schedule {}",
        lesson.title,
        session
            .fix
            .as_deref()
            .map(|f| format!(" (fix: {f})"))
            .unwrap_or_default(),
        session.schedule()
    );
    let here = timeline_svg(&drawings::timeline(session.world(), &events, title));
    assert_eq!(drawn(&session, Drawing::Timeline), here);
    let graph = graph_svg(
        &drawings::graph(session.world()),
        &format!(
            "{} — wait-for graph at step {}",
            lesson.title,
            session.steps.len()
        ),
    );
    assert_eq!(drawn(&session, Drawing::WaitForGraph), graph);
}

#[test]
fn a_lesson_deadlock_is_exported_with_its_cycle_in_red() {
    // The pool's deadlock: a cycle no detector breaks.
    let lesson = lockstep_lessons::lesson("pool-exhaustion").unwrap();
    let mut session = Session::new(lesson, None).unwrap();
    while session.world().wait_for_graph().cycles().is_empty() && session.step_move() {}
    let svg = drawn(&session, Drawing::WaitForGraph);
    parse(&svg);
    assert!(svg.contains("class=\"edge in-cycle\""), "{svg}");
    assert!(svg.contains(&format!("wait-for graph at step {}", session.steps.len())));
}

#[test]
fn a_run_the_lesson_cannot_take_is_refused_with_the_reason() {
    let lesson = lockstep_lessons::lesson("lock-order").unwrap();
    let session = Session::new(lesson, None).unwrap();
    let mut request = run_request(&session, None, Drawing::Timeline);
    let draw = Draw {
        schedule: "nobody".to_string(),
        drawing: Drawing::Timeline,
    };
    request.draw = Some(draw.clone());
    let err = lockstep_worker::drawn(&request, &draw).unwrap_err();
    assert!(err.contains("nobody"), "{err}");
}

#[test]
fn text_is_escaped_so_markup_in_a_spec_stays_text() {
    let diagram = SequenceDiagram {
        title: "a <b> & \"c\" 'd'".into(),
        lanes: vec!["<script>alert(1)</script>".into()],
        rows: vec![Row {
            lane: Some(0),
            kind: RowKind::Statement,
            text: "SELECT '</text><script>' \u{1} FROM t".into(),
            blockers: vec![],
        }],
    };
    let svg = timeline_svg(&diagram);
    let doc = parse(&svg);
    assert!(!doc.descendants().any(|n| n.has_tag_name("script")));
    assert!(svg.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    let title = doc
        .descendants()
        .find(|n| n.has_tag_name("title"))
        .and_then(|n| n.text())
        .unwrap();
    assert_eq!(title, "a <b> & \"c\" 'd'");
}

#[test]
fn the_wait_for_graph_shows_the_cycle_of_a_deadlock_in_red() {
    let ex = example("deadlock").unwrap();
    let mut sandbox = Sandbox::new(ex.text, ex.check).unwrap();
    for _ in 0..4 {
        sandbox.step();
    }
    let picture = sandbox_graph(&sandbox);
    assert_eq!(picture.nodes.len(), 2);
    assert!(picture.edges.iter().all(|e| e.in_cycle));
    let svg = graph_svg(&picture, "wait-for graph");
    let doc = parse(&svg);
    let cycle_edges = doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("edge in-cycle"))
        .count();
    assert_eq!(cycle_edges, 2);
}

#[test]
fn an_svg_is_wide_enough_for_its_longest_text() {
    let node = |label: &str| GraphNode {
        label: label.into(),
        row: 2,
        kind: "conn",
        stuck: false,
    };
    let picture = GraphPicture {
        nodes: vec![node("a"), node("b")],
        edges: vec![GraphEdge {
            from: 0,
            to: 1,
            sentence: "x".repeat(200),
            in_cycle: false,
        }],
    };
    let svg = graph_svg(&picture, "t");
    let doc = parse(&svg);
    let width: f64 = doc
        .root_element()
        .attribute("width")
        .unwrap()
        .parse()
        .unwrap();
    assert!(width >= 200.0 * 6.7, "{width}");
}

#[test]
fn an_empty_wait_for_graph_says_nobody_waits() {
    let svg = graph_svg(&GraphPicture::default(), "wait-for graph");
    parse(&svg);
    assert!(svg.contains("Nobody waits for anybody."));
}

#[test]
fn long_text_wraps_and_is_cut_with_an_ellipsis() {
    let lines = wrap(&"word ".repeat(100), 30, 4);
    assert_eq!(lines.len(), 4);
    assert!(lines.iter().all(|l| l.chars().count() <= 30));
    assert!(lines[3].ends_with('…'));
    assert_eq!(wrap("x".repeat(45).as_str(), 30, 4).len(), 2);
}

#[test]
fn file_names_are_slugs() {
    assert_eq!(slug("Lock order: the fix!"), "lock-order-the-fix");
    assert_eq!(slug("***"), "lockstep");
}
