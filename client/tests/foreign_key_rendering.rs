//! The referential actions of a foreign key as each engine's DDL spells them (no server needed):
//! the SQL spelling lives in the client's dialects, not in the manifest vocabulary.

use fox_crds::ColumnType;
use fox_crds::schema::ReferentialAction;
use foxdb::Backend;
use foxdb::dialect::dialect_for;
use foxdb::schema::{Column, ForeignKey, Table};

fn foreign_key(on_delete: ReferentialAction, on_update: ReferentialAction) -> ForeignKey {
    ForeignKey {
        name: "posts_author_id_fkey".into(),
        columns: vec!["author_id".into()],
        referenced_table: "users".into(),
        referenced_columns: vec!["id".into()],
        on_delete,
        on_update,
    }
}

#[test]
fn referential_actions_render_in_foreign_key_ddl_on_every_engine() {
    for (backend, quote) in [(Backend::Postgres, '"'), (Backend::MySql, '`')] {
        let dialect = dialect_for(backend);
        for (action, sql) in [
            (ReferentialAction::Restrict, "RESTRICT"),
            (ReferentialAction::Cascade, "CASCADE"),
            (ReferentialAction::SetNull, "SET NULL"),
        ] {
            let statement = dialect
                .add_foreign_key("posts", &foreign_key(action, action))
                .expect("adds foreign keys in place");
            let q = |name: &str| format!("{quote}{name}{quote}");
            assert_eq!(
                statement,
                format!(
                    "ALTER TABLE {} ADD CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({}) ON DELETE {sql} ON UPDATE {sql}",
                    q("posts"),
                    q("posts_author_id_fkey"),
                    q("author_id"),
                    q("users"),
                    q("id")
                ),
                "{backend:?}"
            );
        }
        // NO ACTION is every engine's default and stays implicit.
        let statement = dialect
            .add_foreign_key(
                "posts",
                &foreign_key(ReferentialAction::NoAction, ReferentialAction::NoAction),
            )
            .expect("adds foreign keys in place");
        assert!(!statement.contains(" ON "), "{backend:?}: {statement}");
    }
}

#[test]
fn sqlite_renders_referential_actions_in_the_table_it_creates() {
    // SQLite cannot add a foreign key in place: the table is (re)built with it.
    let dialect = dialect_for(Backend::Sqlite);
    let column = |name: &str| Column {
        name: name.into(),
        ty: ColumnType::BigInt,
        nullable: true,
        default: None,
    };
    let table = Table {
        name: "posts".into(),
        columns: vec![column("id"), column("author_id")],
        primary_key: vec!["id".into()],
        foreign_keys: vec![foreign_key(
            ReferentialAction::Cascade,
            ReferentialAction::SetNull,
        )],
        ..Table::default()
    };
    let statements = dialect.create_table(&table);
    assert!(
        statements[0].contains(
            "CONSTRAINT \"posts_author_id_fkey\" FOREIGN KEY (\"author_id\") REFERENCES \"users\" (\"id\") ON DELETE CASCADE ON UPDATE SET NULL"
        ),
        "{statements:#?}"
    );
}
