// The models the Rust examples of docs/client.md use, included by each of them (hidden lines
// `# include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/guide/models.rs"));`) so that
// `cargo test --doc -p foxdb` compiles every example against the real API.
//
// The blog's models are the ones `fox generate client -f examples/blog/10-schema.yaml` writes
// (operator/tests/fixtures/blog_models.rs; a test there fails when they are stale); what an
// application adds beside a generated file follows it, as docs/client.md describes.

#[allow(dead_code)]
mod guide {
    use foxdb::Relation;

    include!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../operator/tests/fixtures/blog_models.rs"
    ));

    // Many-to-one accessors: the blog's FoxSchema declares the other side only.
    impl Post {
        /// The post's author (`posts.author_id`).
        pub fn author() -> Relation<Post, User> {
            Relation::belongs_to(Post::AUTHOR_ID, User::ID)
        }
    }

    impl User {
        /// The user's manager (`users.manager_id`).
        pub fn manager() -> Relation<User, User> {
            Relation::belongs_to(User::MANAGER_ID, User::ID)
        }

        /// The users this one manages.
        pub fn reports() -> Relation<User, User> {
            Relation::has_many(User::ID, User::MANAGER_ID)
        }
    }

    /// An account, for the transaction examples.
    #[derive(Clone, Debug, PartialEq, foxdb::Model)]
    #[foxdb(table = "accounts")]
    pub struct Account {
        #[foxdb(primary_key, auto_increment)]
        pub id: i64,
        pub balance: i64,
    }

    /// Statistics per user, for the raw SQL examples.
    #[derive(Debug, foxdb::FromRow)]
    pub struct UserStats {
        pub email: String,
        pub posts: i64,
    }

    /// An application error, for the error examples.
    #[derive(Debug)]
    pub enum AppError {
        EmailTaken,
        Database(foxdb::Error),
    }

    impl From<foxdb::Error> for AppError {
        fn from(error: foxdb::Error) -> Self {
            Self::Database(error)
        }
    }
}

#[allow(unused_imports)]
use guide::*;
