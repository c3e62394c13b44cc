//! MySQL: a new table declares its new indexes, and the foreign keys to itself and to other new
//! tables, inside its `CREATE TABLE` (parents created first); a key in a cycle of new tables
//! stays an `ALTER TABLE`. The applied schema is the declared one and re-plans empty.

use fox_e2e::{Backend, TestDatabase};

use super::support::{applied, apply, expected_schema, live_schema, plan, tables};

#[tokio::test]
async fn new_tables_declare_their_keys_inline_parents_first() {
    // Name order puts the children before their parents; `loop_a`/`loop_b` reference each other.
    let schema = tables(
        "
    - name: a_comments
      columns:
        - {name: id, type: bigserial, primaryKey: true}
        - {name: post_id, type: bigint, references: {table: m_posts, onDelete: cascade}}
        - {name: reply_to, type: bigint, nullable: true, references: {table: a_comments}}
        - {name: body, type: varchar(200)}
      indexes:
        - {columns: [body]}
    - name: m_posts
      columns:
        - {name: id, type: bigserial, primaryKey: true}
        - {name: author_id, type: bigint, references: {table: z_users}}
        - {name: slug, type: varchar(100), unique: true}
    - name: z_users
      columns:
        - {name: id, type: bigserial, primaryKey: true}
        - {name: email, type: varchar(200)}
      indexes:
        - {columns: [email], unique: true}
    - name: loop_a
      columns:
        - {name: id, type: bigserial, primaryKey: true}
        - {name: b_id, type: bigint, nullable: true, references: {table: loop_b}}
    - name: loop_b
      columns:
        - {name: id, type: bigserial, primaryKey: true}
        - {name: a_id, type: bigint, nullable: true, references: {table: loop_a}}
",
    );
    let database = TestDatabase::create(Backend::MySql).await;
    let planned = plan(&database, &schema).await;
    let sql: Vec<&str> = planned.statements.iter().map(|s| s.sql.as_str()).collect();
    let creates: Vec<&str> = sql
        .iter()
        .filter_map(|s| s.strip_prefix("CREATE TABLE `"))
        .filter_map(|s| s.split('`').next())
        .collect();
    assert_eq!(
        creates,
        ["z_users", "m_posts", "a_comments", "loop_a", "loop_b"],
        "parents first: {sql:#?}"
    );
    assert_eq!(
        sql.len(),
        6,
        "one statement per table and the cycle's key: {sql:#?}"
    );
    assert!(
        sql[5].starts_with("ALTER TABLE `loop_a` ADD CONSTRAINT"),
        "{sql:#?}"
    );
    let comments = sql
        .iter()
        .find(|s| s.contains("TABLE `a_comments`"))
        .expect("created");
    for part in [
        "INDEX `a_comments_body_idx`",
        "REFERENCES `m_posts`",
        "REFERENCES `a_comments`",
    ] {
        assert!(comments.contains(part), "{part} in {comments}");
    }
    applied(apply(&database, &schema, false).await);
    assert_eq!(
        live_schema(&database).await,
        expected_schema(&database, &schema)
    );
    assert!(
        plan(&database, &schema).await.is_empty(),
        "re-plan is empty"
    );
}
