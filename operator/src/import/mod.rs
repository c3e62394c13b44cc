//! Reading what other tools wrote: a Prisma schema as the tables Prisma Migrate creates
//! (`fox import prisma`), and the migration folders of golang-migrate, sqlx, Prisma Migrate,
//! Diesel and Flyway as FoxMigrations (`fox import migrations`).

pub mod migration_folders;
pub mod prisma_schema;
pub mod prisma_tables;
