//! Reading operations from lesson files, and checking a program's labels.

use super::*;

fn parse(json: &str) -> Result<Op, String> {
    serde_json::from_str::<Op>(json).map_err(|e| e.to_string())
}

#[test]
fn an_operation_reads_with_defaults_for_variable_names() {
    let op = parse(r#"{"op":"query","line":3,"on":"db","sql":"SELECT 1"}"#).unwrap();
    assert_eq!(op.line, 3);
    assert_eq!(
        op.action,
        Action::Query {
            on: "db".into(),
            sql: "SELECT 1".into(),
            args: vec![],
            rows: "rows".into(),
            context: None
        }
    );
}

#[test]
fn a_missing_or_foreign_field_is_an_error_naming_it() {
    let err = parse(r#"{"op":"query","line":3,"on":"db"}"#).unwrap_err();
    assert!(err.contains("`query` needs `sql`"), "{err}");
    let err = parse(r#"{"op":"commit","line":3,"sql":"x"}"#).unwrap_err();
    assert!(err.contains("`commit` does not take `sql`"), "{err}");
    let err = parse(r#"{"op":"comit","line":3}"#).unwrap_err();
    assert!(err.contains("unknown operation `comit`"), "{err}");
    let err = parse(r#"{"op":"commit","line":3,"txx":"t"}"#).unwrap_err();
    assert!(err.contains("txx"), "{err}");
}

#[test]
fn operations_round_trip_through_serde() {
    let text =
        r#"{"op":"defer","line":4,"body":[{"op":"rollback","line":4,"when":"error","tx":"tx"}]}"#;
    let op = parse(text).unwrap();
    let again: Op = serde_json::from_str(&serde_json::to_string(&op).unwrap()).unwrap();
    assert_eq!(op, again);
}

#[test]
fn jumps_to_undefined_labels_are_rejected() {
    let program: Vec<Op> = serde_json::from_str(
        r#"[{"op":"next","line":1,"done":"end"},{"op":"return","line":2,"label":"fin"}]"#,
    )
    .unwrap();
    let err = resolve_labels(&program).unwrap_err();
    assert!(err.0.contains("`end`"), "{err}");
}
