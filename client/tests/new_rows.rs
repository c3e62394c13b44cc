//! `#[foxdb(new_row)]` on a hand-written model: `New<Model>` leaves generated, defaulted and
//! nullable columns to the database, on PostgreSQL, MariaDB and SQLite.

mod support;

use fox_e2e::Backend;

#[derive(foxdb::Model, Clone, Debug, PartialEq)]
#[foxdb(table = "tickets", new_row)]
struct Ticket {
    #[foxdb(primary_key, auto_increment)]
    id: i64,
    title: String,
    #[foxdb(default)]
    priority: i32,
    #[foxdb(column = "note_text")]
    note: Option<String>,
}

#[tokio::test]
async fn new_rows_leave_what_the_database_fills_to_it() {
    for engine in Backend::ALL {
        let (_test, db) = support::database_with_table(
            engine,
            "tickets",
            "title varchar(100) NOT NULL, priority integer NOT NULL DEFAULT 3, note_text varchar(100) NULL",
        )
        .await;

        let minimal = NewTicket {
            title: "leaky tap".into(),
            ..NewTicket::default()
        };
        assert_eq!(
            format!("{minimal:?}"),
            r#"NewTicket { columns: ["title"] }"#,
            "Debug names the columns given"
        );
        let stored = db
            .create(&minimal)
            .await
            .unwrap_or_else(|e| panic!("{engine}: {e}"));
        assert!(stored.id > 0, "{engine}: generated id");
        assert_eq!(
            (
                stored.title.as_str(),
                stored.priority,
                stored.note.as_deref()
            ),
            ("leaky tap", 3, None),
            "{engine}: the default and NULL came from the database"
        );

        let full = NewTicket {
            id: Some(stored.id + 100),
            title: "door".into(),
            priority: Some(1),
            note: Some("front".into()),
        };
        let stored = db
            .create(&full)
            .await
            .unwrap_or_else(|e| panic!("{engine}: {e}"));
        assert_eq!(
            stored,
            Ticket {
                id: full.id.expect("given"),
                title: "door".into(),
                priority: 1,
                note: Some("front".into()),
            },
            "{engine}: every column given"
        );
    }
}
