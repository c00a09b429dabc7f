//! The readers against lib/pq's behaviour, each client's wording of an error, binding.

use super::*;

fn deadlock() -> ErrorFields {
    ErrorFields {
        severity: "ERROR".into(),
        code: "40P01".into(),
        message: "deadlock detected".into(),
        detail: Some(
            "Process 1 waits for ShareLock on transaction 8; blocked by process 2.\n\
             Process 2 waits for ShareLock on transaction 7; blocked by process 1."
                .into(),
        ),
        hint: Some("See server log for query details.".into()),
        context: Some("while inserting index tuple (0,2) in relation \"t\"".into()),
    }
}

#[test]
fn each_client_words_a_server_error_the_way_its_library_prints_it() {
    let e = deadlock();
    assert_eq!(
        Client::Pgx.server_error(&e),
        "ERROR: deadlock detected (SQLSTATE 40P01)"
    );
    assert_eq!(Client::LibPq.server_error(&e), "pq: deadlock detected");
    assert_eq!(
        Client::Psycopg2.server_error(&e),
        "django.db.utils.OperationalError: deadlock detected\n\
         DETAIL:  Process 1 waits for ShareLock on transaction 8; blocked by process 2.\n\
         Process 2 waits for ShareLock on transaction 7; blocked by process 1.\n\
         HINT:  See server log for query details.\n\
         CONTEXT:  while inserting index tuple (0,2) in relation \"t\""
    );
    assert_eq!(
        Client::Postgrex.server_error(&e),
        "** (Postgrex.Error) ERROR 40P01 (deadlock_detected) deadlock detected\n\
         \n    hint: See server log for query details.\n\
         \n\
         Process 1 waits for ShareLock on transaction 8; blocked by process 2.\n\
         Process 2 waits for ShareLock on transaction 7; blocked by process 1."
    );
}

#[test]
fn django_names_the_class_psycopg2_maps_the_sqlstate_to() {
    let class = |code: &str| {
        let e = ErrorFields {
            code: code.into(),
            detail: None,
            hint: None,
            context: None,
            ..deadlock()
        };
        let text = django_error(&e);
        text["django.db.utils.".len()..text.find(':').unwrap()].to_string()
    };
    // 40P01 DeadlockDetected and 40001 SerializationFailure are TransactionRollbackError,
    // 57014 QueryCanceledError: both subclasses of OperationalError.
    for (code, expected) in [
        ("40P01", "OperationalError"),
        ("40001", "OperationalError"),
        ("57014", "OperationalError"),
        ("55P03", "OperationalError"),
        ("53300", "OperationalError"),
        ("23505", "IntegrityError"),
        ("22012", "DataError"),
        ("25P02", "InternalError"),
        ("42P01", "ProgrammingError"),
        ("0A000", "NotSupportedError"),
        ("XX000", "InternalError"),
    ] {
        assert_eq!(class(code), expected, "{code}");
    }
}

#[test]
fn a_pool_reports_through_its_drivers_client_unless_it_names_another() {
    assert_eq!(
        Client::of_driver(crate::world::Driver::Pgxpool),
        Client::Pgx
    );
    assert_eq!(
        Client::of_driver(crate::world::Driver::DatabaseSql),
        Client::LibPq
    );
    let pool: crate::world::PoolSpec =
        toml::from_str("name = \"db\"\ndriver = \"pgxpool\"\nclient = \"postgrex\"\n").unwrap();
    assert_eq!(pool.client(), Client::Postgrex);
}

fn complete(tag: &str) -> Backend {
    Backend::CommandComplete { tag: tag.into() }
}

#[test]
fn a_parse_reader_that_receives_command_complete_fails_like_lib_pq() {
    assert_eq!(
        Reader::ParseResponse.read(complete("SELECT 1")),
        ReadOutcome::Protocol("unexpected Parse response 'C'".into())
    );
    assert_eq!(
        Reader::ParseResponse.read(Backend::DataRow { values: vec![] }),
        ReadOutcome::Protocol("unexpected Parse response 'D'".into())
    );
}

#[test]
fn rows_next_reading_a_parse_complete_fails_after_execute() {
    assert_eq!(
        Reader::RowsNext { error: None }.read(Backend::ParseComplete),
        ReadOutcome::Protocol("unexpected message after execute: '1'".into())
    );
}

#[test]
fn post_execute_keeps_the_first_data_row_for_rows_next() {
    let row = Backend::DataRow {
        values: vec![Some("1".into())],
    };
    assert_eq!(
        Reader::PostExecute.read(row.clone()),
        ReadOutcome::Done {
            save: Some(row),
            tag: None
        }
    );
}

#[test]
fn an_error_response_is_returned_after_ready_for_query() {
    let error = ErrorFields {
        severity: "ERROR".into(),
        code: "40P01".into(),
        message: "deadlock detected".into(),
        detail: None,
        hint: None,
        context: None,
    };
    let next = Reader::BindResponse.read(Backend::ErrorResponse {
        error: error.clone(),
    });
    let ReadOutcome::More(reader) = next else {
        panic!("{next:?}")
    };
    assert_eq!(
        reader.read(Backend::ReadyForQuery {
            status: TxStatus::Failed
        }),
        ReadOutcome::ServerError(error.clone())
    );
    assert_eq!(pq_error(&error), "pq: deadlock detected");
    assert_eq!(
        pgx_error(&error),
        "ERROR: deadlock detected (SQLSTATE 40P01)"
    );
}

#[test]
fn arguments_are_bound_as_literals_outside_strings() {
    assert_eq!(
        bind(
            "SELECT '$1', x FROM t WHERE a = $1 AND b = $2",
            &["7".into(), "it's".into()]
        ),
        "SELECT '$1', x FROM t WHERE a = 7 AND b = 'it''s'"
    );
}
