//! One FoxSchema declares a database: a second FoxSchema applied to it is refused before any
//! change, in the engine and in `fox validate` / `fox apply`.

use fox_e2e::{Backend, TestDatabase};
use fox_operator::engine::history::read_history;
use fox_operator::engine::{ApplyOptions, EngineError, apply_schema};
use foxdb::dialect::dialect_for;

use super::support::{
    applied, connect, fox, live_schema, manifest_file, options, schema_yaml, tables, text, url,
};

const POSTS: &str = "
    - name: posts
      columns:
        - {name: id, type: integer, primaryKey: true}
";

const USERS: &str = "
    - name: users
      columns:
        - {name: id, type: integer, primaryKey: true}
";

fn named(schema_name: &str, replaces: Option<&str>) -> ApplyOptions {
    ApplyOptions {
        schema_name: schema_name.into(),
        replaces: replaces.map(str::to_string),
        ..options(true)
    }
}

#[tokio::test]
async fn a_second_schema_on_one_database_is_refused_and_drops_nothing() {
    for engine in Backend::ALL {
        let database = TestDatabase::create(engine).await;
        let blog = tables(POSTS);
        applied(
            apply_schema(
                &url(&database),
                &blog.spec,
                &named("blog", None),
                &mut |_| {},
            )
            .await,
        );

        // With destructive changes allowed, "shop" would drop posts: refused before any change.
        let shop = tables(USERS);
        let error = apply_schema(
            &url(&database),
            &shop.spec,
            &named("shop", None),
            &mut |_| {},
        )
        .await
        .expect_err("a second FoxSchema is refused");
        assert!(
            matches!(&error, EngineError::OwnedByAnotherSchema { owner, schema } if owner == "blog" && schema == "shop"),
            "{engine:?}: {error}"
        );
        assert!(error.to_string().contains("--replaces blog"), "{error}");
        let live = live_schema(&database).await;
        assert!(live.table("posts").is_some(), "{engine:?}: posts kept");
        assert!(live.table("users").is_none(), "{engine:?}: nothing created");

        // The owner itself still applies, and a FoxSchema that says it replaces the owner takes over.
        applied(
            apply_schema(
                &url(&database),
                &blog.spec,
                &named("blog", None),
                &mut |_| {},
            )
            .await,
        );
        applied(
            apply_schema(
                &url(&database),
                &shop.spec,
                &named("shop", Some("blog")),
                &mut |_| {},
            )
            .await,
        );
        let live = live_schema(&database).await;
        assert!(live.table("users").is_some() && live.table("posts").is_none());
        // From then on shop owns the database, and blog is the one refused.
        applied(
            apply_schema(
                &url(&database),
                &shop.spec,
                &named("shop", None),
                &mut |_| {},
            )
            .await,
        );
        let error = apply_schema(
            &url(&database),
            &blog.spec,
            &named("blog", None),
            &mut |_| {},
        )
        .await
        .expect_err("the former owner is refused");
        assert!(
            matches!(error, EngineError::OwnedByAnotherSchema { .. }),
            "{error}"
        );
    }
}

/// The owning FoxSchema's uid is kept with each apply; a database whose history predates the
/// column (bookkeeping at version 3) gets it in place, its old rows kept with no uid.
#[tokio::test]
async fn the_owners_uid_is_recorded_and_old_histories_upgrade_in_place() {
    for engine in Backend::ALL {
        let database = TestDatabase::create(engine).await;
        let blog = tables(POSTS);
        applied(
            apply_schema(
                &url(&database),
                &blog.spec,
                &named("blog", None),
                &mut |_| {},
            )
            .await,
        );

        // As a database of a FoxDB before the uid: no column, bookkeeping at version 3.
        let dialect = dialect_for(engine);
        let mut connection = connect(&database).await;
        for statement in [
            format!(
                "ALTER TABLE {} DROP COLUMN {}",
                dialect.quote("_fox_apply_history"),
                dialect.quote("owner_uid")
            ),
            format!(
                "DELETE FROM {} WHERE {} = 4",
                dialect.quote("_fox_bookkeeping"),
                dialect.quote("version")
            ),
        ] {
            connection.execute(&statement).await.expect(&statement);
        }
        connection.close().await;

        let owned = ApplyOptions {
            owner_uid: Some("5f0c7a3e-2d4b-4e8a-9c1f-0a6b2e7d9c11".into()),
            ..named("blog", None)
        };
        let with_users = tables(&format!("{POSTS}{USERS}"));
        applied(apply_schema(&url(&database), &with_users.spec, &owned, &mut |_| {}).await);

        let mut connection = connect(&database).await;
        let history = read_history(&mut connection).await.expect("history");
        connection.close().await;
        let uids: Vec<Option<&str>> = history.iter().map(|e| e.owner_uid.as_deref()).collect();
        assert_eq!(
            uids,
            [None, Some("5f0c7a3e-2d4b-4e8a-9c1f-0a6b2e7d9c11")],
            "{engine}: {history:?}"
        );
    }
}

#[test]
fn two_schemas_on_one_database_in_the_files_are_refused_before_connecting() {
    let second = schema_yaml("", USERS).replace("name: test", "name: second");
    let both = manifest_file(&format!("{}\n---\n{second}", schema_yaml("", POSTS)));
    let path = both.path.to_str().expect("utf-8");

    let output = fox(&["validate", "-f", path]);
    assert_eq!(output.status.code(), Some(1));
    let message = text(&output.stdout);
    assert!(
        message.contains("spec.databaseRef.name: FoxSchema/test")
            && message.contains("a database is declared by one FoxSchema"),
        "{message}"
    );

    let output = fox(&[
        "apply",
        "-f",
        path,
        "--database",
        "postgres://u:pw@127.0.0.1:1/x",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let message = text(&output.stderr);
    assert!(message.contains("declared by one FoxSchema"), "{message}");
    assert!(!message.contains("cannot connect"), "{message}");
}
