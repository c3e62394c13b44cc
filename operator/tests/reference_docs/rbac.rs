//! docs/reference/rbac.md: the operator's Kubernetes permissions (`controller::rbac`, which the
//! chart grants exactly: chart_rbac.rs renders it and compares), each with why it is needed, and
//! the aggregated roles the chart adds for users (read from its template).

use std::fmt::Write as _;

use fox_operator::controller::rbac::{
    CLUSTER_PERMISSIONS, LEASE_PERMISSIONS, Permission, SECRET_PERMISSIONS,
};

fn table(permissions: &[Permission], out: &mut String) {
    out.push_str("| API group | resources | verbs | why |\n|---|---|---|---|\n");
    for permission in permissions {
        let group = if permission.group.is_empty() {
            "core (`\"\"`)".to_string()
        } else {
            format!("`{}`", permission.group)
        };
        let resources: Vec<String> = permission
            .resources
            .iter()
            .map(|r| format!("`{r}`"))
            .collect();
        writeln!(
            out,
            "| {group} | {} | {} | {} |",
            resources.join(", "),
            permission.verbs.join(", "),
            super::cell(permission.reason)
        )
        .expect("writes");
    }
    out.push('\n');
}

/// The rules of each ClusterRole in the chart's rbac-aggregate.yaml, as table rows.
fn aggregated_roles(template: &str) -> String {
    let mut out = String::from(
        "| ClusterRole | aggregated into | API group | resources | verbs |\n|---|---|---|---|---|\n",
    );
    for document in template.split("\n---\n") {
        let name = document
            .lines()
            .find_map(|l| {
                l.trim()
                    .strip_prefix("name: {{ include \"fox-operator.fullname\" . }}")
            })
            .expect("an aggregated ClusterRole has a name");
        let into: Vec<&str> = document
            .lines()
            .filter_map(|l| {
                l.trim()
                    .strip_prefix("rbac.authorization.k8s.io/aggregate-to-")
            })
            .filter_map(|l| l.split(':').next())
            .collect();
        let rules = document.split("rules:").nth(1).expect("rules");
        let field = |key: &str| -> Vec<String> {
            rules
                .lines()
                .find_map(|l| l.trim().trim_start_matches("- ").strip_prefix(key))
                .and_then(|list| list.trim().strip_prefix('[')?.split(']').next())
                .expect("a flow list")
                .split(',')
                .map(|item| item.trim().trim_matches('"').to_string())
                .collect()
        };
        let resources: Vec<String> = field("resources:")
            .iter()
            .map(|r| format!("`{r}`"))
            .collect();
        writeln!(
            out,
            "| `<fullname>{name}` | {} | `{}` | {} | {} |",
            into.iter()
                .map(|r| format!("`{r}`"))
                .collect::<Vec<_>>()
                .join(", "),
            field("apiGroups:").join(", "),
            resources.join(", "),
            field("verbs:").join(", ")
        )
        .expect("writes");
    }
    out
}

/// docs/reference/rbac.md.
pub fn page(root: &std::path::Path, note: &str) -> String {
    let template =
        std::fs::read_to_string(root.join("charts/fox-operator/templates/rbac-aggregate.yaml"))
            .expect("the chart has rbac-aggregate.yaml");
    let mut out = note.to_string();
    out.push_str("# RBAC reference\n\n");
    out.push_str(
        "Every Kubernetes permission the operator uses, and why. The rules are defined once, in \
         `operator/src/controller/rbac.rs`; the Helm chart grants exactly these, without \
         wildcards (a test renders the chart and compares), and a test drives every controller \
         path against a scripted API server and checks that each request is allowed and each \
         rule is used. No `update` or `delete` is needed on what the operator writes: objects \
         are written with server-side apply under the field manager `fox-operator`, and the \
         published objects go with their FoxReplicaSet by owner reference.\n\n",
    );
    out.push_str(
        "## Cluster-wide\n\nA ClusterRole and ClusterRoleBinding (`<fullname>`); with the \
         chart value `watchNamespace` the same rules in a Role in that namespace, and nothing \
         cluster-wide.\n\n",
    );
    table(CLUSTER_PERMISSIONS, &mut out);
    out.push_str(
        "## Secrets and published objects, per namespace\n\nWith the chart value \
         `rbac.secretNamespaces` (`fox run --secret-namespaces`) these rules leave the \
         cluster-wide role and are granted by a Role and RoleBinding `<fullname>-secrets` in \
         each listed namespace only; the operator then watches these kinds there only, and a \
         FoxReplicaSet elsewhere reports that its Secret may not be read.\n\n",
    );
    table(SECRET_PERMISSIONS, &mut out);
    out.push_str(
        "## Leader election\n\nA Role and RoleBinding `<fullname>-leader-election` in the \
         release namespace, with `leaderElection.enabled`.\n\n",
    );
    table(LEASE_PERMISSIONS, &mut out);
    out.push_str(
        "## Roles for users\n\nWith `rbac.aggregateToDefaultRoles` (the default) the chart \
         adds two ClusterRoles that grant nothing to the operator: they aggregate into the \
         built-in roles, so namespace users get access to the FoxDB kinds with the roles they \
         already have (from `charts/fox-operator/templates/rbac-aggregate.yaml`).\n\n",
    );
    out.push_str(&aggregated_roles(&template));
    out.push_str(
        "\nNext: what the resources report, in the [conditions reference](conditions.md).\n",
    );
    out
}
