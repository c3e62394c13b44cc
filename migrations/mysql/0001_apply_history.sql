-- FoxDB bookkeeping 0001: history of schema applies and the holder of the apply lock.
CREATE TABLE IF NOT EXISTS `_fox_apply_history` (
  `id` bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `schema_name` varchar(253) NOT NULL,
  `plan_hash` varchar(64) NOT NULL,
  `status` varchar(20) NOT NULL,
  `statement_count` int NOT NULL,
  `completed_statements` int NOT NULL,
  `statements` longtext NOT NULL,
  `started_at` varchar(40) NOT NULL,
  `finished_at` varchar(40) NULL,
  `duration_ms` bigint NULL,
  `applied_by` varchar(255) NOT NULL,
  `fox_version` varchar(40) NOT NULL,
  `message` longtext NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE IF NOT EXISTS `_fox_lock_holder` (
  `lock_name` varchar(100) NOT NULL PRIMARY KEY,
  `holder` varchar(255) NOT NULL,
  `acquired_at` varchar(40) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
