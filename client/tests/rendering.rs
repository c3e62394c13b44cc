//! The exact SQL text and the number of bound parameters of every query shape the builder
//! makes, on each engine, rendered without a server (the way sea-query tests its builders).
//! These pin the statements so a change to the renderer shows here first, in seconds.

use foxdb::query::{count, delete, insert_statement, update, upsert_statement};
use foxdb::{Backend, ModelExt, Relation, Result, Value};

#[derive(foxdb::Model, Clone, Debug, PartialEq)]
#[foxdb(table = "users")]
struct User {
    #[foxdb(primary_key, auto_increment)]
    id: i64,
    name: String,
    manager_id: Option<i64>,
    #[foxdb(enum)]
    role: String,
    score: f64,
}

#[derive(foxdb::Model, Clone, Debug, PartialEq)]
#[foxdb(table = "posts")]
struct Post {
    #[foxdb(primary_key, auto_increment)]
    id: i64,
    author_id: i64,
    title: String,
    views: i32,
}

#[derive(foxdb::Model, Clone, Debug, PartialEq)]
#[foxdb(table = "tags")]
struct Tag {
    #[foxdb(primary_key, auto_increment)]
    id: i64,
    name: String,
}

#[derive(foxdb::Model, Clone, Debug, PartialEq)]
#[foxdb(table = "post_tags")]
struct PostTag {
    #[foxdb(primary_key)]
    post_id: i64,
    #[foxdb(primary_key)]
    tag_id: i64,
}

impl User {
    fn posts() -> Relation<User, Post> {
        Relation::has_many(User::ID, Post::AUTHOR_ID)
    }
    fn manager() -> Relation<User, User> {
        Relation::belongs_to(User::MANAGER_ID, User::ID)
    }
}

impl Post {
    fn author() -> Relation<Post, User> {
        Relation::belongs_to(Post::AUTHOR_ID, User::ID)
    }
    fn tags() -> Relation<Post, Tag> {
        Relation::many_to_many(Post::ID, PostTag::POST_ID, PostTag::TAG_ID, Tag::ID)
    }
}

fn ada() -> User {
    User {
        id: 7,
        name: "Ada".into(),
        manager_id: None,
        role: "admin".into(),
        score: 1.5,
    }
}

/// Asserts the SQL text and parameter count `render` gives on PostgreSQL, MySQL and SQLite,
/// in that order; a refusal is written `error: <message>` with count 0.
#[track_caller]
fn assert_renders(
    render: impl Fn(Backend) -> Result<(String, Vec<Value>)>,
    expected: [(&str, usize); 3],
) {
    let backends = [Backend::Postgres, Backend::MySql, Backend::Sqlite];
    for (backend, (sql, parameters)) in backends.into_iter().zip(expected) {
        let rendered = match render(backend) {
            Ok((sql, values)) => (sql, values.len()),
            Err(error) => (format!("error: {error}"), 0),
        };
        assert_eq!(rendered, (sql.to_string(), parameters), "on {backend:?}");
    }
}

/// For renderers that cannot fail.
fn ok(rendered: (String, Vec<Value>)) -> Result<(String, Vec<Value>)> {
    Ok(rendered)
}

#[test]
fn select_of_every_column() {
    assert_renders(
        |b| ok(User::find().to_sql(b)),
        [
            (
                r#"SELECT "id", "name", "manager_id", CAST("role" AS text) AS "role", "score" FROM "users""#,
                0,
            ),
            (
                r"SELECT `id`, `name`, `manager_id`, `role`, `score` FROM `users`",
                0,
            ),
            (
                r#"SELECT "id", "name", "manager_id", "role", "score" FROM "users""#,
                0,
            ),
        ],
    );
}

#[test]
fn select_with_filters_order_limit_and_offset() {
    let query = User::find()
        .filter(User::NAME.eq("Ada").and(User::ID.gt(1)))
        .filter(User::MANAGER_ID.is_null().or(User::SCORE.lte(2.0)))
        .order_by(User::NAME.asc())
        .order_by(User::ID.desc())
        .limit(10)
        .offset(20);
    assert_renders(
        |b| ok(query.to_sql(b)),
        [
            (
                r#"SELECT "id", "name", "manager_id", CAST("role" AS text) AS "role", "score" FROM "users" WHERE ("name" = $1 AND "id" > $2 AND ("manager_id" IS NULL OR "score" <= $3)) ORDER BY "users"."name" ASC, "users"."id" DESC LIMIT 10 OFFSET 20"#,
                3,
            ),
            (
                r"SELECT `id`, `name`, `manager_id`, `role`, `score` FROM `users` WHERE (`name` = ? AND `id` > ? AND (`manager_id` IS NULL OR `score` <= ?)) ORDER BY `users`.`name` ASC, `users`.`id` DESC LIMIT 10 OFFSET 20",
                3,
            ),
            (
                r#"SELECT "id", "name", "manager_id", "role", "score" FROM "users" WHERE ("name" = ? AND "id" > ? AND ("manager_id" IS NULL OR "score" <= ?)) ORDER BY "users"."name" ASC, "users"."id" DESC LIMIT 10 OFFSET 20"#,
                3,
            ),
        ],
    );
}

#[test]
fn offset_without_limit_takes_each_engines_form() {
    let query = User::find().offset(5);
    assert_renders(
        |b| ok(query.to_sql(b)),
        [
            (
                r#"SELECT "id", "name", "manager_id", CAST("role" AS text) AS "role", "score" FROM "users" OFFSET 5"#,
                0,
            ),
            (
                r"SELECT `id`, `name`, `manager_id`, `role`, `score` FROM `users` LIMIT 18446744073709551615 OFFSET 5",
                0,
            ),
            (
                r#"SELECT "id", "name", "manager_id", "role", "score" FROM "users" LIMIT -1 OFFSET 5"#,
                0,
            ),
        ],
    );
}

#[test]
fn comparisons_between_nulls_and_negation() {
    let query = User::find().filter(
        User::ID
            .ne(1)
            .and(User::ID.lt(9))
            .and(User::ID.gte(2))
            .and(User::SCORE.between(0.5, 1.5))
            .and(User::MANAGER_ID.is_not_null())
            .and(User::NAME.eq("x").not()),
    );
    assert_renders(
        |b| ok(query.to_sql(b)),
        [
            (
                r#"SELECT "id", "name", "manager_id", CAST("role" AS text) AS "role", "score" FROM "users" WHERE ("id" <> $1 AND "id" < $2 AND "id" >= $3 AND "score" BETWEEN $4 AND $5 AND "manager_id" IS NOT NULL AND NOT ("name" = $6))"#,
                6,
            ),
            (
                r"SELECT `id`, `name`, `manager_id`, `role`, `score` FROM `users` WHERE (`id` <> ? AND `id` < ? AND `id` >= ? AND `score` BETWEEN ? AND ? AND `manager_id` IS NOT NULL AND NOT (`name` = ?))",
                6,
            ),
            (
                r#"SELECT "id", "name", "manager_id", "role", "score" FROM "users" WHERE ("id" <> ? AND "id" < ? AND "id" >= ? AND "score" BETWEEN ? AND ? AND "manager_id" IS NOT NULL AND NOT ("name" = ?))"#,
                6,
            ),
        ],
    );
}

#[test]
fn enum_columns_are_cast_on_postgres() {
    let query = User::find()
        .filter(User::ROLE.eq("admin"))
        .order_by(User::ROLE.asc());
    assert_renders(
        |b| ok(query.to_sql(b)),
        [
            (
                r#"SELECT "id", "name", "manager_id", CAST("role" AS text) AS "role", "score" FROM "users" WHERE "role" = CAST($1 AS "users_role_enum") ORDER BY "users"."role" ASC"#,
                1,
            ),
            (
                r"SELECT `id`, `name`, `manager_id`, `role`, `score` FROM `users` WHERE `role` = ? ORDER BY `users`.`role` ASC",
                1,
            ),
            (
                r#"SELECT "id", "name", "manager_id", "role", "score" FROM "users" WHERE "role" = ? ORDER BY "users"."role" ASC"#,
                1,
            ),
        ],
    );
}

#[test]
fn short_in_lists_bind_one_placeholder_per_value_outside_postgres() {
    let query = User::find().filter(User::ID.in_([1, 2, 3]));
    assert_renders(
        |b| ok(query.to_sql(b)),
        [
            (
                r#"SELECT "id", "name", "manager_id", CAST("role" AS text) AS "role", "score" FROM "users" WHERE "id" = ANY(CAST($1 AS bigint[]))"#,
                1,
            ),
            (
                r"SELECT `id`, `name`, `manager_id`, `role`, `score` FROM `users` WHERE `id` IN (?, ?, ?)",
                3,
            ),
            (
                r#"SELECT "id", "name", "manager_id", "role", "score" FROM "users" WHERE "id" IN (?, ?, ?)"#,
                3,
            ),
        ],
    );
}

#[test]
fn long_in_lists_bind_one_array_parameter() {
    let query = User::find().filter(User::ID.in_(0..300));
    assert_renders(
        |b| ok(query.to_sql(b)),
        [
            (
                r#"SELECT "id", "name", "manager_id", CAST("role" AS text) AS "role", "score" FROM "users" WHERE "id" = ANY(CAST($1 AS bigint[]))"#,
                1,
            ),
            (
                r"SELECT `id`, `name`, `manager_id`, `role`, `score` FROM `users` WHERE `id` IN (SELECT _fox_list.v FROM JSON_TABLE(?, '$[*]' COLUMNS (v BIGINT PATH '$')) AS _fox_list)",
                1,
            ),
            (
                r#"SELECT "id", "name", "manager_id", "role", "score" FROM "users" WHERE "id" IN (SELECT +value FROM json_each(?))"#,
                1,
            ),
        ],
    );
}

#[test]
fn empty_in_lists_match_nothing() {
    let query = User::find().filter(User::ID.in_(Vec::<i64>::new()));
    assert_renders(
        |b| ok(query.to_sql(b)),
        [
            (
                r#"SELECT "id", "name", "manager_id", CAST("role" AS text) AS "role", "score" FROM "users" WHERE 1 = 0"#,
                0,
            ),
            (
                r"SELECT `id`, `name`, `manager_id`, `role`, `score` FROM `users` WHERE 1 = 0",
                0,
            ),
            (
                r#"SELECT "id", "name", "manager_id", "role", "score" FROM "users" WHERE 1 = 0"#,
                0,
            ),
        ],
    );
}

#[test]
fn enum_in_lists_keep_one_placeholder_per_value() {
    let query = User::find().filter(User::ROLE.in_(["admin", "guest"]));
    assert_renders(
        |b| ok(query.to_sql(b)),
        [
            (
                r#"SELECT "id", "name", "manager_id", CAST("role" AS text) AS "role", "score" FROM "users" WHERE "role" IN (CAST($1 AS "users_role_enum"), CAST($2 AS "users_role_enum"))"#,
                2,
            ),
            (
                r"SELECT `id`, `name`, `manager_id`, `role`, `score` FROM `users` WHERE `role` IN (?, ?)",
                2,
            ),
            (
                r#"SELECT "id", "name", "manager_id", "role", "score" FROM "users" WHERE "role" IN (?, ?)"#,
                2,
            ),
        ],
    );
}

#[test]
fn like_helpers_escape_and_read_enums_as_text() {
    let query = User::find().filter(
        User::NAME
            .contains("a%")
            .and(User::NAME.starts_with("b"))
            .and(User::NAME.ends_with("c"))
            .and(User::NAME.like("d%"))
            .and(User::ROLE.like_escaped("ad%")),
    );
    assert_renders(
        |b| ok(query.to_sql(b)),
        [
            (
                r#"SELECT "id", "name", "manager_id", CAST("role" AS text) AS "role", "score" FROM "users" WHERE ("name" LIKE $1 ESCAPE '!' AND "name" LIKE $2 ESCAPE '!' AND "name" LIKE $3 ESCAPE '!' AND "name" LIKE $4 AND CAST("role" AS text) LIKE $5 ESCAPE '!')"#,
                5,
            ),
            (
                r"SELECT `id`, `name`, `manager_id`, `role`, `score` FROM `users` WHERE (`name` LIKE ? ESCAPE '!' AND `name` LIKE ? ESCAPE '!' AND `name` LIKE ? ESCAPE '!' AND `name` LIKE ? AND `role` LIKE ? ESCAPE '!')",
                5,
            ),
            (
                r#"SELECT "id", "name", "manager_id", "role", "score" FROM "users" WHERE ("name" LIKE ? ESCAPE '!' AND "name" LIKE ? ESCAPE '!' AND "name" LIKE ? ESCAPE '!' AND "name" LIKE ? AND "role" LIKE ? ESCAPE '!')"#,
                5,
            ),
        ],
    );
}

#[test]
fn group_by_having_and_aggregates() {
    let query = Post::find()
        .filter(Post::VIEWS.gt(0))
        .group_by(Post::AUTHOR_ID)
        .having(count::<Post>().gt(1).and(Post::VIEWS.sum().lt(100)))
        .order_by(Post::AUTHOR_ID.asc())
        .limit(3)
        .select((
            Post::AUTHOR_ID,
            count::<Post>(),
            Post::VIEWS.sum(),
            Post::VIEWS.avg(),
            Post::VIEWS.min(),
            Post::VIEWS.max(),
        ));
    assert_renders(
        |b| ok(query.to_sql(b)),
        [
            (
                r#"SELECT "author_id" AS "_fox_0", COUNT("id") AS "_fox_1", CAST(COALESCE(SUM("views"), 0) AS BIGINT) AS "_fox_2", CAST(AVG("views") AS DOUBLE PRECISION) AS "_fox_3", MIN("views") AS "_fox_4", MAX("views") AS "_fox_5" FROM "posts" WHERE "views" > $1 GROUP BY "posts"."author_id" HAVING (COUNT("id") > $2 AND CAST(COALESCE(SUM("views"), 0) AS BIGINT) < $3) ORDER BY "posts"."author_id" ASC LIMIT 3"#,
                3,
            ),
            (
                r"SELECT `author_id` AS `_fox_0`, COUNT(`id`) AS `_fox_1`, CAST(COALESCE(SUM(`views`), 0) AS SIGNED) AS `_fox_2`, CAST(AVG(`views`) AS DOUBLE) AS `_fox_3`, MIN(`views`) AS `_fox_4`, MAX(`views`) AS `_fox_5` FROM `posts` WHERE `views` > ? GROUP BY `posts`.`author_id` HAVING (COUNT(`id`) > ? AND CAST(COALESCE(SUM(`views`), 0) AS SIGNED) < ?) ORDER BY `posts`.`author_id` ASC LIMIT 3",
                3,
            ),
            (
                r#"SELECT "author_id" AS "_fox_0", COUNT("id") AS "_fox_1", COALESCE(SUM("views"), 0) AS "_fox_2", AVG("views") AS "_fox_3", MIN("views") AS "_fox_4", MAX("views") AS "_fox_5" FROM "posts" WHERE "views" > ? GROUP BY "posts"."author_id" HAVING (COUNT("id") > ? AND COALESCE(SUM("views"), 0) < ?) ORDER BY "posts"."author_id" ASC LIMIT 3"#,
                3,
            ),
        ],
    );
}

#[test]
fn float_sums_and_column_counts() {
    let query = User::find().group_by(User::ROLE).select((
        User::ROLE,
        User::SCORE.sum_float(),
        User::MANAGER_ID.count(),
    ));
    assert_renders(
        |b| ok(query.to_sql(b)),
        [
            (
                r#"SELECT CAST("role" AS text) AS "_fox_0", CAST(COALESCE(SUM("score"), 0) AS DOUBLE PRECISION) AS "_fox_1", COUNT("manager_id") AS "_fox_2" FROM "users" GROUP BY "users"."role""#,
                0,
            ),
            (
                r"SELECT `role` AS `_fox_0`, CAST(COALESCE(SUM(`score`), 0) AS DOUBLE) AS `_fox_1`, COUNT(`manager_id`) AS `_fox_2` FROM `users` GROUP BY `users`.`role`",
                0,
            ),
            (
                r#"SELECT "role" AS "_fox_0", CAST(COALESCE(SUM("score"), 0) AS REAL) AS "_fox_1", COUNT("manager_id") AS "_fox_2" FROM "users" GROUP BY "users"."role""#,
                0,
            ),
        ],
    );
}

#[test]
fn count_and_exists_ignore_order_and_limit() {
    let query = User::find()
        .filter(User::NAME.eq("Ada"))
        .order_by(User::ID.asc())
        .limit(2);
    assert_renders(
        |b| ok(query.count_to_sql(b)),
        [
            (
                r#"SELECT COUNT(*) AS "count" FROM "users" WHERE "name" = $1"#,
                1,
            ),
            (
                r"SELECT COUNT(*) AS `count` FROM `users` WHERE `name` = ?",
                1,
            ),
            (
                r#"SELECT COUNT(*) AS "count" FROM "users" WHERE "name" = ?"#,
                1,
            ),
        ],
    );
    assert_renders(
        |b| ok(query.exists_to_sql(b)),
        [
            (
                r#"SELECT 1 AS "found" FROM "users" WHERE "name" = $1 LIMIT 1"#,
                1,
            ),
            (
                r"SELECT 1 AS `found` FROM `users` WHERE `name` = ? LIMIT 1",
                1,
            ),
            (
                r#"SELECT 1 AS "found" FROM "users" WHERE "name" = ? LIMIT 1"#,
                1,
            ),
        ],
    );
}

#[test]
fn rows_read_for_a_hooked_write_are_locked_where_the_engine_can() {
    let query = User::find().filter(User::ID.eq(1));
    assert_renders(
        |b| ok(query.to_sql_for_update(b)),
        [
            (
                r#"SELECT "id", "name", "manager_id", CAST("role" AS text) AS "role", "score" FROM "users" WHERE "id" = $1 FOR UPDATE"#,
                1,
            ),
            (
                r"SELECT `id`, `name`, `manager_id`, `role`, `score` FROM `users` WHERE `id` = ? FOR UPDATE",
                1,
            ),
            (
                r#"SELECT "id", "name", "manager_id", "role", "score" FROM "users" WHERE "id" = ?"#,
                1,
            ),
        ],
    );
}

#[test]
fn relation_exists_filters() {
    let query = User::find().filter(
        User::posts()
            .filter(Post::TITLE.eq("x"))
            .exists()
            .or(User::manager().exists()),
    );
    assert_renders(
        |b| ok(query.to_sql(b)),
        [
            (
                r#"SELECT "id", "name", "manager_id", CAST("role" AS text) AS "role", "score" FROM "users" WHERE (EXISTS (SELECT 1 FROM "posts" "_fox_child" WHERE "_fox_child"."author_id" = "users"."id" AND "_fox_child"."title" = $1) OR EXISTS (SELECT 1 FROM "users" "_fox_child" WHERE "_fox_child"."id" = "users"."manager_id"))"#,
                1,
            ),
            (
                r"SELECT `id`, `name`, `manager_id`, `role`, `score` FROM `users` WHERE (EXISTS (SELECT 1 FROM `posts` `_fox_child` WHERE `_fox_child`.`author_id` = `users`.`id` AND `_fox_child`.`title` = ?) OR EXISTS (SELECT 1 FROM `users` `_fox_child` WHERE `_fox_child`.`id` = `users`.`manager_id`))",
                1,
            ),
            (
                r#"SELECT "id", "name", "manager_id", "role", "score" FROM "users" WHERE (EXISTS (SELECT 1 FROM "posts" "_fox_child" WHERE "_fox_child"."author_id" = "users"."id" AND "_fox_child"."title" = ?) OR EXISTS (SELECT 1 FROM "users" "_fox_child" WHERE "_fox_child"."id" = "users"."manager_id"))"#,
                1,
            ),
        ],
    );
    let tagged = Post::find().filter(Post::tags().filter(Tag::NAME.eq("rust")).exists());
    assert_renders(
        |b| ok(tagged.to_sql(b)),
        [
            (
                r#"SELECT "id", "author_id", "title", "views" FROM "posts" WHERE EXISTS (SELECT 1 FROM "tags" "_fox_child" JOIN "post_tags" "_fox_through" ON "_fox_through"."tag_id" = "_fox_child"."id" WHERE "_fox_through"."post_id" = "posts"."id" AND "_fox_child"."name" = $1)"#,
                1,
            ),
            (
                r"SELECT `id`, `author_id`, `title`, `views` FROM `posts` WHERE EXISTS (SELECT 1 FROM `tags` `_fox_child` JOIN `post_tags` `_fox_through` ON `_fox_through`.`tag_id` = `_fox_child`.`id` WHERE `_fox_through`.`post_id` = `posts`.`id` AND `_fox_child`.`name` = ?)",
                1,
            ),
            (
                r#"SELECT "id", "author_id", "title", "views" FROM "posts" WHERE EXISTS (SELECT 1 FROM "tags" "_fox_child" JOIN "post_tags" "_fox_through" ON "_fox_through"."tag_id" = "_fox_child"."id" WHERE "_fox_through"."post_id" = "posts"."id" AND "_fox_child"."name" = ?)"#,
                1,
            ),
        ],
    );
}

#[test]
fn in_subquery_with_filter() {
    let query = User::find().filter(
        User::ID.in_subquery(
            Post::find()
                .filter(Post::TITLE.eq("x"))
                .select((Post::AUTHOR_ID,)),
        ),
    );
    assert_renders(
        |b| ok(query.to_sql(b)),
        [
            (
                r#"SELECT "id", "name", "manager_id", CAST("role" AS text) AS "role", "score" FROM "users" WHERE "id" IN (SELECT "_fox_sub"."author_id" FROM "posts" "_fox_sub" WHERE "_fox_sub"."title" = $1)"#,
                1,
            ),
            (
                r"SELECT `id`, `name`, `manager_id`, `role`, `score` FROM `users` WHERE `id` IN (SELECT `_fox_sub`.`author_id` FROM `posts` `_fox_sub` WHERE `_fox_sub`.`title` = ?)",
                1,
            ),
            (
                r#"SELECT "id", "name", "manager_id", "role", "score" FROM "users" WHERE "id" IN (SELECT "_fox_sub"."author_id" FROM "posts" "_fox_sub" WHERE "_fox_sub"."title" = ?)"#,
                1,
            ),
        ],
    );
}

#[test]
fn in_subquery_with_grouping_order_and_limit() {
    let query = User::find().filter(
        User::ID.in_subquery(
            Post::find()
                .group_by(Post::AUTHOR_ID)
                .having(count::<Post>().gte(2))
                .order_by(Post::AUTHOR_ID.desc())
                .limit(5)
                .offset(1)
                .select((Post::AUTHOR_ID,)),
        ),
    );
    assert_renders(
        |b| ok(query.to_sql(b)),
        [
            (
                r#"SELECT "id", "name", "manager_id", CAST("role" AS text) AS "role", "score" FROM "users" WHERE "id" IN (SELECT "_fox_limited"."author_id" FROM (SELECT "_fox_sub"."author_id" FROM "posts" "_fox_sub" GROUP BY "_fox_sub"."author_id" HAVING COUNT("_fox_sub"."id") >= $1 ORDER BY "_fox_sub"."author_id" DESC LIMIT 5 OFFSET 1) "_fox_limited")"#,
                1,
            ),
            (
                r"SELECT `id`, `name`, `manager_id`, `role`, `score` FROM `users` WHERE `id` IN (SELECT `_fox_limited`.`author_id` FROM (SELECT `_fox_sub`.`author_id` FROM `posts` `_fox_sub` GROUP BY `_fox_sub`.`author_id` HAVING COUNT(`_fox_sub`.`id`) >= ? ORDER BY `_fox_sub`.`author_id` DESC LIMIT 5 OFFSET 1) `_fox_limited`)",
                1,
            ),
            (
                r#"SELECT "id", "name", "manager_id", "role", "score" FROM "users" WHERE "id" IN (SELECT "_fox_limited"."author_id" FROM (SELECT "_fox_sub"."author_id" FROM "posts" "_fox_sub" GROUP BY "_fox_sub"."author_id" HAVING COUNT("_fox_sub"."id") >= ? ORDER BY "_fox_sub"."author_id" DESC LIMIT 5 OFFSET 1) "_fox_limited")"#,
                1,
            ),
        ],
    );
}

#[test]
fn inner_join_with_filters_order_and_selection() {
    let query = Post::find()
        .filter(Post::VIEWS.gt(1))
        .join(Post::author())
        .filter(User::ROLE.eq("admin"))
        .order_by(User::NAME.desc())
        .limit(4)
        .offset(8);
    assert_renders(
        |b| query.to_sql(b),
        [
            (
                r#"SELECT "posts"."id", "posts"."author_id", "posts"."title", "posts"."views" FROM "posts" INNER JOIN "users" ON "users"."id" = "posts"."author_id" WHERE ("posts"."views" > $1 AND "users"."role" = CAST($2 AS "users_role_enum")) ORDER BY "users"."name" DESC LIMIT 4 OFFSET 8"#,
                2,
            ),
            (
                r"SELECT `posts`.`id`, `posts`.`author_id`, `posts`.`title`, `posts`.`views` FROM `posts` INNER JOIN `users` ON `users`.`id` = `posts`.`author_id` WHERE (`posts`.`views` > ? AND `users`.`role` = ?) ORDER BY `users`.`name` DESC LIMIT 4 OFFSET 8",
                2,
            ),
            (
                r#"SELECT "posts"."id", "posts"."author_id", "posts"."title", "posts"."views" FROM "posts" INNER JOIN "users" ON "users"."id" = "posts"."author_id" WHERE ("posts"."views" > ? AND "users"."role" = ?) ORDER BY "users"."name" DESC LIMIT 4 OFFSET 8"#,
                2,
            ),
        ],
    );
    let selected = Post::find()
        .join(Post::author())
        .select((Post::TITLE, User::NAME, User::ROLE));
    assert_renders(
        |b| selected.to_sql(b),
        [
            (
                r#"SELECT "posts"."title" AS "_fox_0", "users"."name" AS "_fox_1", CAST("users"."role" AS text) AS "_fox_2" FROM "posts" INNER JOIN "users" ON "users"."id" = "posts"."author_id""#,
                0,
            ),
            (
                r"SELECT `posts`.`title` AS `_fox_0`, `users`.`name` AS `_fox_1`, `users`.`role` AS `_fox_2` FROM `posts` INNER JOIN `users` ON `users`.`id` = `posts`.`author_id`",
                0,
            ),
            (
                r#"SELECT "posts"."title" AS "_fox_0", "users"."name" AS "_fox_1", "users"."role" AS "_fox_2" FROM "posts" INNER JOIN "users" ON "users"."id" = "posts"."author_id""#,
                0,
            ),
        ],
    );
}

#[test]
fn left_join_self_join_under_an_alias() {
    let query = User::find()
        .left_join(User::manager().aliased::<1>())
        .filter(User::NAME.aliased::<1>().eq("Ada"))
        .select((User::NAME, User::NAME.aliased::<1>()));
    assert_renders(
        |b| query.to_sql(b),
        [
            (
                r#"SELECT "users"."name" AS "_fox_0", "users_1"."name" AS "_fox_1" FROM "users" LEFT JOIN "users" "users_1" ON "users_1"."id" = "users"."manager_id" WHERE "users_1"."name" = $1"#,
                1,
            ),
            (
                r"SELECT `users`.`name` AS `_fox_0`, `users_1`.`name` AS `_fox_1` FROM `users` LEFT JOIN `users` `users_1` ON `users_1`.`id` = `users`.`manager_id` WHERE `users_1`.`name` = ?",
                1,
            ),
            (
                r#"SELECT "users"."name" AS "_fox_0", "users_1"."name" AS "_fox_1" FROM "users" LEFT JOIN "users" "users_1" ON "users_1"."id" = "users"."manager_id" WHERE "users_1"."name" = ?"#,
                1,
            ),
        ],
    );
}

#[test]
fn many_to_many_join_with_grouping_and_alternatives() {
    let query = Post::find()
        .left_join(Post::tags().filter(Tag::NAME.ne("old")))
        .filter_any((Post::TITLE.like("%rust%"), Tag::NAME.eq("rust")))
        .group_by(Post::ID)
        .having(count::<Tag>().gt(0))
        .order_by(Post::ID.asc());
    assert_renders(
        |b| query.to_sql(b),
        [
            (
                r#"SELECT "posts"."id", "posts"."author_id", "posts"."title", "posts"."views" FROM "posts" LEFT JOIN ("post_tags" "_fox_through_1" INNER JOIN "tags" ON "tags"."id" = "_fox_through_1"."tag_id" AND "tags"."name" <> $1) ON "_fox_through_1"."post_id" = "posts"."id" WHERE ("posts"."title" LIKE $2 OR "tags"."name" = $3) GROUP BY "posts"."id" HAVING COUNT("tags"."id") > $4 ORDER BY "posts"."id" ASC"#,
                4,
            ),
            (
                r"SELECT `posts`.`id`, `posts`.`author_id`, `posts`.`title`, `posts`.`views` FROM `posts` LEFT JOIN (`post_tags` `_fox_through_1` INNER JOIN `tags` ON `tags`.`id` = `_fox_through_1`.`tag_id` AND `tags`.`name` <> ?) ON `_fox_through_1`.`post_id` = `posts`.`id` WHERE (`posts`.`title` LIKE ? OR `tags`.`name` = ?) GROUP BY `posts`.`id` HAVING COUNT(`tags`.`id`) > ? ORDER BY `posts`.`id` ASC",
                4,
            ),
            (
                r#"SELECT "posts"."id", "posts"."author_id", "posts"."title", "posts"."views" FROM "posts" LEFT JOIN ("post_tags" "_fox_through_1" INNER JOIN "tags" ON "tags"."id" = "_fox_through_1"."tag_id" AND "tags"."name" <> ?) ON "_fox_through_1"."post_id" = "posts"."id" WHERE ("posts"."title" LIKE ? OR "tags"."name" = ?) GROUP BY "posts"."id" HAVING COUNT("tags"."id") > ? ORDER BY "posts"."id" ASC"#,
                4,
            ),
        ],
    );
    assert_renders(
        |b| query.count_to_sql(b),
        [
            (
                r#"SELECT COUNT(*) AS "count" FROM (SELECT 1 AS "one" FROM "posts" LEFT JOIN ("post_tags" "_fox_through_1" INNER JOIN "tags" ON "tags"."id" = "_fox_through_1"."tag_id" AND "tags"."name" <> $1) ON "_fox_through_1"."post_id" = "posts"."id" WHERE ("posts"."title" LIKE $2 OR "tags"."name" = $3) GROUP BY "posts"."id" HAVING COUNT("tags"."id") > $4) "_fox_groups""#,
                4,
            ),
            (
                r"SELECT COUNT(*) AS `count` FROM (SELECT 1 AS `one` FROM `posts` LEFT JOIN (`post_tags` `_fox_through_1` INNER JOIN `tags` ON `tags`.`id` = `_fox_through_1`.`tag_id` AND `tags`.`name` <> ?) ON `_fox_through_1`.`post_id` = `posts`.`id` WHERE (`posts`.`title` LIKE ? OR `tags`.`name` = ?) GROUP BY `posts`.`id` HAVING COUNT(`tags`.`id`) > ?) `_fox_groups`",
                4,
            ),
            (
                r#"SELECT COUNT(*) AS "count" FROM (SELECT 1 AS "one" FROM "posts" LEFT JOIN ("post_tags" "_fox_through_1" INNER JOIN "tags" ON "tags"."id" = "_fox_through_1"."tag_id" AND "tags"."name" <> ?) ON "_fox_through_1"."post_id" = "posts"."id" WHERE ("posts"."title" LIKE ? OR "tags"."name" = ?) GROUP BY "posts"."id" HAVING COUNT("tags"."id") > ?) "_fox_groups""#,
                4,
            ),
        ],
    );
    assert_renders(
        |b| query.exists_to_sql(b),
        [
            (
                r#"SELECT 1 AS "found" FROM "posts" LEFT JOIN ("post_tags" "_fox_through_1" INNER JOIN "tags" ON "tags"."id" = "_fox_through_1"."tag_id" AND "tags"."name" <> $1) ON "_fox_through_1"."post_id" = "posts"."id" WHERE ("posts"."title" LIKE $2 OR "tags"."name" = $3) GROUP BY "posts"."id" HAVING COUNT("tags"."id") > $4 LIMIT 1"#,
                4,
            ),
            (
                r"SELECT 1 AS `found` FROM `posts` LEFT JOIN (`post_tags` `_fox_through_1` INNER JOIN `tags` ON `tags`.`id` = `_fox_through_1`.`tag_id` AND `tags`.`name` <> ?) ON `_fox_through_1`.`post_id` = `posts`.`id` WHERE (`posts`.`title` LIKE ? OR `tags`.`name` = ?) GROUP BY `posts`.`id` HAVING COUNT(`tags`.`id`) > ? LIMIT 1",
                4,
            ),
            (
                r#"SELECT 1 AS "found" FROM "posts" LEFT JOIN ("post_tags" "_fox_through_1" INNER JOIN "tags" ON "tags"."id" = "_fox_through_1"."tag_id" AND "tags"."name" <> ?) ON "_fox_through_1"."post_id" = "posts"."id" WHERE ("posts"."title" LIKE ? OR "tags"."name" = ?) GROUP BY "posts"."id" HAVING COUNT("tags"."id") > ? LIMIT 1"#,
                4,
            ),
        ],
    );
}

#[test]
fn joining_a_table_twice_without_an_alias_is_refused() {
    let query = User::find().join(User::manager());
    assert_renders(
        |b| query.to_sql(b),
        [
            (
                r"error: postgresql does not support joining `users` twice under one name (join the second copy under an alias: `relation.aliased::<1>()`, its columns `Column::aliased::<1>()`)",
                0,
            ),
            (
                r"error: mysql does not support joining `users` twice under one name (join the second copy under an alias: `relation.aliased::<1>()`, its columns `Column::aliased::<1>()`)",
                0,
            ),
            (
                r"error: sqlite does not support joining `users` twice under one name (join the second copy under an alias: `relation.aliased::<1>()`, its columns `Column::aliased::<1>()`)",
                0,
            ),
        ],
    );
}

#[test]
fn inserts_of_one_and_many_rows() {
    let first = ada();
    let second = User {
        id: 8,
        name: "Bob".into(),
        ..ada()
    };
    assert_renders(
        |b| ok(insert_statement(b, &[&first])),
        [
            (
                r#"INSERT INTO "users" ("name", "manager_id", "role", "score") VALUES ($1, $2, CAST($3 AS "users_role_enum"), $4)"#,
                4,
            ),
            (
                r"INSERT INTO `users` (`name`, `manager_id`, `role`, `score`) VALUES (?, ?, ?, ?)",
                4,
            ),
            (
                r#"INSERT INTO "users" ("name", "manager_id", "role", "score") VALUES (?, ?, ?, ?)"#,
                4,
            ),
        ],
    );
    assert_renders(
        |b| ok(insert_statement(b, &[&first, &second])),
        [
            (
                r#"INSERT INTO "users" ("name", "manager_id", "role", "score") VALUES ($1, $2, CAST($3 AS "users_role_enum"), $4), ($5, $6, CAST($7 AS "users_role_enum"), $8)"#,
                8,
            ),
            (
                r"INSERT INTO `users` (`name`, `manager_id`, `role`, `score`) VALUES (?, ?, ?, ?), (?, ?, ?, ?)",
                8,
            ),
            (
                r#"INSERT INTO "users" ("name", "manager_id", "role", "score") VALUES (?, ?, ?, ?), (?, ?, ?, ?)"#,
                8,
            ),
        ],
    );
}

#[test]
fn upserts_replace_every_column_but_the_key() {
    assert_renders(
        |b| ok(upsert_statement(b, &ada())),
        [
            (
                r#"INSERT INTO "users" ("id", "name", "manager_id", "role", "score") VALUES ($1, $2, $3, CAST($4 AS "users_role_enum"), $5) ON CONFLICT ("id") DO UPDATE SET "name" = excluded."name", "manager_id" = excluded."manager_id", "role" = excluded."role", "score" = excluded."score""#,
                5,
            ),
            (
                r"INSERT INTO `users` (`id`, `name`, `manager_id`, `role`, `score`) VALUES (?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE `name` = VALUES(`name`), `manager_id` = VALUES(`manager_id`), `role` = VALUES(`role`), `score` = VALUES(`score`)",
                5,
            ),
            (
                r#"INSERT INTO "users" ("id", "name", "manager_id", "role", "score") VALUES (?, ?, ?, ?, ?) ON CONFLICT ("id") DO UPDATE SET "name" = excluded."name", "manager_id" = excluded."manager_id", "role" = excluded."role", "score" = excluded."score""#,
                5,
            ),
        ],
    );
    let link = PostTag {
        post_id: 1,
        tag_id: 2,
    };
    assert_renders(
        |b| ok(upsert_statement(b, &link)),
        [
            (
                r#"INSERT INTO "post_tags" ("post_id", "tag_id") VALUES ($1, $2) ON CONFLICT ("post_id", "tag_id") DO UPDATE SET "post_id" = excluded."post_id""#,
                2,
            ),
            (
                r"INSERT INTO `post_tags` (`post_id`, `tag_id`) VALUES (?, ?) ON DUPLICATE KEY UPDATE `post_id` = VALUES(`post_id`)",
                2,
            ),
            (
                r#"INSERT INTO "post_tags" ("post_id", "tag_id") VALUES (?, ?) ON CONFLICT ("post_id", "tag_id") DO UPDATE SET "post_id" = excluded."post_id""#,
                2,
            ),
        ],
    );
}

#[test]
fn an_upsert_leaves_a_generated_key_at_its_placeholder_to_the_database() {
    let new = User { id: 0, ..ada() };
    assert_renders(
        |b| ok(upsert_statement(b, &new)),
        [
            (
                r#"INSERT INTO "users" ("name", "manager_id", "role", "score") VALUES ($1, $2, CAST($3 AS "users_role_enum"), $4) ON CONFLICT ("id") DO UPDATE SET "name" = excluded."name", "manager_id" = excluded."manager_id", "role" = excluded."role", "score" = excluded."score""#,
                4,
            ),
            (
                r"INSERT INTO `users` (`name`, `manager_id`, `role`, `score`) VALUES (?, ?, ?, ?) ON DUPLICATE KEY UPDATE `name` = VALUES(`name`), `manager_id` = VALUES(`manager_id`), `role` = VALUES(`role`), `score` = VALUES(`score`)",
                4,
            ),
            (
                r#"INSERT INTO "users" ("name", "manager_id", "role", "score") VALUES (?, ?, ?, ?) ON CONFLICT ("id") DO UPDATE SET "name" = excluded."name", "manager_id" = excluded."manager_id", "role" = excluded."role", "score" = excluded."score""#,
                4,
            ),
        ],
    );
}

#[test]
fn updates_with_filters_nulls_and_returning() {
    let change = update::<User>()
        .set(User::NAME, "Ada")
        .set(User::ROLE, "guest")
        .set_null(User::MANAGER_ID)
        .filter(User::ID.eq(1));
    assert_renders(
        |b| change.to_sql(b),
        [
            (
                r#"UPDATE "users" SET "name" = $1, "role" = CAST($2 AS "users_role_enum"), "manager_id" = $3 WHERE "id" = $4"#,
                4,
            ),
            (
                r"UPDATE `users` SET `name` = ?, `role` = ?, `manager_id` = ? WHERE `id` = ?",
                4,
            ),
            (
                r#"UPDATE "users" SET "name" = ?, "role" = ?, "manager_id" = ? WHERE "id" = ?"#,
                4,
            ),
        ],
    );
    assert_renders(
        |b| change.returning_to_sql(b),
        [
            (
                r#"UPDATE "users" SET "name" = $1, "role" = CAST($2 AS "users_role_enum"), "manager_id" = $3 WHERE "id" = $4 RETURNING "id", "name", "manager_id", CAST("role" AS text) AS "role", "score""#,
                4,
            ),
            (
                r"error: mysql does not support returning rows from an UPDATE",
                0,
            ),
            (
                r#"UPDATE "users" SET "name" = ?, "role" = ?, "manager_id" = ? WHERE "id" = ? RETURNING "id", "name", "manager_id", "role", "score""#,
                4,
            ),
        ],
    );
    let every = update::<User>().set(User::SCORE, 0.0).all_rows();
    assert_renders(
        |b| every.to_sql(b),
        [
            (r#"UPDATE "users" SET "score" = $1"#, 1),
            (r"UPDATE `users` SET `score` = ?", 1),
            (r#"UPDATE "users" SET "score" = ?"#, 1),
        ],
    );
}

#[test]
fn unscoped_or_empty_updates_are_refused() {
    assert_renders(
        |b| update::<User>().set(User::SCORE, 0.0).to_sql(b),
        [
            (
                r"error: postgresql does not support an UPDATE of users without a filter (call .all_rows() to change every row)",
                0,
            ),
            (
                r"error: mysql does not support an UPDATE of users without a filter (call .all_rows() to change every row)",
                0,
            ),
            (
                r"error: sqlite does not support an UPDATE of users without a filter (call .all_rows() to change every row)",
                0,
            ),
        ],
    );
    assert_renders(
        |b| update::<User>().filter(User::ID.eq(1)).to_sql(b),
        [
            (
                r"error: postgresql does not support an UPDATE of users that sets no column (call .set())",
                0,
            ),
            (
                r"error: mysql does not support an UPDATE of users that sets no column (call .set())",
                0,
            ),
            (
                r"error: sqlite does not support an UPDATE of users that sets no column (call .set())",
                0,
            ),
        ],
    );
}

#[test]
fn deletes_with_filters_and_returning() {
    let removal = delete::<Post>().filter(Post::AUTHOR_ID.in_([1, 2]));
    assert_renders(
        |b| removal.to_sql(b),
        [
            (
                r#"DELETE FROM "posts" WHERE "author_id" = ANY(CAST($1 AS bigint[]))"#,
                1,
            ),
            (r"DELETE FROM `posts` WHERE `author_id` IN (?, ?)", 2),
            (r#"DELETE FROM "posts" WHERE "author_id" IN (?, ?)"#, 2),
        ],
    );
    assert_renders(
        |b| removal.returning_to_sql(b),
        [
            (
                r#"DELETE FROM "posts" WHERE "author_id" = ANY(CAST($1 AS bigint[])) RETURNING "id", "author_id", "title", "views""#,
                1,
            ),
            (
                r"error: mysql does not support returning rows from a DELETE",
                0,
            ),
            (
                r#"DELETE FROM "posts" WHERE "author_id" IN (?, ?) RETURNING "id", "author_id", "title", "views""#,
                2,
            ),
        ],
    );
    assert_renders(
        |b| delete::<Post>().all_rows().to_sql(b),
        [
            (r#"DELETE FROM "posts""#, 0),
            (r"DELETE FROM `posts`", 0),
            (r#"DELETE FROM "posts""#, 0),
        ],
    );
    assert_renders(
        |b| delete::<Post>().to_sql(b),
        [
            (
                r"error: postgresql does not support a DELETE from posts without a filter (call .all_rows() to delete every row)",
                0,
            ),
            (
                r"error: mysql does not support a DELETE from posts without a filter (call .all_rows() to delete every row)",
                0,
            ),
            (
                r"error: sqlite does not support a DELETE from posts without a filter (call .all_rows() to delete every row)",
                0,
            ),
        ],
    );
}

#[test]
fn selections_of_twelve_items_alias_each_by_position() {
    let query = Post::find().select((
        Post::ID,
        Post::AUTHOR_ID,
        Post::TITLE,
        Post::VIEWS,
        Post::ID,
        Post::AUTHOR_ID,
        Post::TITLE,
        Post::VIEWS,
        count::<Post>(),
        Post::VIEWS.sum(),
        Post::VIEWS.min(),
        Post::VIEWS.max(),
    ));
    assert_renders(
        |b| ok(query.to_sql(b)),
        [
            (
                r#"SELECT "id" AS "_fox_0", "author_id" AS "_fox_1", "title" AS "_fox_2", "views" AS "_fox_3", "id" AS "_fox_4", "author_id" AS "_fox_5", "title" AS "_fox_6", "views" AS "_fox_7", COUNT("id") AS "_fox_8", CAST(COALESCE(SUM("views"), 0) AS BIGINT) AS "_fox_9", MIN("views") AS "_fox_10", MAX("views") AS "_fox_11" FROM "posts""#,
                0,
            ),
            (
                r"SELECT `id` AS `_fox_0`, `author_id` AS `_fox_1`, `title` AS `_fox_2`, `views` AS `_fox_3`, `id` AS `_fox_4`, `author_id` AS `_fox_5`, `title` AS `_fox_6`, `views` AS `_fox_7`, COUNT(`id`) AS `_fox_8`, CAST(COALESCE(SUM(`views`), 0) AS SIGNED) AS `_fox_9`, MIN(`views`) AS `_fox_10`, MAX(`views`) AS `_fox_11` FROM `posts`",
                0,
            ),
            (
                r#"SELECT "id" AS "_fox_0", "author_id" AS "_fox_1", "title" AS "_fox_2", "views" AS "_fox_3", "id" AS "_fox_4", "author_id" AS "_fox_5", "title" AS "_fox_6", "views" AS "_fox_7", COUNT("id") AS "_fox_8", COALESCE(SUM("views"), 0) AS "_fox_9", MIN("views") AS "_fox_10", MAX("views") AS "_fox_11" FROM "posts""#,
                0,
            ),
        ],
    );
    let joined = Post::find().join(Post::author()).select((
        Post::ID,
        Post::TITLE,
        User::NAME,
        User::ROLE,
        Post::VIEWS,
        User::SCORE,
        User::MANAGER_ID,
        Post::AUTHOR_ID,
        User::ID,
        count::<Post>(),
        User::SCORE.avg(),
        Post::VIEWS.max(),
    ));
    assert_renders(
        |b| joined.to_sql(b),
        [
            (
                r#"SELECT "posts"."id" AS "_fox_0", "posts"."title" AS "_fox_1", "users"."name" AS "_fox_2", CAST("users"."role" AS text) AS "_fox_3", "posts"."views" AS "_fox_4", "users"."score" AS "_fox_5", "users"."manager_id" AS "_fox_6", "posts"."author_id" AS "_fox_7", "users"."id" AS "_fox_8", COUNT("posts"."id") AS "_fox_9", CAST(AVG("users"."score") AS DOUBLE PRECISION) AS "_fox_10", MAX("posts"."views") AS "_fox_11" FROM "posts" INNER JOIN "users" ON "users"."id" = "posts"."author_id""#,
                0,
            ),
            (
                r"SELECT `posts`.`id` AS `_fox_0`, `posts`.`title` AS `_fox_1`, `users`.`name` AS `_fox_2`, `users`.`role` AS `_fox_3`, `posts`.`views` AS `_fox_4`, `users`.`score` AS `_fox_5`, `users`.`manager_id` AS `_fox_6`, `posts`.`author_id` AS `_fox_7`, `users`.`id` AS `_fox_8`, COUNT(`posts`.`id`) AS `_fox_9`, CAST(AVG(`users`.`score`) AS DOUBLE) AS `_fox_10`, MAX(`posts`.`views`) AS `_fox_11` FROM `posts` INNER JOIN `users` ON `users`.`id` = `posts`.`author_id`",
                0,
            ),
            (
                r#"SELECT "posts"."id" AS "_fox_0", "posts"."title" AS "_fox_1", "users"."name" AS "_fox_2", "users"."role" AS "_fox_3", "posts"."views" AS "_fox_4", "users"."score" AS "_fox_5", "users"."manager_id" AS "_fox_6", "posts"."author_id" AS "_fox_7", "users"."id" AS "_fox_8", COUNT("posts"."id") AS "_fox_9", AVG("users"."score") AS "_fox_10", MAX("posts"."views") AS "_fox_11" FROM "posts" INNER JOIN "users" ON "users"."id" = "posts"."author_id""#,
                0,
            ),
        ],
    );
}

#[test]
fn a_query_in_a_schema_names_its_tables_through_it() {
    let query = User::find()
        .in_schema("acme")
        .filter(User::ROLE.eq("admin"))
        .filter(User::posts().exists())
        .order_by(User::ID.asc());
    assert_renders(
        |b| ok(query.to_sql(b)),
        [
            (
                r#"SELECT "id", "name", "manager_id", CAST("role" AS text) AS "role", "score" FROM "acme"."users" WHERE ("role" = CAST($1 AS "acme"."users_role_enum") AND EXISTS (SELECT 1 FROM "acme"."posts" "_fox_child" WHERE "_fox_child"."author_id" = "users"."id")) ORDER BY "users"."id" ASC"#,
                1,
            ),
            (
                r"SELECT `id`, `name`, `manager_id`, `role`, `score` FROM `acme`.`users` WHERE (`role` = ? AND EXISTS (SELECT 1 FROM `acme`.`posts` `_fox_child` WHERE `_fox_child`.`author_id` = `users`.`id`)) ORDER BY `users`.`id` ASC",
                1,
            ),
            (
                r#"SELECT "id", "name", "manager_id", "role", "score" FROM "acme"."users" WHERE ("role" = ? AND EXISTS (SELECT 1 FROM "acme"."posts" "_fox_child" WHERE "_fox_child"."author_id" = "users"."id")) ORDER BY "users"."id" ASC"#,
                1,
            ),
        ],
    );
    let count = User::find().in_schema("acme").filter(User::ID.gt(1));
    assert_renders(
        |b| ok(count.count_to_sql(b)),
        [
            (
                r#"SELECT COUNT(*) AS "count" FROM "acme"."users" WHERE "id" > $1"#,
                1,
            ),
            (
                r"SELECT COUNT(*) AS `count` FROM `acme`.`users` WHERE `id` > ?",
                1,
            ),
            (
                r#"SELECT COUNT(*) AS "count" FROM "acme"."users" WHERE "id" > ?"#,
                1,
            ),
        ],
    );
}

#[test]
fn a_many_to_many_filter_in_a_schema_joins_the_tables_there() {
    let query = Post::find()
        .in_schema("main")
        .filter(Post::tags().filter(Tag::NAME.eq("rust")).exists());
    assert_renders(
        |b| ok(query.to_sql(b)),
        [
            (
                r#"SELECT "id", "author_id", "title", "views" FROM "main"."posts" WHERE EXISTS (SELECT 1 FROM "main"."tags" "_fox_child" JOIN "main"."post_tags" "_fox_through" ON "_fox_through"."tag_id" = "_fox_child"."id" WHERE "_fox_through"."post_id" = "posts"."id" AND "_fox_child"."name" = $1)"#,
                1,
            ),
            (
                r"SELECT `id`, `author_id`, `title`, `views` FROM `main`.`posts` WHERE EXISTS (SELECT 1 FROM `main`.`tags` `_fox_child` JOIN `main`.`post_tags` `_fox_through` ON `_fox_through`.`tag_id` = `_fox_child`.`id` WHERE `_fox_through`.`post_id` = `posts`.`id` AND `_fox_child`.`name` = ?)",
                1,
            ),
            (
                r#"SELECT "id", "author_id", "title", "views" FROM "main"."posts" WHERE EXISTS (SELECT 1 FROM "main"."tags" "_fox_child" JOIN "main"."post_tags" "_fox_through" ON "_fox_through"."tag_id" = "_fox_child"."id" WHERE "_fox_through"."post_id" = "posts"."id" AND "_fox_child"."name" = ?)"#,
                1,
            ),
        ],
    );
}

#[test]
fn a_subquery_in_a_schema_keeps_its_own_schema() {
    let query = User::find().filter(
        User::ID.in_subquery(
            Post::find()
                .in_schema("archive")
                .filter(Post::TITLE.eq("x"))
                .select((Post::AUTHOR_ID,)),
        ),
    );
    assert_renders(
        |b| ok(query.to_sql(b)),
        [
            (
                r#"SELECT "id", "name", "manager_id", CAST("role" AS text) AS "role", "score" FROM "users" WHERE "id" IN (SELECT "_fox_sub"."author_id" FROM "archive"."posts" "_fox_sub" WHERE "_fox_sub"."title" = $1)"#,
                1,
            ),
            (
                r"SELECT `id`, `name`, `manager_id`, `role`, `score` FROM `users` WHERE `id` IN (SELECT `_fox_sub`.`author_id` FROM `archive`.`posts` `_fox_sub` WHERE `_fox_sub`.`title` = ?)",
                1,
            ),
            (
                r#"SELECT "id", "name", "manager_id", "role", "score" FROM "users" WHERE "id" IN (SELECT "_fox_sub"."author_id" FROM "archive"."posts" "_fox_sub" WHERE "_fox_sub"."title" = ?)"#,
                1,
            ),
        ],
    );
}

#[test]
fn writes_in_a_schema_name_the_table_through_it() {
    let user = ada();
    assert_renders(
        |b| ok(User::insert(&user).in_schema("acme").to_sql(b)),
        [
            (
                r#"INSERT INTO "acme"."users" ("name", "manager_id", "role", "score") VALUES ($1, $2, CAST($3 AS "acme"."users_role_enum"), $4)"#,
                4,
            ),
            (
                r"INSERT INTO `acme`.`users` (`name`, `manager_id`, `role`, `score`) VALUES (?, ?, ?, ?)",
                4,
            ),
            (
                r#"INSERT INTO "acme"."users" ("name", "manager_id", "role", "score") VALUES (?, ?, ?, ?)"#,
                4,
            ),
        ],
    );
    assert_renders(
        |b| ok(User::insert(&user).in_schema("acme").upsert_to_sql(b)),
        [
            (
                r#"INSERT INTO "acme"."users" ("id", "name", "manager_id", "role", "score") VALUES ($1, $2, $3, CAST($4 AS "acme"."users_role_enum"), $5) ON CONFLICT ("id") DO UPDATE SET "name" = excluded."name", "manager_id" = excluded."manager_id", "role" = excluded."role", "score" = excluded."score""#,
                5,
            ),
            (
                r"INSERT INTO `acme`.`users` (`id`, `name`, `manager_id`, `role`, `score`) VALUES (?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE `name` = VALUES(`name`), `manager_id` = VALUES(`manager_id`), `role` = VALUES(`role`), `score` = VALUES(`score`)",
                5,
            ),
            (
                r#"INSERT INTO "acme"."users" ("id", "name", "manager_id", "role", "score") VALUES (?, ?, ?, ?, ?) ON CONFLICT ("id") DO UPDATE SET "name" = excluded."name", "manager_id" = excluded."manager_id", "role" = excluded."role", "score" = excluded."score""#,
                5,
            ),
        ],
    );
    assert_renders(
        |b| {
            User::update()
                .in_schema("acme")
                .set(User::ROLE, "guest")
                .filter(User::ID.eq(7))
                .to_sql(b)
        },
        [
            (
                r#"UPDATE "acme"."users" SET "role" = CAST($1 AS "acme"."users_role_enum") WHERE "id" = $2"#,
                2,
            ),
            (r"UPDATE `acme`.`users` SET `role` = ? WHERE `id` = ?", 2),
            (r#"UPDATE "acme"."users" SET "role" = ? WHERE "id" = ?"#, 2),
        ],
    );
    assert_renders(
        |b| {
            User::delete()
                .in_schema("acme")
                .filter(User::ID.eq(7))
                .to_sql(b)
        },
        [
            (r#"DELETE FROM "acme"."users" WHERE "id" = $1"#, 1),
            (r"DELETE FROM `acme`.`users` WHERE `id` = ?", 1),
            (r#"DELETE FROM "acme"."users" WHERE "id" = ?"#, 1),
        ],
    );
}

#[test]
fn schema_names_are_quoted_like_any_identifier() {
    assert_renders(
        |b| ok(Tag::find().in_schema(r#"we"ird`s"#).to_sql(b)),
        [
            (r#"SELECT "id", "name" FROM "we""ird`s"."tags""#, 0),
            (r#"SELECT `id`, `name` FROM `we"ird``s`.`tags`"#, 0),
            (r#"SELECT "id", "name" FROM "we""ird`s"."tags""#, 0),
        ],
    );
}

#[test]
fn a_join_of_a_query_in_a_schema_is_refused_not_sent_unqualified() {
    let query = Post::find().in_schema("acme").join(Post::author());
    assert_renders(
        |b| query.to_sql(b),
        [
            (
                "error: postgresql does not support joins in a query of `posts` in schema `acme` (`.in_schema`): run the joined query on a connection whose current schema is `acme`",
                0,
            ),
            (
                "error: mysql does not support joins in a query of `posts` in schema `acme` (`.in_schema`): run the joined query on a connection whose current schema is `acme`",
                0,
            ),
            (
                "error: sqlite does not support joins in a query of `posts` in schema `acme` (`.in_schema`): run the joined query on a connection whose current schema is `acme`",
                0,
            ),
        ],
    );
}
