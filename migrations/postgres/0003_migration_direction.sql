-- FoxDB bookkeeping 0003: which step (up or down) a dirty version stopped in.
ALTER TABLE "_fox_migrations" ADD COLUMN IF NOT EXISTS "direction" varchar(10) NOT NULL DEFAULT 'up';
