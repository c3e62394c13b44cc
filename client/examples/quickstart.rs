//! A tour of the foxdb client: models, queries, relations, a transaction, partial inserts and
//! updates.
//!
//! Its tables are declared in `quickstart.yaml` beside it, and created by the schema engine:
//!
//! ```sh
//! fox apply -f client/examples/quickstart.yaml --database sqlite://quickstart.sqlite
//! cargo run -p foxdb --example quickstart -- sqlite://quickstart.sqlite
//! ```
//!
//! (or a `postgres://` / `mysql://` URL in both commands). `operator/tests/quickstart.rs` runs it
//! this way on every engine.

use foxdb::{Database, ModelExt, Relation};

#[derive(Clone, Debug, PartialEq, foxdb::Model)]
#[foxdb(table = "authors", hooks)]
pub struct Author {
    #[foxdb(primary_key, auto_increment)]
    pub id: i64,
    pub email: String,
    pub name: String,
}

impl foxdb::Hooks for Author {
    async fn before_insert(&mut self, _tx: &mut foxdb::Transaction) -> foxdb::Result<()> {
        self.email = self.email.to_lowercase();
        Ok(())
    }
}

#[derive(Clone, Debug, PartialEq, foxdb::Model)]
#[foxdb(table = "books", new_row)]
pub struct Book {
    #[foxdb(primary_key, auto_increment)]
    pub id: i64,
    pub author_id: i64,
    pub title: String,
    pub year: i32,
}

impl Author {
    /// An author's books.
    pub fn books() -> Relation<Author, Book> {
        Relation::has_many(Author::ID, Book::AUTHOR_ID)
    }
}

/// Writes and reads some rows of the tables `quickstart.yaml` declares; returns what it
/// printed.
///
/// # Errors
/// Any database error (a missing table: run `fox apply -f client/examples/quickstart.yaml` first).
pub async fn run(url: &str) -> foxdb::Result<Vec<String>> {
    let db = Database::connect(url).await?;
    let mut lines = Vec::new();
    let (ursula, terry) = db
        .transaction(async |tx| {
            let ursula = tx
                .insert(&Author {
                    id: 0,
                    email: "Ursula@Example.com".into(),
                    name: "Ursula K. Le Guin".into(),
                })
                .await?;
            let terry = tx
                .insert(&Author {
                    id: 0,
                    email: "terry@example.com".into(),
                    name: "Terry Pratchett".into(),
                })
                .await?;
            tx.insert_many(&[
                Book {
                    id: 0,
                    author_id: ursula.id,
                    title: "A Wizard of Earthsea".into(),
                    year: 1968,
                },
                Book {
                    id: 0,
                    author_id: ursula.id,
                    title: "The Left Hand of Darkness".into(),
                    year: 1969,
                },
                Book {
                    id: 0,
                    author_id: ursula.id,
                    title: "The Dispossessed".into(),
                    year: 1974,
                },
                Book {
                    id: 0,
                    author_id: terry.id,
                    title: "Small Gods".into(),
                    year: 1992,
                },
            ])
            .await?;
            Ok::<_, foxdb::Error>((ursula, terry))
        })
        .await?;
    lines.push(format!("{} is stored as {}", ursula.name, ursula.email));

    let seventies = Book::find()
        .filter(
            Book::YEAR
                .between(1970, 1979)
                .or(Book::TITLE.like("Small%")),
        )
        .order_by(Book::YEAR.asc())
        .all(&db)
        .await?;
    for book in &seventies {
        lines.push(format!("{} ({})", book.title, book.year));
    }

    let authors = vec![ursula, terry];
    let latest = Author::books()
        .order_by(Book::YEAR.desc())
        .limit(1)
        .load_for(&authors, &db)
        .await?;
    for (author, books) in authors.iter().zip(&latest) {
        let titles: Vec<&str> = books.iter().map(|b| b.title.as_str()).collect();
        lines.push(format!("latest by {}: {}", author.name, titles.join(", ")));
    }

    // An insert giving only some columns (`NewBook` leaves the id to the database), a partial
    // update by primary key, and each author's newest book loaded eagerly, one row per author.
    let terry = &authors[1];
    db.create(&NewBook {
        author_id: terry.id,
        title: "Night Watch".into(),
        year: 2002,
        ..NewBook::default()
    })
    .await?;
    let renamed = db
        .patch(
            terry,
            &AuthorChanges {
                name: Some("Sir Terry Pratchett".into()),
                ..AuthorChanges::default()
            },
        )
        .await?
        .ok_or(foxdb::Error::NotFound {
            table: "authors".into(),
        })?;
    lines.push(format!("{} is now {}", terry.name, renamed.name));
    let newest = Author::find()
        .order_by(Author::NAME.asc())
        .with(Author::books().order_by(Book::YEAR.desc()).one())
        .all(&db)
        .await?;
    for (author, book) in &newest {
        let title = book.as_ref().map_or("none", |b| b.title.as_str());
        lines.push(format!("newest by {}: {title}", author.name));
    }
    lines.push(format!("{} books in all", Book::find().count(&db).await?));
    db.close().await;
    Ok(lines)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> foxdb::Result<()> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "sqlite://quickstart.sqlite".into());
    for line in run(&url).await? {
        println!("{line}");
    }
    Ok(())
}
