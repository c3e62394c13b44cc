//! `FoxReplicaSet::validate`.

use std::collections::HashMap;

use crate::replica_set::{Engine, FoxReplicaSet, ReadPreference};
use crate::validation::{Problems, ValidationError, dns_label_problem};

impl FoxReplicaSet {
    /// Checks member names, Secret references, pool bounds and engine-specific limits.
    ///
    /// # Errors
    /// Every problem found, each with its field path.
    pub fn validate(&self) -> Result<(), ValidationError> {
        let mut problems = Problems::default();
        if let Some(name) = self.metadata.name.as_deref() {
            if let Some(problem) = dns_label_problem(name) {
                problems.add("metadata.name", problem);
            } else if name.len() > 60 || !name.starts_with(|c: char| c.is_ascii_lowercase()) {
                problems.add(
                    "metadata.name",
                    format!(
                        "\"{name}\" must start with a letter and have at most 60 characters: the operator publishes the Services {name}-rw and {name}-ro"
                    ),
                );
            }
        }
        let spec = &self.spec;
        let members = std::iter::once(("spec.primary".to_string(), &spec.primary)).chain(
            spec.replicas
                .iter()
                .enumerate()
                .map(|(i, m)| (format!("spec.replicas[{i}]"), m)),
        );
        let mut seen: HashMap<String, String> = HashMap::new();
        for (path, member) in members {
            if let Some(problem) = dns_label_problem(&member.name) {
                problems.add(format!("{path}.name"), problem);
            }
            if let Some(first) = seen.insert(member.name.clone(), path.clone()) {
                problems.add(
                    format!("{path}.name"),
                    format!("duplicate member name \"{}\" (also {first})", member.name),
                );
            }
            if let Some(problem) = dns_label_problem(&member.connection.name) {
                problems.add(format!("{path}.connection.name"), problem);
            }
            if member.connection.key.is_empty() {
                problems.add(format!("{path}.connection.key"), "key must not be empty");
            }
        }
        if let Some(transactions) = &spec.transactions {
            match spec.engine {
                Engine::Postgresql | Engine::Mysql | Engine::Mariadb => {}
                Engine::Sqlite | Engine::Mongodb => problems.add(
                    "spec.transactions",
                    format!(
                        "{} cannot take part in distributed transactions (it cannot prepare a transaction); remove spec.transactions",
                        spec.engine
                    ),
                ),
            }
            let log = &transactions.coordinator_log;
            if let Some(problem) = dns_label_problem(&log.name) {
                problems.add("spec.transactions.coordinatorLog.name", problem);
            }
            if log.key.is_empty() {
                problems.add(
                    "spec.transactions.coordinatorLog.key",
                    "key must not be empty",
                );
            }
        }
        if spec.engine == Engine::Sqlite && !spec.replicas.is_empty() {
            problems.add(
                "spec.replicas",
                "sqlite is a single file and has no replicas; remove them or use another engine",
            );
        }
        if spec.replicas.is_empty() && spec.routing.read_preference == ReadPreference::Replica {
            problems.add(
                "spec.routing.readPreference",
                "readPreference replica needs at least one replica",
            );
        }
        if spec.pool.min_connections > spec.pool.max_connections {
            problems.add(
                "spec.pool.minConnections",
                format!(
                    "minConnections ({}) is greater than maxConnections ({})",
                    spec.pool.min_connections, spec.pool.max_connections
                ),
            );
        }
        if let Some(cache) = &spec.cache {
            if let Some(problem) = dns_label_problem(&cache.redis.name) {
                problems.add("spec.cache.redis.name", problem);
            }
            if cache.redis.key.is_empty() {
                problems.add("spec.cache.redis.key", "key must not be empty");
            }
            match spec.engine {
                Engine::Postgresql | Engine::Mysql | Engine::Mariadb | Engine::Sqlite => {}
                Engine::Mongodb => problems.add(
                    "spec.cache",
                    "the query cache serves SQL engines (foxdb caches SQL results); remove spec.cache",
                ),
            }
            if let Some(prefix) = &cache.key_prefix
                && prefix.chars().any(|c| c.is_whitespace() || c.is_control())
            {
                problems.add(
                    "spec.cache.keyPrefix",
                    format!("{prefix:?} holds white space or control characters; use letters, digits and `:-_.`"),
                );
            }
        }
        problems.into_result()
    }
}
