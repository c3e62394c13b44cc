//! Every change kind on every engine: declaration B after A gives a plan, applying it yields B,
//! the re-plan is empty, and rows in untouched columns survive (SQLite rebuilds included).

use fox_e2e::{Backend, TestDatabase};
use fox_operator::engine::{ApplyOutcome, EngineError};

use super::support::{
    applied, apply, execute, expected_schema, live_schema, plan, query_texts, tables,
};

const ITEMS: &str = "
    - name: items
      columns:
        - {name: id, type: integer, primaryKey: true}
        - {name: name, type: varchar(50)}
        - {name: qty, type: integer}
        - {name: note, type: text, nullable: true}
";

/// One change kind: the schema before and after, and what the change must be.
struct Case {
    name: &'static str,
    before: String,
    after: String,
    destructive: bool,
    /// Table holding the rows (`items` unless renamed).
    table_after: &'static str,
    /// Column holding the names after the change.
    name_column_after: &'static str,
}

fn case(name: &'static str, before: &str, after: &str) -> Case {
    Case {
        name,
        before: before.to_string(),
        after: after.to_string(),
        destructive: false,
        table_after: "items",
        name_column_after: "name",
    }
}

fn items_with(extra_columns: &str, extra_table: &str) -> String {
    format!("{ITEMS}{extra_columns}{extra_table}")
}

fn cases() -> Vec<Case> {
    let tags = "
    - name: tags
      columns:
        - {name: id, type: integer, primaryKey: true}
        - {name: label, type: varchar(20)}
";
    let with_kind = |kind: &str| {
        ITEMS.replace(
            "        - {name: note, type: text, nullable: true}\n",
            &format!("        - {{name: note, type: text, nullable: true}}\n        - {{name: kind, type: \"{kind}\", default: a}}\n"),
        )
    };
    vec![
        case("create table", ITEMS, &format!("{ITEMS}{tags}")),
        Case {
            destructive: true,
            ..case("drop table", &format!("{ITEMS}{tags}"), ITEMS)
        },
        Case {
            table_after: "products",
            ..case(
                "rename table",
                ITEMS,
                &ITEMS.replace(
                    "- name: items\n",
                    "- name: products\n      previousNames: [items]\n",
                ),
            )
        },
        case(
            "add columns",
            ITEMS,
            &items_with(
                "        - {name: sku, type: varchar(20), nullable: true}\n        - {name: price, type: \"decimal(10,2)\", default: 0}\n        - {name: seen_at, type: timestamptz, default: now()}\n",
                "",
            ),
        ),
        Case {
            destructive: true,
            ..case(
                "drop column",
                ITEMS,
                &ITEMS.replace("        - {name: note, type: text, nullable: true}\n", ""),
            )
        },
        Case {
            name_column_after: "title",
            ..case(
                "rename column",
                ITEMS,
                &ITEMS.replace(
                    "{name: name, type: varchar(50)}",
                    "{name: title, type: varchar(50), previousNames: [name]}",
                ),
            )
        },
        case(
            "widen types",
            ITEMS,
            &ITEMS
                .replace(
                    "{name: name, type: varchar(50)}",
                    "{name: name, type: varchar(200)}",
                )
                .replace("{name: qty, type: integer}", "{name: qty, type: bigint}"),
        ),
        Case {
            destructive: true,
            ..case(
                "narrow a type holding rows",
                ITEMS,
                &ITEMS.replace(
                    "{name: name, type: varchar(50)}",
                    "{name: name, type: varchar(10)}",
                ),
            )
        },
        case(
            "make nullable",
            ITEMS,
            &ITEMS.replace(
                "{name: qty, type: integer}",
                "{name: qty, type: integer, nullable: true}",
            ),
        ),
        case(
            "make not null",
            &ITEMS.replace(
                "{name: qty, type: integer}",
                "{name: qty, type: integer, nullable: true}",
            ),
            ITEMS,
        ),
        case(
            "add default",
            ITEMS,
            &ITEMS.replace(
                "{name: qty, type: integer}",
                "{name: qty, type: integer, default: 7}",
            ),
        ),
        case(
            "change default",
            &ITEMS.replace(
                "{name: qty, type: integer}",
                "{name: qty, type: integer, default: 7}",
            ),
            &ITEMS.replace(
                "{name: qty, type: integer}",
                "{name: qty, type: integer, default: 8}",
            ),
        ),
        case(
            "drop default",
            &ITEMS.replace(
                "{name: qty, type: integer}",
                "{name: qty, type: integer, default: 7}",
            ),
            ITEMS,
        ),
        case(
            "add index",
            ITEMS,
            &items_with("      indexes:\n        - {columns: [qty, name]}\n", ""),
        ),
        case(
            "drop index",
            &items_with("      indexes:\n        - {columns: [qty, name]}\n", ""),
            ITEMS,
        ),
        case(
            "add unique",
            ITEMS,
            &ITEMS.replace(
                "{name: name, type: varchar(50)}",
                "{name: name, type: varchar(50), unique: true}",
            ),
        ),
        case(
            "drop unique",
            &ITEMS.replace(
                "{name: name, type: varchar(50)}",
                "{name: name, type: varchar(50), unique: true}",
            ),
            ITEMS,
        ),
        case(
            "add foreign key",
            &items_with(
                "        - {name: tag_id, type: integer, nullable: true}\n",
                tags,
            ),
            &items_with(
                "        - {name: tag_id, type: integer, nullable: true, references: {table: tags, onDelete: set-null}}\n",
                tags,
            ),
        ),
        case(
            "drop foreign key",
            &items_with(
                "        - {name: tag_id, type: integer, nullable: true, references: {table: tags, onDelete: set-null}}\n",
                tags,
            ),
            &items_with(
                "        - {name: tag_id, type: integer, nullable: true}\n",
                tags,
            ),
        ),
        case(
            "change foreign key action",
            &items_with(
                "        - {name: tag_id, type: integer, nullable: true, references: {table: tags, onDelete: set-null}}\n",
                tags,
            ),
            &items_with(
                "        - {name: tag_id, type: integer, nullable: true, references: {table: tags, onDelete: cascade}}\n",
                tags,
            ),
        ),
        case(
            "add enum label",
            &with_kind("enum(a,b)"),
            &with_kind("enum(a,b,c)"),
        ),
        case(
            "insert enum label in the middle",
            &with_kind("enum(a,c)"),
            &with_kind("enum(a,b,c)"),
        ),
        case(
            "add enum label used as the new default",
            &with_kind("enum(a,b)"),
            &with_kind("enum(a,b,c)").replace("default: a}", "default: c}"),
        ),
        Case {
            table_after: "products",
            ..case(
                "rename table holding keys and indexes",
                &items_with(
                    "        - {name: tag_id, type: integer, nullable: true, references: {table: tags, onDelete: set-null}}\n",
                    tags,
                ),
                &items_with(
                    "        - {name: tag_id, type: integer, nullable: true, references: {table: tags, onDelete: set-null}}\n",
                    tags,
                )
                .replace("- name: items\n", "- name: products\n      previousNames: [items]\n"),
            )
        },
        case(
            "integer key becomes serial",
            ITEMS,
            &ITEMS.replace("{name: id, type: integer, primaryKey: true}", "{name: id, type: serial, primaryKey: true}"),
        ),
        case(
            "retype and forbid NULL with a default",
            &ITEMS.replace("{name: qty, type: integer}", "{name: qty, type: integer, nullable: true}"),
            &ITEMS.replace("{name: qty, type: integer}", "{name: qty, type: varchar(20), default: none}"),
        ),
        // No row holds the removed label (they all hold the default a): nothing can be lost.
        case(
            "remove enum label",
            &with_kind("enum(a,b,c)"),
            &with_kind("enum(a,b)"),
        ),
    ]
}

async fn rows(database: &TestDatabase, table: &str, name_column: &str) -> Vec<Vec<Option<String>>> {
    let quote = |name: &str| {
        if database.engine() == Backend::MySql {
            format!("`{name}`")
        } else {
            format!("\"{name}\"")
        }
    };
    let text = if database.engine() == Backend::MySql {
        "CHAR"
    } else {
        "TEXT"
    };
    query_texts(
        database,
        &format!(
            "SELECT CAST({} AS {text}), CAST({} AS {text}) FROM {} ORDER BY {}",
            quote("id"),
            quote(name_column),
            quote(table),
            quote("id")
        ),
    )
    .await
}

async fn check(engine: Backend, case: &Case) {
    let label = format!("{engine} / {}", case.name);
    let database = TestDatabase::create(engine).await;
    let before = tables(&case.before);
    let after = tables(&case.after);
    applied(apply(&database, &before, false).await);
    execute(
        &database,
        "INSERT INTO items (id, name, qty) VALUES (1, 'apple', 10), (2, 'pear', 20)",
    )
    .await;
    let original = rows(&database, "items", "name").await;

    let planned = plan(&database, &after).await;
    assert!(!planned.is_empty(), "{label}: a plan");
    assert_eq!(
        !planned.destructive().is_empty(),
        case.destructive,
        "{label}: destructive? {:#?}",
        planned.changes
    );
    assert!(
        planned.impossible().is_empty(),
        "{label}: {:#?}",
        planned.impossible()
    );
    if case.destructive {
        match apply(&database, &after, false).await {
            Err(EngineError::DestructiveRefused { changes }) => assert!(!changes.is_empty()),
            other => panic!("{label}: expected a refusal, got {other:?}"),
        }
        assert_eq!(
            live_schema(&database).await,
            expected_schema(&database, &before),
            "{label}: unchanged after refusal"
        );
    }
    match apply(&database, &after, case.destructive).await {
        Ok(ApplyOutcome::Applied { .. }) => {}
        other => panic!("{label}: expected the plan to apply, got {other:?}"),
    }
    assert_eq!(
        live_schema(&database).await,
        expected_schema(&database, &after),
        "{label}: live schema is B"
    );
    let again = plan(&database, &after).await;
    assert!(
        again.is_empty(),
        "{label}: re-plan is empty, got {:#?}",
        again.changes
    );
    let survived = rows(&database, case.table_after, case.name_column_after).await;
    if case.name == "narrow a type holding rows" {
        assert_eq!(survived.len(), original.len(), "{label}: rows kept");
    } else {
        assert_eq!(
            survived, original,
            "{label}: rows in untouched columns survive"
        );
    }
}

async fn every_change_kind(engine: Backend) {
    for case in cases() {
        check(engine, &case).await;
    }
}

#[tokio::test]
async fn every_change_kind_on_postgres() {
    every_change_kind(Backend::Postgres).await;
}

#[tokio::test]
async fn every_change_kind_on_mysql() {
    every_change_kind(Backend::MySql).await;
}

#[tokio::test]
async fn every_change_kind_on_sqlite() {
    every_change_kind(Backend::Sqlite).await;
}

/// Indexes a FoxSchema cannot declare (partial and expression indexes; FULLTEXT and SPATIAL on
/// MySQL) are left alone, so FoxMigrations can add them to tables a FoxSchema manages.
#[tokio::test]
async fn indexes_a_schema_cannot_declare_are_left_alone() {
    for engine in Backend::ALL {
        let database = TestDatabase::create(engine).await;
        let items = tables(ITEMS);
        applied(apply(&database, &items, false).await);
        let extra: &[&str] = match engine {
            Backend::Postgres => &[
                "CREATE INDEX items_named_qty_idx ON items (qty) WHERE name <> ''",
                "CREATE INDEX items_lower_name_idx ON items (lower(name))",
            ],
            Backend::MySql => &["CREATE FULLTEXT INDEX items_note_ft ON items (note)"],
            Backend::Sqlite => &[
                "CREATE INDEX items_named_qty_idx ON items (qty) WHERE name <> ''",
                "CREATE INDEX items_lower_name_idx ON items (lower(name))",
            ],
        };
        for sql in extra {
            execute(&database, sql).await;
        }
        let planned = plan(&database, &items).await;
        assert!(planned.is_empty(), "{engine}: {:#?}", planned.changes);
    }
}

/// A rename that only changes case is refused by validation (MySQL and SQLite see one name);
/// the two applies its message advises do the rename, keep the rows and converge.
#[tokio::test]
async fn a_case_only_table_rename_works_in_the_two_advised_steps_on_every_engine() {
    for engine in Backend::ALL {
        let database = TestDatabase::create(engine).await;
        applied(apply(&database, &tables(ITEMS), false).await);
        execute(
            &database,
            "INSERT INTO items (id, name, qty) VALUES (1, 'apple', 10), (2, 'pear', 20)",
        )
        .await;
        let original = rows(&database, "items", "name").await;
        let through = tables(&ITEMS.replace(
            "- name: items\n",
            "- name: items_renaming\n      previousNames: [items]\n",
        ));
        applied(apply(&database, &through, false).await);
        let last = tables(&ITEMS.replace(
            "- name: items\n",
            "- name: Items\n      previousNames: [items_renaming]\n",
        ));
        let planned = plan(&database, &last).await;
        assert!(
            planned.destructive().is_empty(),
            "{engine}: {:#?}",
            planned.changes
        );
        applied(apply(&database, &last, false).await);
        let names: Vec<String> = live_schema(&database)
            .await
            .tables
            .into_iter()
            .map(|t| t.name)
            .collect();
        assert_eq!(names, vec!["Items"], "{engine}");
        assert_eq!(rows(&database, "Items", "name").await, original, "{engine}");
        let again = plan(&database, &last).await;
        assert!(again.is_empty(), "{engine}: {:#?}", again.changes);
    }
}

#[tokio::test]
async fn a_foreign_key_violated_after_a_sqlite_rebuild_rolls_the_apply_back() {
    let database = TestDatabase::create(Backend::Sqlite).await;
    let tags = "
    - name: tags
      columns:
        - {name: id, type: integer, primaryKey: true}
";
    applied(
        apply(
            &database,
            &tables(&items_with(
                "        - {name: tag_id, type: integer, nullable: true}\n",
                tags,
            )),
            false,
        )
        .await,
    );
    execute(
        &database,
        "INSERT INTO items (id, name, qty, tag_id) VALUES (1, 'a', 1, 99)",
    )
    .await;
    // SQLite adds a foreign key by rebuilding the table, with keys checked once before commit.
    let outcome = apply(
        &database,
        &tables(&items_with(
            "        - {name: tag_id, type: integer, nullable: true, references: {table: tags}}\n",
            tags,
        )),
        false,
    )
    .await;
    match outcome {
        Err(EngineError::ForeignKeyViolation(message)) => assert!(
            message.contains("1 violation(s): items row 1 references a missing tags row"),
            "{message}"
        ),
        other => panic!("expected the foreign key check to fail, got {other:?}"),
    }
    let live = live_schema(&database).await;
    let items = live
        .tables
        .iter()
        .find(|t| t.name == "items")
        .expect("items");
    assert!(items.foreign_keys.is_empty(), "rolled back: {items:?}");
    assert_eq!(
        query_texts(&database, "SELECT CAST(tag_id AS TEXT) FROM items").await,
        vec![vec![Some("99".to_string())]]
    );
}
