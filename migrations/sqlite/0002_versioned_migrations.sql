-- FoxDB bookkeeping 0002: versioned migrations (state per version, and a log of every run).
CREATE TABLE IF NOT EXISTS "_fox_migrations" (
  "version" INTEGER PRIMARY KEY,
  "name" TEXT NOT NULL,
  "checksum" TEXT NOT NULL,
  "status" TEXT NOT NULL,
  "statement_count" INTEGER NOT NULL,
  "completed_statements" INTEGER NOT NULL,
  "failed_statement" TEXT,
  "message" TEXT,
  "applied_at" TEXT NOT NULL,
  "duration_ms" INTEGER,
  "applied_by" TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS "_fox_migration_log" (
  "id" INTEGER PRIMARY KEY AUTOINCREMENT,
  "version" INTEGER NOT NULL,
  "name" TEXT NOT NULL,
  "direction" TEXT NOT NULL,
  "status" TEXT NOT NULL,
  "checksum" TEXT NOT NULL,
  "at" TEXT NOT NULL,
  "duration_ms" INTEGER,
  "applied_by" TEXT NOT NULL,
  "message" TEXT
);
