//! `fox import prisma`: a Prisma schema of a blog (User, Profile, Post) becomes a FoxSchema
//! that `fox validate` accepts and `fox apply` makes on an empty database of every engine, and
//! that plans in sync with the database `prisma migrate` itself creates for it (its SQL
//! written out here, as Prisma cannot be downloaded), except for what is listed.

use std::path::Path;

use fox_e2e::{Backend, TestDatabase};

use super::support::{execute, fox, text};

/// The blog's Prisma schema with the datasource `provider`.
fn blog_schema(provider: &str) -> String {
    format!(
        r#"// The blog of FoxDB's examples, as a Prisma project would write it.
datasource db {{
  provider = "{provider}"
  url      = env("DATABASE_URL")
}}

generator client {{
  provider = "prisma-client-js"
}}

model User {{
  id        Int      @id @default(autoincrement())
  email     String   @unique @db.VarChar(255)
  name      String?  @db.VarChar(100)
  role      Role     @default(USER)
  createdAt DateTime @default(now()) @map("created_at")
  posts     Post[]
  profile   Profile?

  @@map("users")
}}

model Profile {{
  id     Int     @id @default(autoincrement())
  bio    String?
  userId Int     @unique @map("user_id")
  user   User    @relation(fields: [userId], references: [id], onDelete: Cascade)

  @@map("profiles")
}}

model Post {{
  id        Int      @id @default(autoincrement())
  title     String   @db.VarChar(200)
  content   String?
  published Boolean  @default(false)
  authorId  Int      @map("author_id")
  author    User     @relation(fields: [authorId], references: [id])
  updatedAt DateTime @updatedAt @map("updated_at")

  @@index([authorId])
  @@map("posts")
}}

enum Role {{
  USER
  ADMIN
}}
"#
    )
}

fn provider(engine: Backend) -> &'static str {
    match engine {
        Backend::Postgres => "postgresql",
        Backend::MySql => "mysql",
        Backend::Sqlite => "sqlite",
    }
}

/// `fox import prisma` of the blog for `engine` into `folder/schema.yaml`; returns its text.
fn import_blog(engine: Backend, folder: &Path) -> String {
    let prisma = folder.join("schema.prisma");
    std::fs::write(&prisma, blog_schema(provider(engine))).expect("written");
    let output = folder.join("schema.yaml");
    let imported = fox(&[
        "import",
        "prisma",
        prisma.to_str().expect("utf-8"),
        "-o",
        output.to_str().expect("utf-8"),
        "--name",
        "blog",
    ]);
    assert_eq!(
        imported.status.code(),
        Some(0),
        "{}",
        text(&imported.stderr)
    );
    let yaml = std::fs::read_to_string(&output).expect("written");
    let validated = fox(&["validate", "-f", output.to_str().expect("utf-8")]);
    assert_eq!(
        validated.status.code(),
        Some(0),
        "{engine}: {}{}\n{yaml}",
        text(&validated.stdout),
        text(&validated.stderr)
    );
    yaml
}

fn plan(database: &TestDatabase, file: &Path) -> (Option<i32>, String) {
    let planned = fox(&[
        "plan",
        "-f",
        file.to_str().expect("utf-8"),
        "--database",
        database.url(),
        "--detailed-exitcode",
    ]);
    (
        planned.status.code(),
        format!("{}{}", text(&planned.stdout), text(&planned.stderr)),
    )
}

#[tokio::test]
async fn an_imported_prisma_blog_applies_on_an_empty_database_and_plans_in_sync() {
    for engine in Backend::ALL {
        let folder = tempfile::tempdir().expect("temp dir");
        let yaml = import_blog(engine, folder.path());
        // Prisma's database names (`@@map`, `@map`); its constraint names are FoxDB's
        // conventional ones (`users_email_key`, `posts_author_id_idx`), so none is written; its
        // default actions for a required relation; a word on what is not declared.
        assert!(yaml.contains("- name: users\n"), "{yaml}");
        assert!(
            yaml.contains("{name: email, type: varchar(255), unique: true}"),
            "{yaml}"
        );
        // (MySQL reports `restrict` as its default action, so it is left out there.)
        assert!(
            yaml.contains("{name: author_id, type: integer, references: {table: users, ")
                && yaml.contains("onUpdate: cascade}}"),
            "{yaml}"
        );
        assert!(yaml.contains("onDelete: cascade"), "{yaml}");
        assert!(
            yaml.contains("Post.updatedAt: @updatedAt is set by Prisma Client"),
            "{yaml}"
        );
        let database = TestDatabase::create(engine).await;
        let file = folder.path().join("schema.yaml");
        let applied = fox(&[
            "apply",
            "-f",
            file.to_str().expect("utf-8"),
            "--database",
            database.url(),
        ]);
        assert_eq!(
            applied.status.code(),
            Some(0),
            "{engine}: {}{}\n{yaml}",
            text(&applied.stdout),
            text(&applied.stderr)
        );
        let (code, output) = plan(&database, &file);
        assert_eq!(code, Some(0), "{engine}: {output}\n{yaml}");
    }
}

/// What `prisma migrate dev` writes for the blog on PostgreSQL (its `migration.sql`).
const PRISMA_POSTGRES_SQL: &[&str] = &[
    r#"CREATE TYPE "Role" AS ENUM ('USER', 'ADMIN')"#,
    r#"CREATE TABLE "users" ("id" SERIAL NOT NULL, "email" VARCHAR(255) NOT NULL, "name" VARCHAR(100), "role" "Role" NOT NULL DEFAULT 'USER', "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP, CONSTRAINT "users_pkey" PRIMARY KEY ("id"))"#,
    r#"CREATE TABLE "profiles" ("id" SERIAL NOT NULL, "bio" TEXT, "user_id" INTEGER NOT NULL, CONSTRAINT "profiles_pkey" PRIMARY KEY ("id"))"#,
    r#"CREATE TABLE "posts" ("id" SERIAL NOT NULL, "title" VARCHAR(200) NOT NULL, "content" TEXT, "published" BOOLEAN NOT NULL DEFAULT false, "author_id" INTEGER NOT NULL, "updated_at" TIMESTAMP(3) NOT NULL, CONSTRAINT "posts_pkey" PRIMARY KEY ("id"))"#,
    r#"CREATE UNIQUE INDEX "users_email_key" ON "users"("email")"#,
    r#"CREATE UNIQUE INDEX "profiles_user_id_key" ON "profiles"("user_id")"#,
    r#"CREATE INDEX "posts_author_id_idx" ON "posts"("author_id")"#,
    r#"ALTER TABLE "profiles" ADD CONSTRAINT "profiles_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE"#,
    r#"ALTER TABLE "posts" ADD CONSTRAINT "posts_author_id_fkey" FOREIGN KEY ("author_id") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE CASCADE"#,
];

#[tokio::test]
async fn an_imported_prisma_blog_plans_against_the_database_prisma_created() {
    let folder = tempfile::tempdir().expect("temp dir");
    let yaml = import_blog(Backend::Postgres, folder.path());
    let database = TestDatabase::create(Backend::Postgres).await;
    for statement in PRISMA_POSTGRES_SQL {
        execute(&database, statement).await;
    }
    let (code, output) = plan(&database, &folder.path().join("schema.yaml"));
    assert_eq!(code, Some(0), "{output}\n{yaml}");
}

#[test]
fn a_prisma_syntax_error_names_the_file_line_and_column() {
    let folder = tempfile::tempdir().expect("temp dir");
    let prisma = folder.path().join("schema.prisma");
    std::fs::write(
        &prisma,
        "datasource db {\n  provider = \"sqlite\"\n}\nmodel User {\n  id Int @id @default(\n}\n",
    )
    .expect("written");
    let imported = fox(&["import", "prisma", prisma.to_str().expect("utf-8")]);
    assert_eq!(imported.status.code(), Some(1));
    let stderr = text(&imported.stderr);
    assert!(
        stderr.contains("schema.prisma:6:1: expected a value"),
        "{stderr}"
    );
}
