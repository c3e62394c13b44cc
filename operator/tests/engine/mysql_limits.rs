//! MySQL-only limits are refused by the plan, naming the table and column, before any DDL:
//! enum labels MySQL cannot tell apart, rows over 65,535 bytes, keys over 3,072 bytes.

use fox_e2e::{Backend, TestDatabase};

use super::support::{applied, apply, live_schema, tables};

fn declared(columns: &str, indexes: &str) -> fox_crds::FoxSchema {
    tables(&format!(
        "
    - name: items
      columns:
        - {{name: id, type: integer, primaryKey: true}}
{columns}{indexes}"
    ))
}

#[tokio::test]
async fn mysql_limits_are_refused_in_the_plan_before_any_ddl() {
    let refused = [
        (
            declared("        - {name: kind, type: \"enum(draft,Draft)\"}\n", ""),
            "column items.kind: enum labels \"draft\" and \"Draft\"",
        ),
        (
            declared(
                "        - {name: a, type: varchar(8192)}\n        - {name: b, type: varchar(8192)}\n",
                "",
            ),
            "table items: a row can take 65544 bytes",
        ),
        (
            declared(
                "        - {name: code, type: varchar(769)}\n",
                "      indexes:\n        - {columns: [code], unique: true}\n",
            ),
            "table items: index items_code_key (code) takes 3076 bytes",
        ),
    ];
    for engine in Backend::ALL {
        for (schema, message) in &refused {
            let database = TestDatabase::create(engine).await;
            let outcome = apply(&database, schema, false).await;
            if engine == Backend::MySql {
                let error = outcome.expect_err("refused before any DDL").to_string();
                assert!(
                    error.contains(message) && error.contains("nothing was changed"),
                    "{error}"
                );
                assert!(live_schema(&database).await.tables.is_empty(), "no DDL ran");
            } else {
                // The other engines store these declarations.
                applied(outcome);
            }
        }
    }
}

#[tokio::test]
async fn declarations_at_mysql_limits_apply() {
    let database = TestDatabase::create(Backend::MySql).await;
    let at_limits = tables(
        "
    - name: wide
      columns:
        - {name: id, type: integer, primaryKey: true}
        - {name: big, type: varchar(16382)}
    - name: codes
      columns:
        - {name: id, type: integer, primaryKey: true}
        - {name: code, type: varchar(768), unique: true}
",
    );
    applied(apply(&database, &at_limits, false).await);
}
