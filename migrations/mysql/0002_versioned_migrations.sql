-- FoxDB bookkeeping 0002: versioned migrations (state per version, and a log of every run).
CREATE TABLE IF NOT EXISTS `_fox_migrations` (
  `version` bigint NOT NULL PRIMARY KEY,
  `name` varchar(255) NOT NULL,
  `checksum` varchar(64) NOT NULL,
  `status` varchar(20) NOT NULL,
  `statement_count` int NOT NULL,
  `completed_statements` int NOT NULL,
  `failed_statement` longtext NULL,
  `message` longtext NULL,
  `applied_at` varchar(40) NOT NULL,
  `duration_ms` bigint NULL,
  `applied_by` varchar(255) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE IF NOT EXISTS `_fox_migration_log` (
  `id` bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `version` bigint NOT NULL,
  `name` varchar(255) NOT NULL,
  `direction` varchar(10) NOT NULL,
  `status` varchar(20) NOT NULL,
  `checksum` varchar(64) NOT NULL,
  `at` varchar(40) NOT NULL,
  `duration_ms` bigint NULL,
  `applied_by` varchar(255) NOT NULL,
  `message` longtext NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
