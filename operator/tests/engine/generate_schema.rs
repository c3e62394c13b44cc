//! `fox generate schema`: a FoxSchema written from a live database re-plans in sync on every
//! engine — for a database FoxDB made, for one made by hand with names of its own, and for 200
//! tables — and what a FoxSchema cannot declare is listed, never dropped without a word.

use fox_e2e::{Backend, TestDatabase};

use super::support::{execute, fox, text};

/// Writes the FoxSchema of `database` into a temporary folder; returns the folder, the file's
/// text and what `fox` printed on stderr.
fn generate(database: &TestDatabase, extra: &[&str]) -> (tempfile::TempDir, String, String) {
    let folder = tempfile::tempdir().expect("temp dir");
    let path = folder.path().join("schema.yaml");
    let mut args = vec![
        "generate",
        "schema",
        "--database",
        database.url(),
        "-o",
        path.to_str().expect("utf-8"),
    ];
    args.extend_from_slice(extra);
    let generated = fox(&args);
    assert_eq!(
        generated.status.code(),
        Some(0),
        "{}: {}",
        database.engine(),
        text(&generated.stderr)
    );
    let yaml = std::fs::read_to_string(&path).expect("written");
    (folder, yaml, text(&generated.stderr))
}

/// `fox validate` accepts the file and `fox plan --detailed-exitcode` finds nothing to do.
fn assert_in_sync(database: &TestDatabase, folder: &tempfile::TempDir, yaml: &str) {
    let engine = database.engine();
    let path = folder.path().join("schema.yaml");
    let path = path.to_str().expect("utf-8");
    let validated = fox(&["validate", "-f", path]);
    assert_eq!(
        validated.status.code(),
        Some(0),
        "{engine}: {}{}\n{yaml}",
        text(&validated.stdout),
        text(&validated.stderr)
    );
    let planned = fox(&[
        "plan",
        "-f",
        path,
        "--database",
        database.url(),
        "--detailed-exitcode",
    ]);
    assert_eq!(
        planned.status.code(),
        Some(0),
        "{engine}: {}{}\n{yaml}",
        text(&planned.stdout),
        text(&planned.stderr)
    );
}

/// `fox apply -f path` on `database`, which must succeed; returns what it printed.
fn apply(database: &TestDatabase, path: &str) -> String {
    let applied = fox(&["apply", "-f", path, "--database", database.url()]);
    assert_eq!(
        applied.status.code(),
        Some(0),
        "{}: {}{}",
        database.engine(),
        text(&applied.stdout),
        text(&applied.stderr)
    );
    text(&applied.stdout)
}

#[tokio::test]
async fn the_schema_of_a_database_foxdb_made_replans_in_sync() {
    for engine in Backend::ALL {
        let database = TestDatabase::create(engine).await;
        apply(&database, "../examples/blog/");
        let (folder, yaml, _) = generate(&database, &[]);
        // The name of the FoxSchema that owns the database, so the next apply is allowed.
        assert!(
            yaml.contains("metadata:\n  name: blog\n"),
            "{engine}: {yaml}"
        );
        assert!(
            yaml.contains(
                "{name: status, type: \"enum(draft,published,archived)\", default: \"draft\"}"
            ),
            "{engine}: {yaml}"
        );
        assert!(yaml.contains("      realtime: true\n"), "{engine}: {yaml}");
        assert!(
            yaml.contains("{name: posts, kind: one-to-many, table: posts, foreignKey: author_id}"),
            "{engine}: {yaml}"
        );
        assert_in_sync(&database, &folder, &yaml);
    }
}

/// Tables made by hand, with names of their own, and objects a FoxSchema cannot declare.
fn hand_made(engine: Backend) -> Vec<&'static str> {
    match engine {
        Backend::Postgres => vec![
            "CREATE TYPE mood AS ENUM ('happy', 'sad')",
            "CREATE TABLE customers (id serial PRIMARY KEY, email varchar(200) NOT NULL \
             CONSTRAINT uq_customer_email UNIQUE, feeling mood NOT NULL DEFAULT 'happy', \
             created_at timestamptz NOT NULL DEFAULT now())",
            "CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id integer NOT NULL \
             CONSTRAINT fk_orders_customer REFERENCES customers (id) ON DELETE CASCADE, \
             total numeric(10,2) NOT NULL DEFAULT 0, note text, \
             CONSTRAINT positive_total CHECK (total >= 0))",
            "CREATE INDEX idx_orders_customer ON orders (customer_id)",
            "CREATE TABLE order_items (order_id bigint NOT NULL CONSTRAINT fk_items_order \
             REFERENCES orders (id), line integer NOT NULL, quantity integer NOT NULL DEFAULT 1, \
             PRIMARY KEY (order_id, line))",
            "CREATE VIEW big_orders AS SELECT id, total FROM orders WHERE total > 100",
            "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$",
            "CREATE TRIGGER orders_touch BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION touch()",
            "CREATE INDEX orders_open_idx ON orders (id) WHERE note IS NULL",
            "CREATE INDEX customers_email_lower_idx ON customers (lower(email))",
        ],
        Backend::MySql => vec![
            "CREATE TABLE customers (id int AUTO_INCREMENT PRIMARY KEY, email varchar(200) NOT NULL, \
             feeling enum('happy','sad') NOT NULL DEFAULT 'happy', \
             CONSTRAINT uq_customer_email UNIQUE (email))",
            "CREATE TABLE orders (id bigint AUTO_INCREMENT PRIMARY KEY, customer_id int NOT NULL, \
             total decimal(10,2) NOT NULL DEFAULT 0.00, note text, \
             CONSTRAINT positive_total CHECK (total >= 0), KEY idx_orders_customer (customer_id), \
             CONSTRAINT fk_orders_customer FOREIGN KEY (customer_id) REFERENCES customers (id) \
             ON DELETE CASCADE)",
            "CREATE TABLE order_items (order_id bigint NOT NULL, line int NOT NULL, \
             quantity int NOT NULL DEFAULT 1, PRIMARY KEY (order_id, line), \
             CONSTRAINT fk_items_order FOREIGN KEY (order_id) REFERENCES orders (id))",
            "CREATE VIEW big_orders AS SELECT id, total FROM orders WHERE total > 100",
            "CREATE TRIGGER orders_touch BEFORE UPDATE ON orders FOR EACH ROW SET NEW.note = NEW.note",
            "CREATE INDEX orders_note_prefix ON orders (note(10))",
        ],
        Backend::Sqlite => vec![
            "CREATE TABLE customers (id integer PRIMARY KEY AUTOINCREMENT, \
             email varchar(200) NOT NULL CONSTRAINT uq_customer_email UNIQUE, \
             feeling text NOT NULL DEFAULT 'happy' CHECK (feeling IN ('happy', 'sad')))",
            "CREATE TABLE orders (id integer PRIMARY KEY AUTOINCREMENT, customer_id integer NOT NULL \
             CONSTRAINT fk_orders_customer REFERENCES customers (id) ON DELETE CASCADE, \
             total decimal(10,2) NOT NULL DEFAULT 0, note text, \
             CONSTRAINT positive_total CHECK (total >= 0))",
            "CREATE INDEX idx_orders_customer ON orders (customer_id)",
            "CREATE TABLE order_items (order_id integer NOT NULL CONSTRAINT fk_items_order \
             REFERENCES orders (id), line integer NOT NULL, quantity integer NOT NULL DEFAULT 1, \
             PRIMARY KEY (order_id, line))",
            "CREATE VIEW big_orders AS SELECT id, total FROM orders WHERE total > 100",
            "CREATE TRIGGER orders_touch BEFORE UPDATE ON orders BEGIN SELECT 1; END",
            "CREATE INDEX orders_open_idx ON orders (id) WHERE note IS NULL",
            "CREATE INDEX customers_email_lower_idx ON customers (lower(email))",
        ],
    }
}

/// What the file's comments must name on each engine.
fn listed(engine: Backend) -> Vec<&'static str> {
    let mut common = vec![
        "view big_orders",
        "trigger orders_touch on orders",
        "check constraint positive_total on orders",
    ];
    common.extend(match engine {
        Backend::Postgres => vec![
            "partial index orders_open_idx on orders",
            "expression index customers_email_lower_idx on customers",
        ],
        Backend::MySql => vec!["prefix index orders_note_prefix on orders"],
        Backend::Sqlite => vec![
            "partial index orders_open_idx on orders",
            "expression index customers_email_lower_idx on customers",
            "check constraint (unnamed) on customers: CHECK (feeling IN ('happy', 'sad'))",
        ],
    });
    common
}

#[tokio::test]
async fn a_database_made_by_hand_is_adopted_in_sync_and_what_cannot_be_declared_is_listed() {
    for engine in Backend::ALL {
        let database = TestDatabase::create(engine).await;
        for statement in hand_made(engine) {
            execute(&database, statement).await;
        }
        let (folder, yaml, _) = generate(&database, &["--name", "shop"]);
        for object in listed(engine) {
            assert!(
                yaml.lines()
                    .any(|l| l.starts_with("#   - ") && l.contains(object)),
                "{engine}: {object} not listed in\n{yaml}"
            );
        }
        // Names of its own are kept: the foreign key's and the index's. (SQLite keeps foreign
        // key names only in table-level `CONSTRAINT "name" FOREIGN KEY` clauses and never uses
        // them; a column-level name reads as FoxDB's own.)
        let foreign_key_names_read = match engine {
            Backend::Postgres | Backend::MySql => true,
            Backend::Sqlite => false,
        };
        if foreign_key_names_read {
            assert!(
                yaml.contains("name: fk_orders_customer}"),
                "{engine}: {yaml}"
            );
        }
        assert!(
            yaml.contains("name: idx_orders_customer}"),
            "{engine}: {yaml}"
        );
        assert!(
            yaml.contains("primaryKey: [order_id, line]"),
            "{engine}: {yaml}"
        );
        assert!(
            yaml.contains("metadata:\n  name: shop\n"),
            "{engine}: {yaml}"
        );
        assert_in_sync(&database, &folder, &yaml);

        // The adopted database is managed from then on: a new column applies.
        let path = folder.path().join("schema.yaml");
        let grown = yaml.replace(
            "    - name: order_items\n      columns:\n",
            "    - name: order_items\n      columns:\n        - {name: gift, type: boolean, default: false}\n",
        );
        std::fs::write(&path, grown).expect("writes");
        let applied = apply(&database, path.to_str().expect("utf-8"));
        assert!(
            applied.contains("add column order_items.gift"),
            "{engine}: {applied}"
        );
    }
}

#[tokio::test]
async fn a_table_without_a_primary_key_is_named_with_what_fox_would_do() {
    for engine in Backend::ALL {
        let database = TestDatabase::create(engine).await;
        execute(
            &database,
            "CREATE TABLE events (happened_at date, note text)",
        )
        .await;
        execute(&database, "CREATE TABLE kept (id integer PRIMARY KEY)").await;
        let (_folder, yaml, stderr) = generate(&database, &[]);
        let warning = "table events has no primary key";
        assert!(stderr.contains(warning), "{engine}: {stderr}");
        assert!(
            yaml.lines()
                .any(|l| l.starts_with("#   - ") && l.contains(warning)),
            "{engine}: {yaml}"
        );
        assert!(!yaml.contains("- name: events"), "{engine}: {yaml}");
        assert!(yaml.contains("- name: kept"), "{engine}: {yaml}");
    }
}

#[tokio::test]
async fn two_hundred_tables_replan_in_sync() {
    let count: usize = std::env::var("FOX_GENERATE_TABLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let mut tables = String::new();
    for i in 0..count {
        tables.push_str(&format!(
            "    - name: t{i:03}\n      columns:\n        - {{name: id, type: bigserial, primaryKey: true}}\n        - {{name: code, type: varchar(40), unique: true}}\n        - {{name: amount, type: \"decimal(12,2)\", default: 0}}\n        - {{name: created_at, type: timestamptz, default: now()}}\n"
        ));
        if i > 0 {
            tables.push_str(&format!(
                "        - {{name: parent_id, type: bigint, nullable: true, references: {{table: t{:03}, onDelete: set-null}}}}\n",
                i - 1
            ));
        }
        tables.push_str("      indexes:\n        - {columns: [created_at, amount]}\n");
    }
    let manifest = format!(
        "apiVersion: foxdb.dev/v1alpha1\nkind: FoxSchema\nmetadata: {{name: wide}}\nspec:\n  databaseRef: {{name: db}}\n  tables:\n{tables}"
    );
    for engine in Backend::ALL {
        let database = TestDatabase::create(engine).await;
        let source = tempfile::tempdir().expect("temp dir");
        let path = source.path().join("wide.yaml");
        std::fs::write(&path, &manifest).expect("writes");
        apply(&database, path.to_str().expect("utf-8"));
        let (folder, yaml, _) = generate(&database, &[]);
        assert_eq!(
            yaml.matches("\n    - name: t").count(),
            count,
            "{engine}: every table written"
        );
        assert_in_sync(&database, &folder, &yaml);
    }
}
