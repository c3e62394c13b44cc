-- FoxDB bookkeeping 0003: which step (up or down) a dirty version stopped in.
ALTER TABLE "_fox_migrations" ADD COLUMN "direction" varchar(10) NOT NULL DEFAULT 'up';
