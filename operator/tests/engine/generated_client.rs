//! `fox generate client`: the committed models of the blog example are what the command
//! writes, they compile, and they work against the schema `fox apply` creates on every engine.

use fox_e2e::{TestDatabase, TestEngine};
use foxdb::{Database, ModelExt};

use super::support::{applied, apply, fox, schema, text};

#[path = "../fixtures/blog_models.rs"]
#[allow(dead_code)]
mod blog;

const BLOG: &str = include_str!("../../../examples/blog/10-schema.yaml");

#[test]
fn committed_models_are_what_the_generator_writes() {
    let schema_path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/blog/10-schema.yaml"
    );
    let output = fox(&["generate", "client", "-f", schema_path]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let committed = include_str!("../fixtures/blog_models.rs");
    assert!(
        text(&output.stdout) == committed,
        "operator/tests/fixtures/blog_models.rs is stale: run `fox generate client -f examples/blog/10-schema.yaml -o operator/tests/fixtures/blog_models.rs`"
    );
}

#[tokio::test]
async fn generated_models_do_crud_on_every_engine() {
    for engine in TestEngine::ALL {
        let test = TestDatabase::create(engine).await;
        applied(apply(&test, &schema(BLOG), false).await);
        let db = Database::connect(test.url()).await.expect("connects");

        let admin = blog::User::find()
            .filter(blog::User::EMAIL.eq("admin@example.com"))
            .one_required(&db)
            .await;
        let admin = admin.unwrap_or_else(|e| panic!("{engine}: the seeded admin: {e}"));
        assert_eq!(admin.role, "admin", "{engine}: enum read as text");

        let now = chrono::DateTime::parse_from_rfc3339("2026-11-27T10:00:00Z")
            .expect("valid")
            .with_timezone(&chrono::Utc);
        let post = db
            .insert(&blog::Post {
                id: 0,
                title: "Hello".into(),
                body: "First post".into(),
                status: "published".into(),
                published: true,
                published_at: Some(now),
                metadata: Some(serde_json::json!({"lang": "en"})),
                author_id: admin.id,
            })
            .await
            .unwrap_or_else(|e| panic!("{engine}: inserts a post: {e}"));
        assert!(post.id > 0);
        let published = blog::Post::find()
            .filter(
                blog::Post::STATUS
                    .eq("published")
                    .and(blog::Post::AUTHOR_ID.eq(admin.id)),
            )
            .count(&db)
            .await
            .unwrap_or_else(|e| panic!("{engine}: filters on an enum: {e}"));
        assert_eq!(published, 1, "{engine}");

        let changed = blog::Post::update()
            .set(blog::Post::STATUS, "archived")
            .filter(blog::Post::ID.eq(post.id))
            .exec(&db)
            .await
            .unwrap_or_else(|e| panic!("{engine}: updates an enum: {e}"));
        assert_eq!(changed, 1);
        let order = db
            .insert(&blog::Order {
                id: uuid::Uuid::from_u128(7),
                user: admin.id,
                total: rust_decimal::Decimal::new(4_999, 2),
                placed_on: chrono::NaiveDate::from_ymd_opt(2026, 11, 27).expect("valid"),
            })
            .await
            .unwrap_or_else(|e| panic!("{engine}: inserts into \"order\": {e}"));
        assert_eq!(
            order.total,
            rust_decimal::Decimal::new(4_999, 2),
            "{engine}"
        );
        db.close().await;
    }
}
