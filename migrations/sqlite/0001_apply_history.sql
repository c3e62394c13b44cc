-- FoxDB bookkeeping 0001: history of schema applies.
CREATE TABLE IF NOT EXISTS "_fox_apply_history" (
  "id" INTEGER PRIMARY KEY AUTOINCREMENT,
  "schema_name" TEXT NOT NULL,
  "plan_hash" TEXT NOT NULL,
  "status" TEXT NOT NULL,
  "statement_count" INTEGER NOT NULL,
  "completed_statements" INTEGER NOT NULL,
  "statements" TEXT NOT NULL,
  "started_at" TEXT NOT NULL,
  "finished_at" TEXT,
  "duration_ms" INTEGER,
  "applied_by" TEXT NOT NULL,
  "fox_version" TEXT NOT NULL,
  "message" TEXT
);
