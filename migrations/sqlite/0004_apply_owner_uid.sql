-- FoxDB bookkeeping 0004: the uid of the FoxSchema that applied (NULL from the CLI without one).
ALTER TABLE "_fox_apply_history" ADD COLUMN "owner_uid" varchar(64);
