//! `LIKE` with user text matched literally, against real PostgreSQL, MariaDB and SQLite.

mod support;

use fox_e2e::Backend;
use foxdb::{Condition, Database, ModelExt, escape_like};

#[derive(foxdb::Model, Clone, Debug, PartialEq)]
#[foxdb(table = "files")]
struct File {
    #[foxdb(primary_key, auto_increment)]
    id: i64,
    name: String,
}

/// Names that differ from each other only where `%`, `_`, `\` and `!` would be wildcards or
/// escapes.
const NAMES: [&str; 10] = [
    "100%", "1000", "a_b", "axb", r"c:\dir", "c:/dir", r"c:\\dir", "hey!", "hey!!", "heyx",
];

async fn matching(db: &Database, condition: Condition<File>) -> Vec<String> {
    let mut names: Vec<String> = File::find()
        .filter(condition)
        .all(db)
        .await
        .expect("finds")
        .into_iter()
        .map(|file| file.name)
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn like_helpers_match_user_text_literally_on_every_engine() {
    for engine in Backend::ALL {
        let (_test, db) =
            support::database_with_table(engine, "files", "name varchar(40) NOT NULL").await;
        let files: Vec<File> = NAMES
            .iter()
            .map(|name| File {
                id: 0,
                name: (*name).into(),
            })
            .collect();
        db.insert_many(&files).await.expect("inserts");
        let cases: [(Condition<File>, &[&str]); 9] = [
            (File::NAME.contains("0%"), &["100%"]),
            (File::NAME.starts_with("100%"), &["100%"]),
            (File::NAME.ends_with("_b"), &["a_b"]),
            (File::NAME.contains("a_"), &["a_b"]),
            (File::NAME.contains(r"c:\d"), &[r"c:\dir"]),
            (File::NAME.starts_with(r"c:\\"), &[r"c:\\dir"]),
            (File::NAME.ends_with("!"), &["hey!", "hey!!"]),
            (File::NAME.ends_with("y!!"), &["hey!!"]),
            (
                File::NAME.like_escaped(format!("{}_", escape_like("hey!"))),
                &["hey!!"],
            ),
        ];
        for (condition, expected) in cases {
            let rendered = format!("{condition:?}");
            assert_eq!(
                matching(&db, condition).await,
                expected,
                "{engine}: {rendered}"
            );
        }
        // The plain form keeps its wildcards.
        assert_eq!(
            matching(&db, File::NAME.like("a_b")).await,
            ["a_b", "axb"],
            "{engine}"
        );
        db.close().await;
    }
}
