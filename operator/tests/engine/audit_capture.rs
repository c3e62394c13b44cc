//! `audit.enabled` installs audit capture through the plan, in words; the re-plan is empty;
//! records name the actor of writes made through `foxdb` and none for other writes; updates
//! record only the changed fields; excluded fields are never stored; turning audit off keeps
//! the records unless destructive changes are allowed; compression, hash chains (`verify`
//! names an edited, deleted or reordered record) and prune.

use fox_e2e::{Backend, TestDatabase};
use foxdb::audit::{AuditRecord, ChainProblem};
use foxdb::{Database, ModelExt};

use super::support::{applied, apply, execute, live_schema, plan, query_texts, tables};

#[derive(Clone, Debug, PartialEq, foxdb::Model)]
#[foxdb(table = "accounts")]
struct Account {
    #[foxdb(primary_key)]
    id: i32,
    owner: String,
    balance: i32,
    secret: Option<String>,
}

fn accounts(audit: &str) -> fox_crds::FoxSchema {
    tables(&format!(
        "
    - name: accounts
      audit: {audit}
      columns:
        - {{name: id, type: integer, primaryKey: true}}
        - {{name: owner, type: text}}
        - {{name: balance, type: integer}}
        - {{name: secret, type: text, nullable: true}}
"
    ))
}

fn words(plan: &fox_operator::engine::Plan) -> Vec<String> {
    plan.changes.iter().map(|c| c.change.to_string()).collect()
}

async fn records(db: &Database) -> Vec<AuditRecord> {
    AuditRecord::find()
        .order_by(AuditRecord::ID.asc())
        .all(db)
        .await
        .expect("reads the audit log")
}

fn changes(record: &AuditRecord) -> serde_json::Value {
    serde_json::from_str(&record.changes).expect("changes are JSON")
}

#[tokio::test]
async fn audit_records_actor_changed_fields_and_never_excluded_ones() {
    for engine in Backend::ALL {
        let database = TestDatabase::create(engine).await;
        let on = accounts("{enabled: true, excludeFields: [secret], retentionDays: 30}");
        let first = words(&plan(&database, &on).await);
        assert!(
            first.iter().any(|w| w.starts_with(
                "audit accounts: record inserts, updates and deletes in the audit log _fox_audit"
            ) && w.contains("never secret")
                && w.contains("kept 30 days")),
            "{engine}: {first:?}"
        );
        applied(apply(&database, &on, false).await);
        let replan = plan(&database, &on).await;
        assert!(replan.is_empty(), "{engine}: re-plan: {:?}", words(&replan));
        let live = live_schema(&database).await;
        let audit = live.table("accounts").and_then(|t| t.audit.clone());
        assert_eq!(
            audit.map(|a| (a.exclude_fields, a.retention_days)),
            Some((vec!["secret".to_string()], 30)),
            "{engine}: introspection sees audit"
        );

        let db = Database::connect(database.url()).await.expect("connects");
        let billing = db.with_actor("billing-service");
        billing
            .transaction(async |tx| {
                tx.execute(
                    "INSERT INTO accounts (id, owner, balance, secret) VALUES (1, 'ann', 10, 'hunter2')",
                    &[],
                )
                .await?;
                tx.execute(
                    "UPDATE accounts SET balance = 20, secret = 'hunter3' WHERE id = 1",
                    &[],
                )
                .await
            })
            .await
            .unwrap_or_else(|e| panic!("{engine}: {e}"));
        // Rolled back: nothing recorded.
        let mut rolled_back = billing.begin(None).await.expect("begins");
        rolled_back
            .execute(
                "INSERT INTO accounts (id, owner, balance) VALUES (9, 'gone', 0)",
                &[],
            )
            .await
            .expect("inserts");
        rolled_back.rollback().await.expect("rolls back");
        // Another program (no actor): a plain connection, as psql or mysql would write.
        execute(&database, "UPDATE accounts SET owner = 'bob' WHERE id = 1").await;
        // Only an excluded field changes: nothing to record.
        execute(
            &database,
            "UPDATE accounts SET secret = 'hunter4' WHERE id = 1",
        )
        .await;
        // The same pooled handle without an actor records none, after the actor's transaction.
        db.transaction(async |tx| {
            tx.execute("UPDATE accounts SET balance = 30 WHERE id = 1", &[])
                .await
        })
        .await
        .expect("updates");
        execute(&database, "DELETE FROM accounts WHERE id = 1").await;

        let log = records(&db).await;
        let operations: Vec<&str> = log.iter().map(|r| r.operation.as_str()).collect();
        assert_eq!(
            operations,
            ["insert", "update", "update", "update", "delete"],
            "{engine}: {log:#?}"
        );
        let actors: Vec<Option<&str>> = log.iter().map(|r| r.actor.as_deref()).collect();
        assert_eq!(
            actors,
            [
                Some("billing-service"),
                Some("billing-service"),
                None,
                None,
                None
            ],
            "{engine}"
        );
        assert_eq!(
            changes(&log[1]),
            serde_json::json!({"balance": [10, 20]}),
            "{engine}: an update records only the changed fields"
        );
        assert_eq!(
            changes(&log[2]),
            serde_json::json!({"owner": ["ann", "bob"]}),
            "{engine}"
        );
        assert_eq!(
            changes(&log[0]),
            serde_json::json!({"id": [null, 1], "owner": [null, "ann"], "balance": [null, 10]}),
            "{engine}: an insert records every field but the excluded"
        );
        assert_eq!(
            changes(&log[4]),
            serde_json::json!({"id": [1, null], "owner": ["bob", null], "balance": [30, null]}),
            "{engine}"
        );
        for record in &log {
            assert_eq!(record.table_name, "accounts");
            assert_eq!(
                record.key().expect("key"),
                serde_json::json!({"id": 1}),
                "{engine}"
            );
        }
        // The raw table never holds an excluded value.
        let raw = query_texts(&database, &raw_log_text(engine)).await;
        let everything = format!("{raw:?}");
        assert!(
            !everything.contains("hunter"),
            "{engine}: an excluded field was stored: {everything}"
        );

        // A row's history through its model.
        let account = Account {
            id: 1,
            owner: "bob".into(),
            balance: 30,
            secret: None,
        };
        let history = db.history(&account).await.expect("history");
        assert_eq!(history, log, "{engine}");

        // Turning audit off keeps the records; the re-plan is empty.
        let off = accounts("{enabled: false}");
        let off_words = words(&plan(&database, &off).await);
        assert_eq!(
            off_words,
            [
                "stop auditing accounts (its audit records stay; with allowDestructive they are deleted)"
            ],
            "{engine}"
        );
        applied(apply(&database, &off, false).await);
        assert!(plan(&database, &off).await.is_empty(), "{engine}");
        execute(
            &database,
            "INSERT INTO accounts (id, owner, balance) VALUES (2, 'cy', 1)",
        )
        .await;
        assert_eq!(
            records(&db).await.len(),
            5,
            "{engine}: records stay, no new ones"
        );

        // On again, then off with destructive changes allowed: the records go.
        applied(apply(&database, &on, false).await);
        let mut destructive = off.clone();
        destructive.spec.policy.allow_destructive = true;
        let plan_words = words(&plan(&database, &destructive).await);
        assert_eq!(
            plan_words,
            ["stop auditing accounts and delete its audit records"],
            "{engine}"
        );
        applied(apply(&database, &off, true).await);
        assert!(records(&db).await.is_empty(), "{engine}: records deleted");
        db.close().await;
    }
}

/// Every column of the raw log as text, compressed changes decompressed where SQL can.
fn raw_log_text(engine: Backend) -> String {
    match engine {
        Backend::Postgres => "SELECT _fox_audit::text FROM _fox_audit".into(),
        Backend::MySql => "SELECT CONCAT_WS('|', primary_key, actor, changes, CAST(UNCOMPRESS(packed_changes) AS CHAR)) FROM _fox_audit".into(),
        Backend::Sqlite => "SELECT primary_key || '|' || coalesce(actor, '') || '|' || coalesce(changes, '') FROM _fox_audit".into(),
    }
}

#[tokio::test]
async fn retention_prunes_exactly_the_expired_records() {
    for engine in Backend::ALL {
        let database = TestDatabase::create(engine).await;
        applied(
            apply(
                &database,
                &accounts("{enabled: true, retentionDays: 7}"),
                false,
            )
            .await,
        );
        for id in 1..=5 {
            execute(
                &database,
                &format!("INSERT INTO accounts (id, owner, balance) VALUES ({id}, 'o', 0)"),
            )
            .await;
        }
        // Records 1 and 2 were written 8 days ago, record 3 six days ago.
        let db = Database::connect(database.url()).await.expect("connects");
        let log = records(&db).await;
        let capture = foxdb::audit::audit_capture_for(db.backend());
        for (record, days) in [(&log[0], 8), (&log[1], 8), (&log[2], 6)] {
            let at = capture.time_text(chrono::Utc::now() - chrono::Duration::days(days));
            let set = match engine {
                Backend::Postgres => format!("CAST('{at}' AS timestamptz)"),
                Backend::MySql => format!("STR_TO_DATE('{at}', '%Y-%m-%dT%H:%i:%s.%fZ')"),
                Backend::Sqlite => format!("'{at}'"),
            };
            execute(
                &database,
                &format!(
                    "UPDATE _fox_audit SET changed_at = {set} WHERE id = {}",
                    record.id
                ),
            )
            .await;
        }
        let mut connection = super::support::connect(&database).await;
        let pruned = foxdb::audit::prune_expired(&db, &mut connection, chrono::Utc::now())
            .await
            .expect("prunes");
        connection.close().await;
        assert_eq!(pruned, [("accounts".to_string(), 2)], "{engine}");
        let kept: Vec<i64> = records(&db).await.iter().map(|r| r.id).collect();
        assert_eq!(kept, [log[2].id, log[3].id, log[4].id], "{engine}");
        db.close().await;
    }
}

#[tokio::test]
async fn sqlite_refuses_compression_and_hash_chains_with_a_reason() {
    let database = TestDatabase::create(Backend::Sqlite).await;
    for (audit, feature) in [
        ("{enabled: true, compression: true}", "audit.compression"),
        ("{enabled: true, hashChain: true}", "audit.hashChain"),
    ] {
        let error = fox_operator::engine::plan_schema(
            &super::support::url(&database),
            &accounts(audit).spec,
        )
        .await
        .expect_err("refused");
        let message = error.to_string();
        assert!(
            message.contains(&format!("SQLite does not support {feature}"))
                || message.contains(feature),
            "{message}"
        );
    }
}

#[tokio::test]
async fn compressed_hash_chained_records_verify_and_name_tampering() {
    for engine in [Backend::Postgres, Backend::MySql] {
        let database = TestDatabase::create(engine).await;
        let on = accounts("{enabled: true, compression: true, hashChain: true}");
        let words_on = words(&plan(&database, &on).await);
        assert!(
            words_on
                .iter()
                .any(|w| w.contains("compressed, hash-chained")),
            "{engine}: {words_on:?}"
        );
        applied(apply(&database, &on, false).await);
        assert!(plan(&database, &on).await.is_empty(), "{engine}");
        let db = Database::connect(database.url()).await.expect("connects");
        let writer = db.with_actor("ledger");
        let long = "a fairly long owner name that compresses well ".repeat(60);
        for id in 1..=6 {
            writer
                .transaction(async |tx| {
                    tx.execute(
                        &format!(
                            "INSERT INTO accounts (id, owner, balance) VALUES ({id}, '{long}', {id})"
                        ),
                        &[],
                    )
                    .await
                })
                .await
                .unwrap_or_else(|e| panic!("{engine}: {e}"));
        }
        // Stored compressed, read back whole.
        let compressed = match engine {
            Backend::Postgres => {
                "SELECT count(*)::text FROM _fox_audit WHERE changes IS NULL AND pg_column_compression(packed_changes) IS NOT NULL"
            }
            _ => {
                "SELECT CAST(COUNT(*) AS CHAR) FROM _fox_audit WHERE changes IS NULL AND LENGTH(packed_changes) < LENGTH(UNCOMPRESS(packed_changes))"
            }
        };
        assert_eq!(
            query_texts(&database, compressed).await,
            [[Some("6".to_string())]],
            "{engine}: every record compressed"
        );
        let log = records(&db).await;
        assert_eq!(
            changes(&log[0])["owner"][1],
            serde_json::Value::String(long.clone()),
            "{engine}"
        );
        let report = foxdb::audit::verify(&db, "accounts")
            .await
            .expect("verifies");
        assert_eq!(report.records, 6, "{engine}");
        assert!(
            report.problems.is_empty(),
            "{engine}: {:?}",
            report.problems
        );

        // Edited: named, then put back.
        execute(
            &database,
            &format!(
                "UPDATE _fox_audit SET actor = 'mallory' WHERE id = {}",
                log[2].id
            ),
        )
        .await;
        let report = foxdb::audit::verify(&db, "accounts")
            .await
            .expect("verifies");
        assert_eq!(
            report.problems,
            [ChainProblem::Edited { id: log[2].id }],
            "{engine}"
        );
        execute(
            &database,
            &format!(
                "UPDATE _fox_audit SET actor = 'ledger' WHERE id = {}",
                log[2].id
            ),
        )
        .await;
        assert!(
            foxdb::audit::verify(&db, "accounts")
                .await
                .expect("verifies")
                .problems
                .is_empty()
        );

        // Reordered: records 2 and 3 swap places.
        let (a, b) = (log[1].id, log[2].id);
        execute(
            &database,
            &format!("UPDATE _fox_audit SET id = 1000000 WHERE id = {a}"),
        )
        .await;
        execute(
            &database,
            &format!("UPDATE _fox_audit SET id = {a} WHERE id = {b}"),
        )
        .await;
        execute(
            &database,
            &format!("UPDATE _fox_audit SET id = {b} WHERE id = 1000000"),
        )
        .await;
        let problems = foxdb::audit::verify(&db, "accounts")
            .await
            .expect("verifies")
            .problems;
        assert!(
            problems
                .iter()
                .any(|p| matches!(p, ChainProblem::Broken { id, .. } if *id == a)),
            "{engine}: {problems:?}"
        );
        execute(
            &database,
            &format!("UPDATE _fox_audit SET id = 1000000 WHERE id = {a}"),
        )
        .await;
        execute(
            &database,
            &format!("UPDATE _fox_audit SET id = {a} WHERE id = {b}"),
        )
        .await;
        execute(
            &database,
            &format!("UPDATE _fox_audit SET id = {b} WHERE id = 1000000"),
        )
        .await;
        assert!(
            foxdb::audit::verify(&db, "accounts")
                .await
                .expect("verifies")
                .problems
                .is_empty()
        );

        // Deleted: the record after the gap is named.
        execute(
            &database,
            &format!("DELETE FROM _fox_audit WHERE id = {}", log[3].id),
        )
        .await;
        let problems = foxdb::audit::verify(&db, "accounts")
            .await
            .expect("verifies")
            .problems;
        assert_eq!(
            problems,
            [ChainProblem::Broken {
                id: log[4].id,
                after: Some(log[2].id),
                names: None
            }],
            "{engine}"
        );
        // The newest deleted: the head names it.
        execute(
            &database,
            &format!("DELETE FROM _fox_audit WHERE id = {}", log[5].id),
        )
        .await;
        let problems = foxdb::audit::verify(&db, "accounts")
            .await
            .expect("verifies")
            .problems;
        assert!(
            problems.contains(&ChainProblem::TailDeleted {
                after: Some(log[4].id)
            }),
            "{engine}: {problems:?}"
        );
        db.close().await;
    }
}

#[tokio::test]
async fn pruning_a_hash_chained_table_keeps_the_rest_verifiable() {
    for engine in [Backend::Postgres, Backend::MySql] {
        let database = TestDatabase::create(engine).await;
        applied(
            apply(
                &database,
                &accounts("{enabled: true, hashChain: true}"),
                false,
            )
            .await,
        );
        let db = Database::connect(database.url()).await.expect("connects");
        for id in 1..=3 {
            execute(
                &database,
                &format!("INSERT INTO accounts (id, owner, balance) VALUES ({id}, 'o', 0)"),
            )
            .await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        let cutoff = chrono::Utc::now();
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        for id in 4..=5 {
            execute(
                &database,
                &format!("INSERT INTO accounts (id, owner, balance) VALUES ({id}, 'o', 0)"),
            )
            .await;
        }
        let deleted = foxdb::audit::prune(&db, "accounts", cutoff)
            .await
            .expect("prunes");
        assert_eq!(deleted, 3, "{engine}");
        let report = foxdb::audit::verify(&db, "accounts")
            .await
            .expect("verifies");
        assert_eq!(report.records, 2, "{engine}");
        assert!(
            report.problems.is_empty(),
            "{engine}: {:?}",
            report.problems
        );
        db.close().await;
    }
}

#[tokio::test]
async fn fox_audit_verify_exits_2_and_names_a_tampered_record() {
    let database = TestDatabase::create(Backend::Postgres).await;
    applied(
        apply(
            &database,
            &accounts("{enabled: true, hashChain: true}"),
            false,
        )
        .await,
    );
    for id in 1..=3 {
        execute(
            &database,
            &format!("INSERT INTO accounts (id, owner, balance) VALUES ({id}, 'o', 0)"),
        )
        .await;
    }
    let intact = super::support::fox(&["audit", "verify", "--database", database.url()]);
    let stdout = super::support::text(&intact.stdout);
    assert_eq!(intact.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("accounts: 3 record(s), chain intact"),
        "{stdout}"
    );
    let ids = query_texts(&database, "SELECT id::text FROM _fox_audit ORDER BY id").await;
    let second = ids[1][0].clone().expect("id");
    execute(
        &database,
        &format!(
            "UPDATE _fox_audit SET changes = '{{\"balance\": [0, 1000]}}' WHERE id = {second}"
        ),
    )
    .await;
    let tampered = super::support::fox(&[
        "audit",
        "verify",
        "--database",
        database.url(),
        "--table",
        "accounts",
    ]);
    let stdout = super::support::text(&tampered.stdout);
    assert_eq!(tampered.status.code(), Some(2), "{stdout}");
    assert!(
        stdout.contains(&format!("record {second} was edited")),
        "{stdout}"
    );
    let pruned = super::support::fox(&["audit", "prune", "--database", database.url()]);
    assert_eq!(pruned.status.code(), Some(0));
    assert!(
        super::support::text(&pruned.stdout)
            .contains("accounts: 0 expired audit record(s) deleted")
    );
}

#[tokio::test]
async fn a_dropped_actor_transaction_leaves_no_actor_for_the_next_one() {
    for engine in Backend::ALL {
        let database = TestDatabase::create(engine).await;
        applied(apply(&database, &accounts("{enabled: true}"), false).await);
        // One connection: the next transaction runs on the same session.
        let options = foxdb::PoolOptions {
            max_connections: 1,
            min_connections: 0,
            ..foxdb::PoolOptions::default()
        };
        let db = Database::connect_with(database.url(), &options)
            .await
            .expect("connects");
        {
            let mut cancelled = db
                .with_actor("cancelled")
                .begin(None)
                .await
                .expect("begins");
            cancelled
                .execute(
                    "INSERT INTO accounts (id, owner, balance) VALUES (1, 'x', 0)",
                    &[],
                )
                .await
                .expect("inserts");
            // Dropped without commit or rollback.
        }
        db.transaction(async |tx| {
            tx.execute(
                "INSERT INTO accounts (id, owner, balance) VALUES (2, 'y', 0)",
                &[],
            )
            .await
        })
        .await
        .unwrap_or_else(|e| panic!("{engine}: {e}"));
        let log = records(&db).await;
        assert_eq!(log.len(), 1, "{engine}: the dropped insert rolled back");
        assert_eq!(log[0].actor, None, "{engine}");
        db.close().await;
    }
}

#[tokio::test]
async fn fox_audit_verify_refuses_a_table_without_a_hash_chain_instead_of_calling_it_intact() {
    for engine in Backend::ALL {
        let database = TestDatabase::create(engine).await;
        applied(apply(&database, &accounts("{enabled: true}"), false).await);
        execute(
            &database,
            "INSERT INTO accounts (id, owner, balance) VALUES (1, 'o', 0)",
        )
        .await;
        let unchained = super::support::fox(&[
            "audit",
            "verify",
            "--database",
            database.url(),
            "--table",
            "accounts",
        ]);
        let stderr = super::support::text(&unchained.stderr);
        assert_eq!(unchained.status.code(), Some(1), "{engine}: {stderr}");
        assert!(
            stderr.contains("verifying the audit log of accounts: it has no hash chain"),
            "{engine}: {stderr}"
        );
        assert!(
            !super::support::text(&unchained.stdout).contains("intact"),
            "{engine}"
        );
        let db = Database::connect(database.url()).await.expect("connects");
        let not_audited = foxdb::audit::verify(&db, "ledger").await;
        let message = not_audited.expect_err("refused").to_string();
        let expected = if engine == Backend::Sqlite {
            // SQLite has no hash chains at all: that is what it says first.
            "it has no hash chain"
        } else {
            "the table is not audited"
        };
        assert!(message.contains(expected), "{engine}: {message}");
        db.close().await;
    }
}

#[tokio::test]
async fn history_finds_a_rows_records_through_the_table_and_key_index() {
    for engine in Backend::ALL {
        let database = TestDatabase::create(engine).await;
        let on = accounts("{enabled: true}");
        let plan_sql: Vec<String> = plan(&database, &on)
            .await
            .statements
            .iter()
            .map(|s| s.sql.clone())
            .collect();
        assert!(
            plan_sql.iter().any(|s| s.contains("_fox_audit_key")),
            "{engine}: the plan installs the key index: {plan_sql:#?}"
        );
        applied(apply(&database, &on, false).await);
        let rows: Vec<String> = (1..=1500)
            .map(|id| format!("({id}, 'owner {id}', {id})"))
            .collect();
        execute(
            &database,
            &format!(
                "INSERT INTO accounts (id, owner, balance) VALUES {}",
                rows.join(", ")
            ),
        )
        .await;
        execute(&database, "UPDATE accounts SET balance = 0 WHERE id = 700").await;
        let analyze = match engine {
            Backend::Postgres => "ANALYZE _fox_audit",
            Backend::MySql => "ANALYZE TABLE _fox_audit",
            Backend::Sqlite => "ANALYZE",
        };
        execute(&database, analyze).await;
        let db = Database::connect(database.url()).await.expect("connects");
        let account = Account {
            id: 700,
            owner: "owner 700".into(),
            balance: 0,
            secret: None,
        };
        let history = db.history(&account).await.expect("reads its history");
        let operations: Vec<&str> = history.iter().map(|r| r.operation.as_str()).collect();
        assert_eq!(operations, ["insert", "update"], "{engine}");
        let (sql, values) =
            foxdb::audit::history_statement(engine, &account).expect("a history statement");
        let plan = db
            .explain(&sql, &values)
            .await
            .expect("explains")
            .join("\n");
        assert!(
            plan.contains("_fox_audit_key"),
            "{engine}: history reads through the key index:\n{plan}"
        );
        db.close().await;
    }
}
