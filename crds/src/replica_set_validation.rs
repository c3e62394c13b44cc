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

#[cfg(all(test, feature = "kubernetes"))]
mod tests {
    use crate::references::SecretKeyRef;
    use crate::replica_set::{CacheSpec, Engine, FoxReplicaSet, FoxReplicaSetSpec, MemberSpec};

    fn with_cache(engine: Engine, prefix: Option<&str>) -> FoxReplicaSet {
        FoxReplicaSet::new(
            "orders",
            FoxReplicaSetSpec {
                engine,
                primary: MemberSpec {
                    name: "primary".into(),
                    connection: SecretKeyRef {
                        name: "orders-primary".into(),
                        key: "url".into(),
                    },
                    weight: 100,
                },
                cache: Some(CacheSpec {
                    redis: SecretKeyRef {
                        name: "orders-redis".into(),
                        key: "url".into(),
                    },
                    default_ttl_seconds: 60,
                    key_prefix: prefix.map(str::to_string),
                }),
                ..FoxReplicaSetSpec::default()
            },
        )
    }

    #[test]
    fn a_cache_is_accepted_on_sql_engines_and_refused_on_mongodb() {
        for engine in [
            Engine::Postgresql,
            Engine::Mysql,
            Engine::Mariadb,
            Engine::Sqlite,
        ] {
            assert!(
                with_cache(engine, Some("orders:")).validate().is_ok(),
                "{engine}"
            );
        }
        let error = with_cache(Engine::Mongodb, None)
            .validate()
            .expect_err("mongodb")
            .to_string();
        assert!(error.contains("spec.cache"), "{error}");
        let error = with_cache(Engine::Postgresql, Some("a b"))
            .validate()
            .expect_err("white space")
            .to_string();
        assert!(error.contains("spec.cache.keyPrefix"), "{error}");
    }
}
