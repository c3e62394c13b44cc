//! The Helm chart grants the operator exactly the permissions in `controller::rbac`, no more and
//! no fewer (and its README lists those), runs it locked down, and passes it arguments that
//! `fox run` accepts.
//!
//! The chart is rendered offline, with default values, with `e2e/chart/values-full.yaml` (which
//! sets `watchNamespace` and turns the ServiceMonitor on) and with `e2e/chart/values-single.yaml`
//! (no leader election, no RBAC, an existing ServiceAccount), by
//! `bash e2e/chart/check.sh --render-only DIR`: Helm's own template engine, through the PyPI
//! package helm-python-sdk, in a venv the script makes once. Release `fox-operator` in namespace
//! `fox-system`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use clap::Parser;
use fox_operator::cli::{Cli, Command as FoxCommand};
use fox_operator::commands::run::RunArgs;
use fox_operator::controller::rbac::{
    CLUSTER_PERMISSIONS, LEASE_PERMISSIONS, SECRET_PERMISSIONS,
    cluster_permissions_without_secrets, policy_rules,
};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Container, PodSpec, Service};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding, Subject};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

const RELEASE_NAMESPACE: &str = "fox-system";
/// `watchNamespace` in values-full.yaml.
const FULL_WATCH_NAMESPACE: &str = "apps";

/// The rendered manifests of one values set.
struct Rendered {
    label: &'static str,
    manifests: Vec<Value>,
}

impl Rendered {
    fn of_kind(&self, kind: &str) -> Vec<&Value> {
        self.manifests
            .iter()
            .filter(|m| m["kind"].as_str() == Some(kind))
            .collect()
    }

    /// The only object of `kind`, typed.
    fn single<T: DeserializeOwned>(&self, kind: &str) -> T {
        let found = self.of_kind(kind);
        assert_eq!(
            found.len(),
            1,
            "{}: expected exactly one {kind}, found {}",
            self.label,
            found.len()
        );
        typed(found[0])
    }

    /// The object of `kind` called `name`, typed.
    fn named<T: DeserializeOwned>(&self, kind: &str, name: &str) -> T {
        let found = self
            .of_kind(kind)
            .into_iter()
            .find(|m| m["metadata"]["name"].as_str() == Some(name))
            .unwrap_or_else(|| panic!("{}: no {kind} named {name}", self.label));
        typed(found)
    }

    /// The operator's Deployment (the chart may also render the gateway's).
    fn operator_deployment(&self) -> Deployment {
        let found: Vec<&Value> = self
            .of_kind("Deployment")
            .into_iter()
            .filter(|m| {
                m["metadata"]["labels"]["app.kubernetes.io/component"].as_str() != Some("gateway")
            })
            .collect();
        assert_eq!(found.len(), 1, "{}: one operator Deployment", self.label);
        typed(found[0])
    }

    /// The operator's metrics Service (the chart may also render the gateway's).
    fn metrics_service(&self) -> Service {
        let found: Vec<&Value> = self
            .of_kind("Service")
            .into_iter()
            .filter(|m| {
                m["metadata"]["labels"]["app.kubernetes.io/component"].as_str() != Some("gateway")
            })
            .collect();
        assert_eq!(found.len(), 1, "{}: one metrics Service", self.label);
        typed(found[0])
    }

    fn service_account_name(&self) -> String {
        let deployment: Deployment = self.operator_deployment();
        pod_spec(&deployment)
            .service_account_name
            .clone()
            .expect("the Deployment names its ServiceAccount")
    }

    fn operator_container(&self) -> Container {
        let deployment: Deployment = self.operator_deployment();
        let containers = &pod_spec(&deployment).containers;
        assert_eq!(containers.len(), 1, "{}: one container", self.label);
        containers[0].clone()
    }
}

fn typed<T: DeserializeOwned>(manifest: &Value) -> T {
    serde_json::from_value(manifest.clone()).unwrap_or_else(|error| {
        panic!(
            "rendered {} does not parse as its Kubernetes type: {error}",
            manifest["kind"]
        )
    })
}

fn pod_spec(deployment: &Deployment) -> &PodSpec {
    deployment
        .spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref())
        .expect("the Deployment has a pod spec")
}

fn repository_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("operator/ has a parent")
        .to_path_buf()
}

/// Renders the three values sets once for all tests (the script serialises venv set-up itself).
fn rendered() -> &'static [Rendered; 4] {
    static RENDERED: OnceLock<[Rendered; 4]> = OnceLock::new();
    RENDERED.get_or_init(|| {
        let output_dir = tempfile::tempdir().expect("a temporary directory");
        let output = Command::new("bash")
            .arg("e2e/chart/check.sh")
            .arg("--render-only")
            .arg(output_dir.path())
            .current_dir(repository_root())
            .output()
            .expect("bash runs e2e/chart/check.sh");
        assert!(
            output.status.success(),
            "e2e/chart/check.sh --render-only failed (it needs python3 and PyPI once, to make its venv):\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        let read = |label: &'static str, file: &str| Rendered {
            label,
            manifests: parse_documents(
                &std::fs::read_to_string(output_dir.path().join(file))
                    .unwrap_or_else(|e| panic!("the render wrote {file}: {e}")),
            ),
        };
        [
            read("default values", "default.yaml"),
            read("values-full.yaml", "full.yaml"),
            read("values-single.yaml", "single.yaml"),
            read("values-openshift.yaml", "openshift.yaml"),
        ]
    })
}

fn parse_documents(stream: &str) -> Vec<Value> {
    serde_yaml_ng::Deserializer::from_str(stream)
        .map(|document| Value::deserialize(document).expect("the render is valid YAML"))
        .filter(|document| !document.is_null())
        .collect()
}

fn default_values() -> &'static Rendered {
    &rendered()[0]
}

fn full_values() -> &'static Rendered {
    &rendered()[1]
}

/// One pod, no leader election, no RBAC and no ServiceAccount from the chart.
fn single_values() -> &'static Rendered {
    &rendered()[2]
}

/// OpenShift's restricted-v2: no fixed user, Secrets in opted-in namespaces, no CRDs, by digest.
fn openshift_values() -> &'static Rendered {
    &rendered()[3]
}

fn every_values_set() -> &'static [Rendered; 4] {
    rendered()
}

fn expected_subject(rendered: &Rendered) -> Vec<Subject> {
    vec![Subject {
        kind: "ServiceAccount".into(),
        name: rendered.service_account_name(),
        namespace: Some(RELEASE_NAMESPACE.into()),
        api_group: None,
    }]
}

/// The container's arguments as `fox` itself parses them.
fn parsed_run_args(rendered: &Rendered) -> RunArgs {
    let container = rendered.operator_container();
    let mut command_line = vec!["fox".to_string()];
    command_line.extend(container.args.unwrap_or_default());
    let cli = Cli::try_parse_from(&command_line).unwrap_or_else(|error| {
        panic!(
            "{}: fox does not accept the chart's arguments {command_line:?}:\n{error}",
            rendered.label
        )
    });
    match cli.command {
        FoxCommand::Run(run) => run,
        other => panic!(
            "{}: the chart runs {other:?}, not `fox run`",
            rendered.label
        ),
    }
}

#[test]
fn cluster_role_grants_exactly_the_cluster_permissions_in_order() {
    let rendered = default_values();
    let role: ClusterRole = rendered.named("ClusterRole", "fox-operator");
    assert_eq!(role.rules, Some(policy_rules(CLUSTER_PERMISSIONS)));

    let binding: ClusterRoleBinding = rendered.single("ClusterRoleBinding");
    assert_eq!(binding.role_ref.kind, "ClusterRole");
    assert_eq!(Some(binding.role_ref.name), role.metadata.name);
    assert_eq!(binding.subjects, Some(expected_subject(rendered)));
}

#[test]
fn lease_role_grants_exactly_the_lease_permissions_in_the_release_namespace() {
    for rendered in [default_values(), full_values()] {
        let lease_roles: Vec<Role> = rendered
            .of_kind("Role")
            .into_iter()
            .map(typed::<Role>)
            .filter(|role| role.metadata.namespace.as_deref() == Some(RELEASE_NAMESPACE))
            .collect();
        assert_eq!(
            lease_roles.len(),
            1,
            "{}: one Role in the release namespace",
            rendered.label
        );
        let role = &lease_roles[0];
        let role_name = role.metadata.name.clone().expect("the Role has a name");
        assert!(role_name.ends_with("-leader-election"), "{role_name}");
        assert_eq!(
            role.rules,
            Some(policy_rules(LEASE_PERMISSIONS)),
            "{}",
            rendered.label
        );

        let binding: RoleBinding = rendered.named("RoleBinding", &role_name);
        assert_eq!(
            binding.metadata.namespace.as_deref(),
            Some(RELEASE_NAMESPACE)
        );
        assert_eq!(binding.role_ref.kind, "Role");
        assert_eq!(binding.role_ref.name, role_name);
        assert_eq!(binding.subjects, Some(expected_subject(rendered)));
    }
}

#[test]
fn watch_namespace_grants_the_cluster_permissions_in_that_namespace_only() {
    let rendered = full_values();
    assert!(
        rendered.of_kind("ClusterRole").iter().all(|r| {
            r["metadata"]["labels"]["rbac.authorization.k8s.io/aggregate-to-edit"].is_string()
        }),
        "only the aggregated user roles are cluster-wide"
    );
    assert!(rendered.of_kind("ClusterRoleBinding").is_empty());

    let watch_roles: Vec<Role> = rendered
        .of_kind("Role")
        .into_iter()
        .map(typed::<Role>)
        .filter(|role| role.metadata.namespace.as_deref() == Some(FULL_WATCH_NAMESPACE))
        .collect();
    assert_eq!(watch_roles.len(), 1, "one Role in the watched namespace");
    assert_eq!(
        watch_roles[0].rules,
        Some(policy_rules(CLUSTER_PERMISSIONS))
    );

    let role_name = watch_roles[0]
        .metadata
        .name
        .clone()
        .expect("the Role has a name");
    let binding: RoleBinding = rendered.named("RoleBinding", &role_name);
    assert_eq!(
        binding.metadata.namespace.as_deref(),
        Some(FULL_WATCH_NAMESPACE)
    );
    assert_eq!(binding.role_ref.kind, "Role");
    assert_eq!(binding.subjects, Some(expected_subject(rendered)));
}

#[test]
fn no_rule_uses_a_wildcard() {
    for rendered in every_values_set() {
        for manifest in rendered
            .of_kind("ClusterRole")
            .into_iter()
            .chain(rendered.of_kind("Role"))
        {
            for rule in manifest["rules"].as_array().into_iter().flatten() {
                for field in [
                    "apiGroups",
                    "resources",
                    "verbs",
                    "resourceNames",
                    "nonResourceURLs",
                ] {
                    for entry in rule[field].as_array().into_iter().flatten() {
                        assert!(
                            !entry.as_str().unwrap_or_default().contains('*'),
                            "{}: {} {} has a wildcard in {field}: {rule}",
                            rendered.label,
                            manifest["kind"],
                            manifest["metadata"]["name"]
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn operator_container_runs_as_non_root_on_a_read_only_filesystem() {
    for rendered in every_values_set() {
        let deployment: Deployment = rendered.operator_deployment();
        let pod_security = pod_spec(&deployment)
            .security_context
            .clone()
            .expect("a pod securityContext");
        assert_eq!(pod_security.run_as_non_root, Some(true));

        let container = rendered.operator_container();
        let security = container
            .security_context
            .expect("a container securityContext");
        assert_eq!(security.run_as_non_root, Some(true), "{}", rendered.label);
        if rendered.label == "values-openshift.yaml" {
            // restricted-v2 assigns the user from the namespace's range.
            assert_eq!(security.run_as_user, None);
            assert_eq!(security.run_as_group, None);
            assert_eq!(pod_security.run_as_user, None);
        } else {
            assert_eq!(security.run_as_user, Some(65532));
        }
        assert_eq!(security.read_only_root_filesystem, Some(true));
        assert_eq!(security.allow_privilege_escalation, Some(false));
        assert_eq!(security.privileged, None);
        assert_eq!(
            security.capabilities.and_then(|c| c.drop),
            Some(vec!["ALL".to_string()])
        );
        assert_eq!(
            security.seccomp_profile.map(|p| p.type_),
            Some("RuntimeDefault".to_string())
        );
        let writable: Vec<_> = container
            .volume_mounts
            .iter()
            .flatten()
            .map(|m| m.mount_path.as_str())
            .collect();
        assert_eq!(writable, ["/tmp"], "only /tmp is writable");
    }
}

#[test]
fn probes_ask_healthz_and_readyz_on_the_metrics_port() {
    for rendered in every_values_set() {
        let container = rendered.operator_container();
        let metrics_port = container
            .ports
            .iter()
            .flatten()
            .find(|p| p.name.as_deref() == Some("metrics"))
            .expect("a container port named metrics")
            .container_port;
        let served_port = parsed_run_args(rendered).metrics_addr.port();
        assert_eq!(
            i32::from(served_port),
            metrics_port,
            "{}: fox serves on --metrics-addr, the probes ask the `metrics` port",
            rendered.label
        );

        for (probe, path) in [
            (container.liveness_probe.as_ref(), "/healthz"),
            (container.readiness_probe.as_ref(), "/readyz"),
        ] {
            let http = probe
                .and_then(|p| p.http_get.as_ref())
                .unwrap_or_else(|| panic!("{}: an HTTP probe on {path}", rendered.label));
            assert_eq!(http.path.as_deref(), Some(path));
            assert_eq!(http.port, IntOrString::String("metrics".into()));
        }
    }
}

#[test]
fn pod_name_and_namespace_come_from_the_downward_api() {
    for container in every_values_set().iter().map(Rendered::operator_container) {
        for (variable, field) in [
            ("POD_NAME", "metadata.name"),
            ("POD_NAMESPACE", "metadata.namespace"),
        ] {
            let from = container
                .env
                .iter()
                .flatten()
                .find(|e| e.name == variable)
                .and_then(|e| e.value_from.as_ref())
                .and_then(|v| v.field_ref.as_ref())
                .map(|f| f.field_path.as_str());
            assert_eq!(from, Some(field), "{variable} from the downward API");
        }
    }
}

#[test]
fn service_monitor_scrapes_the_metrics_port_of_the_metrics_service() {
    assert!(default_values().of_kind("ServiceMonitor").is_empty());

    let rendered = full_values();
    let service: Service = rendered.metrics_service();
    let service_spec = service.spec.expect("a Service spec");
    let port = &service_spec.ports.expect("Service ports")[0];
    assert_eq!(port.name.as_deref(), Some("metrics"));

    let monitors = rendered.of_kind("ServiceMonitor");
    assert_eq!(monitors.len(), 1);
    let monitor = monitors[0];
    let service_labels = service.metadata.labels.unwrap_or_default();
    let selected = monitor["spec"]["selector"]["matchLabels"]
        .as_object()
        .expect("the ServiceMonitor selects by labels");
    for (key, value) in selected {
        assert_eq!(
            service_labels.get(key).map(String::as_str),
            value.as_str(),
            "the ServiceMonitor's selector label {key} is not on the metrics Service"
        );
    }
    assert_eq!(monitor["spec"]["endpoints"][0]["port"], "metrics");
    assert_eq!(monitor["spec"]["endpoints"][0]["path"], "/metrics");
    assert_eq!(monitor["metadata"]["labels"]["release"], "prometheus");
}

#[test]
fn fox_run_accepts_the_rendered_arguments_and_reads_the_values_from_them() {
    let default = parsed_run_args(default_values());
    assert_eq!(default.metrics_addr.to_string(), "0.0.0.0:8080");
    assert!(default.leader_elect);
    assert_eq!(default.lease_name, "fox-operator");
    assert_eq!(default.lease_namespace.as_deref(), Some(RELEASE_NAMESPACE));
    assert_eq!(default.watch_namespace, None);
    assert_eq!(default.log_level, "info");
    assert_eq!(default.resync_seconds, 300);

    let full = parsed_run_args(full_values());
    assert_eq!(full.metrics_addr.to_string(), "0.0.0.0:9090");
    assert_eq!(full.lease_name, "foxdb-operator-leader");
    assert_eq!(full.watch_namespace.as_deref(), Some(FULL_WATCH_NAMESPACE));
    assert_eq!(full.log_level, "info,fox_operator=debug");
    assert_eq!(full.resync_seconds, 60);
}

#[test]
fn chart_readme_lists_the_same_permissions() {
    let readme = std::fs::read_to_string(repository_root().join("charts/fox-operator/README.md"))
        .expect("charts/fox-operator/README.md exists");
    let section = readme
        .split("### Permissions")
        .nth(1)
        .and_then(|rest| rest.split("\n#").next())
        .expect("the README has a Permissions section");
    let listed: Vec<(String, Vec<String>, Vec<String>)> = section
        .lines()
        .filter(|line| line.starts_with("| `") || line.starts_with("| core"))
        .map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let group = match cells[1] {
                "core" => String::new(),
                other => other.trim_matches('`').to_string(),
            };
            let resources = cells[2]
                .split(" (")
                .next()
                .unwrap_or_default()
                .split(", ")
                .map(|r| r.trim_matches('`').to_string())
                .collect();
            let verbs = cells[3].split(", ").map(str::to_string).collect();
            (group, resources, verbs)
        })
        .collect();
    let expected: Vec<(String, Vec<String>, Vec<String>)> = CLUSTER_PERMISSIONS
        .iter()
        .chain(LEASE_PERMISSIONS)
        .map(|p| {
            (
                p.group.to_string(),
                p.resources.iter().map(ToString::to_string).collect(),
                p.verbs.iter().map(ToString::to_string).collect(),
            )
        })
        .collect();
    assert_eq!(
        listed, expected,
        "the Permissions table of charts/fox-operator/README.md differs from controller::rbac"
    );
}

#[test]
fn without_leader_election_one_pod_is_replaced_and_no_lease_is_granted() {
    let rendered = single_values();
    for kind in [
        "ClusterRole",
        "ClusterRoleBinding",
        "Role",
        "RoleBinding",
        "ServiceAccount",
    ] {
        assert!(
            rendered.of_kind(kind).is_empty(),
            "rbac.create and serviceAccount.create are off, yet a {kind} is rendered"
        );
    }
    assert_eq!(rendered.service_account_name(), "platform-fox-operator");

    let deployment: Deployment = rendered.operator_deployment();
    let spec = deployment.spec.expect("a Deployment spec");
    assert_eq!(spec.replicas, Some(1));
    assert_eq!(
        spec.strategy.and_then(|s| s.type_).as_deref(),
        Some("Recreate"),
        "without a leader lease the old pod must stop before the new one starts"
    );

    let run = parsed_run_args(rendered);
    assert!(!run.leader_elect);
    assert_eq!(run.lease_namespace, None);
}

#[test]
fn secrets_are_granted_only_in_the_namespaces_that_opted_in() {
    let rendered = openshift_values();
    let role: ClusterRole = rendered.named("ClusterRole", "fox-operator");
    assert_eq!(
        role.rules,
        Some(policy_rules(&cluster_permissions_without_secrets())),
        "no Secret access cluster-wide"
    );
    let secret_roles: Vec<Role> = rendered
        .of_kind("Role")
        .into_iter()
        .map(typed::<Role>)
        .filter(|r| r.metadata.name.as_deref() == Some("fox-operator-secrets"))
        .collect();
    let namespaces: Vec<_> = secret_roles
        .iter()
        .map(|r| r.metadata.namespace.clone().unwrap_or_default())
        .collect();
    assert_eq!(namespaces, ["shop", "billing"]);
    for role in &secret_roles {
        assert_eq!(role.rules, Some(policy_rules(SECRET_PERMISSIONS)));
    }
    assert_eq!(
        parsed_run_args(rendered).secret_namespaces,
        ["shop", "billing"]
    );
    assert!(
        parsed_run_args(default_values())
            .secret_namespaces
            .is_empty()
    );
}

#[test]
fn view_and_edit_roles_aggregate_the_fox_kinds() {
    let rendered = default_values();
    let view: ClusterRole = rendered.named("ClusterRole", "fox-operator-view");
    let labels = view.metadata.labels.clone().unwrap_or_default();
    for role in ["view", "edit", "admin"] {
        assert_eq!(
            labels
                .get(&format!("rbac.authorization.k8s.io/aggregate-to-{role}"))
                .map(String::as_str),
            Some("true")
        );
    }
    let rules = view.rules.unwrap_or_default();
    assert_eq!(rules[0].verbs, ["get", "list", "watch"]);
    let edit: ClusterRole = rendered.named("ClusterRole", "fox-operator-edit");
    let labels = edit.metadata.labels.clone().unwrap_or_default();
    assert!(!labels.contains_key("rbac.authorization.k8s.io/aggregate-to-view"));
    assert!(
        edit.rules.unwrap_or_default()[0]
            .verbs
            .contains(&"patch".to_string())
    );
    assert!(
        openshift_values().of_kind("ClusterRole").len() == 1,
        "aggregation off"
    );
}

#[test]
fn crds_are_templates_kept_on_uninstall_and_upgraded_with_the_release() {
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
    let generated = fox_crds::crdgen::custom_resource_definitions();
    let rendered: Vec<CustomResourceDefinition> = default_values()
        .of_kind("CustomResourceDefinition")
        .into_iter()
        .map(typed)
        .collect();
    assert_eq!(rendered.len(), generated.len());
    for (rendered, generated) in rendered.iter().zip(&generated) {
        assert_eq!(
            rendered.spec, generated.spec,
            "the generated CRD, unchanged"
        );
        assert_eq!(
            rendered
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get("helm.sh/resource-policy"))
                .map(String::as_str),
            Some("keep")
        );
    }
    // values-full.yaml: crds.keep false; values-openshift.yaml: crds.install false.
    for crd in full_values().of_kind("CustomResourceDefinition") {
        assert!(crd["metadata"]["annotations"]["helm.sh/resource-policy"].is_null());
    }
    assert!(
        openshift_values()
            .of_kind("CustomResourceDefinition")
            .is_empty()
    );
}

#[test]
fn the_pod_has_time_to_finish_an_apply_and_spreads_and_pins_as_asked() {
    let deployment: Deployment = default_values().operator_deployment();
    assert_eq!(
        pod_spec(&deployment).termination_grace_period_seconds,
        Some(300)
    );
    let full: Deployment = full_values().operator_deployment();
    let strategy = full.spec.as_ref().unwrap().strategy.clone().unwrap();
    assert_eq!(strategy.type_.as_deref(), Some("RollingUpdate"));
    assert_eq!(pod_spec(&full).termination_grace_period_seconds, Some(600));
    assert_eq!(
        pod_spec(&full)
            .topology_spread_constraints
            .as_ref()
            .map(Vec::len),
        Some(1)
    );
    let image = openshift_values().operator_container().image.unwrap();
    assert!(
        image.ends_with("@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"),
        "{image}"
    );
    let args = parsed_run_args(full_values());
    assert_eq!(args.service_cidr.len(), 2);
    assert_eq!(args.allow_member_addresses.len(), 1);
}

/// Every metric the dashboard and the alerts read is one the operator exports.
#[test]
fn dashboard_and_alerts_read_only_exported_metrics() {
    let source =
        std::fs::read_to_string(repository_root().join("operator/src/telemetry/metrics.rs"))
            .unwrap();
    let exported: Vec<String> = source
        .split('"')
        .filter(|s| s.starts_with("fox_") && s.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        .map(str::to_string)
        .collect();
    assert!(exported.contains(&"fox_replica_lag_seconds".to_string()));
    let dashboard = std::fs::read_to_string(
        repository_root().join("charts/fox-operator/dashboards/fox-operator.json"),
    )
    .unwrap();
    let dashboard: Value = serde_json::from_str(&dashboard).expect("the dashboard is JSON");
    let mut expressions: Vec<String> = dashboard["panels"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["targets"].as_array().cloned().unwrap_or_default())
        .map(|t| t["expr"].as_str().unwrap().to_string())
        .collect();
    let rule = full_values().single::<Value>("PrometheusRule");
    let alerts: Vec<String> = rule["spec"]["groups"][0]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["alert"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        alerts,
        [
            "FoxReplicaLagHigh",
            "FoxMemberUnhealthy",
            "FoxReconcileErrors",
            "FoxSchemaApprovalPending",
            "FoxOperatorNoLeader"
        ]
    );
    expressions.extend(
        rule["spec"]["groups"][0]["rules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["expr"].as_str().unwrap().to_string()),
    );
    for expression in &expressions {
        for word in expression.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
            if !word.starts_with("fox_") {
                continue;
            }
            let base = ["_bucket", "_count", "_sum"]
                .iter()
                .find_map(|suffix| word.strip_suffix(suffix))
                .unwrap_or(word);
            assert!(
                exported.iter().any(|m| m == base),
                "{word} in `{expression}` is not exported"
            );
        }
    }
}
