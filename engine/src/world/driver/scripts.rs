//! The protocol messages each driver sends for a call: the simple query protocol, and the
//! extended protocol's Parse/Bind/Describe/Execute/Sync as pgx and lib/pq send them.

use super::*;

/// The script of a simple-protocol statement without arguments (BEGIN, COMMIT, ROLLBACK).
pub(super) fn simple_script(driver: Driver, sql: &str) -> Vec<Micro> {
    let exchange = vec![
        Micro::Send(vec![Frontend::Query {
            sql: sql.to_string(),
        }]),
        Micro::Read(Reader::SimpleExec {
            tag: None,
            error: None,
        }),
    ];
    match driver {
        Driver::Pgxpool => exchange,
        Driver::DatabaseSql => {
            let mut script = vec![Micro::Lock];
            script.extend(exchange);
            script.push(Micro::Unlock);
            script
        }
    }
}

/// The micro-steps of Query / QueryRow / Exec after the connection is known.
pub(super) fn statement_script(
    driver: Driver,
    sql: &str,
    args: &[String],
    kind: &CallKind,
) -> Vec<Micro> {
    let parse = Frontend::Parse {
        sql: sql.to_string(),
    };
    let bind = Frontend::Bind {
        args: args.to_vec(),
    };
    let rows_next = || Micro::Read(Reader::RowsNext { error: None });
    let drain = || Micro::Drain(Reader::RowsNext { error: None });
    let execute = || {
        Micro::Read(Reader::ExecuteResponse {
            tag: None,
            error: None,
        })
    };
    match driver {
        Driver::Pgxpool => {
            let mut script = vec![
                Micro::Send(vec![
                    parse,
                    Frontend::Describe,
                    Frontend::Sync,
                    bind,
                    Frontend::Execute,
                    Frontend::Sync,
                ]),
                Micro::Read(Reader::ParseResponse),
                Micro::Read(Reader::DescribeStatement),
                Micro::Read(Reader::ReadyForQuery),
                Micro::Read(Reader::BindResponse),
            ];
            match kind {
                CallKind::QueryRow { .. } => script.extend([rows_next(), drain()]),
                CallKind::Exec => script.push(execute()),
                _ => {}
            }
            script
        }
        Driver::DatabaseSql => {
            // lib/pq: no arguments means the simple protocol (`simpleQuery`/`simpleExec`);
            // with arguments, prepare on the unnamed statement, then bind and execute (§2.6.2).
            let mut script = vec![Micro::Lock];
            if args.is_empty() {
                script.push(Micro::Send(vec![Frontend::Query {
                    sql: sql.to_string(),
                }]));
                match kind {
                    CallKind::Exec => script.push(Micro::Read(Reader::SimpleExec {
                        tag: None,
                        error: None,
                    })),
                    _ => script.push(Micro::Read(Reader::SimpleQuery { error: None })),
                }
            } else {
                script.extend([
                    Micro::Send(vec![parse, Frontend::Describe, Frontend::Sync]),
                    Micro::Read(Reader::ParseResponse),
                    Micro::Read(Reader::DescribeStatement),
                    Micro::Read(Reader::ReadyForQuery),
                    Micro::Send(vec![bind, Frontend::Execute, Frontend::Sync]),
                    Micro::Read(Reader::BindResponse),
                    Micro::Read(Reader::PostExecute),
                ]);
                if let CallKind::Exec = kind {
                    script.push(execute());
                }
            }
            script.push(Micro::Unlock);
            // database/sql's Row.Scan: rows.Next, then rows.Close, each its own driver call.
            if let CallKind::QueryRow { .. } = kind {
                script.extend([
                    Micro::Lock,
                    rows_next(),
                    Micro::Unlock,
                    Micro::Lock,
                    drain(),
                    Micro::Unlock,
                ]);
            }
            script
        }
    }
}
