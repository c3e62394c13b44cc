//! The pages of docs/reference/ are generated: cli.md from the `fox` command definitions (every
//! command, flag, environment variable, default and exit status the help declares), crds.md from
//! the CRD schemas `fox crds` prints, type-mapping.md from the dialects and `fox generate client`,
//! helm-values.md (and the chart README's values table) from the chart's values.yaml, rbac.md
//! from `controller::rbac`, conditions.md from `fox_crds::{ConditionType, Reason}`, metrics.md
//! from the operator's and the gateway's metric registries. These tests fail when a committed page differs from what the code
//! generates; `FOX_BLESS=1 cargo test -p fox-operator --test reference_docs` rewrites them.

#[path = "reference_docs/conditions.rs"]
mod conditions;
#[path = "reference_docs/helm_values.rs"]
mod helm_values;
#[path = "reference_docs/metrics.rs"]
mod metrics;
#[path = "reference_docs/rbac.rs"]
mod rbac;
#[path = "reference_docs/type_mapping.rs"]
mod type_mapping;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap::CommandFactory;
use fox_operator::cli::Cli;
use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the operator crate sits in the repository")
        .to_path_buf()
}

/// What a generated page says first.
fn generated_note(what: &str) -> String {
    format!(
        "<!-- Generated from {what} by operator/tests/reference_docs.rs: do not edit; \
         `FOX_BLESS=1 cargo test -p fox-operator --test reference_docs` rewrites it. -->\n"
    )
}

/// Text for one Markdown table cell.
fn cell(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('|', "\\|")
}

/// `text` ending in a full stop (clap drops the one of a doc comment's first line).
fn sentence(text: &str) -> String {
    let text = text.trim_end();
    if text.is_empty() || text.ends_with(['.', ':', '?', '!']) {
        text.to_string()
    } else {
        format!("{text}.")
    }
}

/// The page of `command` and its subcommands, `path` being the words before it.
fn render_command(command: &clap::Command, path: &str, out: &mut String) {
    let name = if path.is_empty() {
        command.get_name().to_string()
    } else {
        format!("{path} {}", command.get_name())
    };
    let mut command = command.clone().bin_name(&name);
    if !path.is_empty() {
        writeln!(out, "## `{name}`\n").expect("writes to a String");
    }
    if let Some(about) = command.get_long_about().or(command.get_about()) {
        writeln!(out, "{}\n", sentence(&about.to_string())).expect("writes to a String");
    }
    let usage = command.render_usage().to_string();
    let usage = usage.trim_start_matches("Usage:").trim();
    writeln!(out, "```text\n{usage}\n```\n").expect("writes to a String");
    let arguments: Vec<&clap::Arg> = command
        .get_arguments()
        .filter(|a| {
            !a.is_hide_set()
                && !matches!(
                    a.get_action(),
                    clap::ArgAction::Help
                        | clap::ArgAction::HelpShort
                        | clap::ArgAction::HelpLong
                        | clap::ArgAction::Version
                )
        })
        .collect();
    if !arguments.is_empty() {
        out.push_str("| argument | environment | default | description |\n|---|---|---|---|\n");
        for argument in arguments {
            let value = argument
                .get_value_names()
                .map(|names| {
                    names
                        .iter()
                        .map(|n| format!("<{n}>"))
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .unwrap_or_else(|| format!("<{}>", argument.get_id().as_str().to_uppercase()));
            let takes_value = argument.get_action().takes_values();
            let many = argument.get_num_args().is_some_and(|n| n.max_values() > 1);
            let value = if !takes_value {
                String::new()
            } else if many {
                format!(" {value}...")
            } else {
                format!(" {value}")
            };
            let flag = match (argument.get_short(), argument.get_long()) {
                (Some(short), Some(long)) => format!("`-{short}`, `--{long}{value}`"),
                (None, Some(long)) => format!("`--{long}{value}`"),
                (Some(short), None) => format!("`-{short}{value}`"),
                (None, None) => format!("`{}`", value.trim()),
            };
            let environment = argument
                .get_env()
                .map(|e| format!("`{}`", e.to_string_lossy()))
                .unwrap_or_default();
            let default: Vec<String> = argument
                .get_default_values()
                .iter()
                .map(|v| v.to_string_lossy().into_owned())
                .collect();
            let default = if default.is_empty() || !takes_value {
                String::new()
            } else {
                format!("`{}`", default.join(","))
            };
            let mut description = sentence(
                &argument
                    .get_long_help()
                    .or(argument.get_help())
                    .map(|h| h.to_string())
                    .unwrap_or_default(),
            );
            let possible: Vec<String> = argument
                .get_possible_values()
                .iter()
                .filter(|v| !v.is_hide_set())
                .map(|v| format!("`{}`", v.get_name()))
                .collect();
            if takes_value
                && !possible.is_empty()
                && !["true", "false"].contains(&possible[0].trim_matches('`'))
            {
                write!(description, " One of {}.", possible.join(", ")).expect("writes");
            }
            if argument.is_required_set() {
                description.push_str(" Required.");
            }
            writeln!(
                out,
                "| {flag} | {environment} | {default} | {} |",
                cell(&description)
            )
            .expect("writes to a String");
        }
        out.push('\n');
    }
    if let Some(after) = command.get_after_long_help().or(command.get_after_help()) {
        writeln!(out, "```text\n{}\n```\n", after.to_string().trim_end()).expect("writes");
    }
    let subcommands: Vec<clap::Command> = command
        .get_subcommands()
        .filter(|c| !c.is_hide_set() && c.get_name() != "help")
        .cloned()
        .collect();
    if path.is_empty() {
        out.push_str("| command | what |\n|---|---|\n");
        for subcommand in &subcommands {
            let full = format!("{name} {}", subcommand.get_name());
            let about = subcommand
                .get_about()
                .map(|a| a.to_string())
                .unwrap_or_default();
            writeln!(
                out,
                "| [`{full}`](#{}) | {} |",
                full.replace(' ', "-"),
                cell(&sentence(&about))
            )
            .expect("writes");
        }
        out.push('\n');
    } else if !subcommands.is_empty() {
        let names: Vec<String> = subcommands
            .iter()
            .map(|c| format!("`{name} {}`", c.get_name()))
            .collect();
        writeln!(out, "Subcommands: {}.\n", names.join(", ")).expect("writes");
    }
    for subcommand in &subcommands {
        render_command(subcommand, &name, out);
    }
}

/// docs/reference/cli.md, from the clap definitions of `fox`.
fn cli_reference() -> String {
    let mut out = generated_note("the `fox` command definitions (operator/src/cli.rs)");
    out.push_str("# Command-line reference\n\n");
    out.push_str(
        "Every `fox` command with its flags, the environment variables they fall back to, their \
         defaults and the exit status of each command, as `fox COMMAND --help` prints them. \
         The guides show the commands at work: [Getting started](../getting-started.md), \
         [The schema engine](../schema-engine.md), [Versioned migrations](../migrations.md).\n\n",
    );
    let command = Cli::command();
    let mut body = String::new();
    render_command(&command, "", &mut body);
    out.push_str(&body);
    out.push_str("Next: the resources these commands read, in the [CRD reference](crds.md).\n");
    out
}

/// A JSON schema type in words: `string`, `integer (int32)`, `array of object`...
fn type_of(schema: &Value) -> String {
    let base = match schema.get("type").and_then(Value::as_str) {
        Some("array") => format!(
            "array of {}",
            schema.get("items").map_or("any".into(), type_of)
        ),
        Some(kind) => kind.to_string(),
        None if schema.get("x-kubernetes-int-or-string").is_some() => "integer or string".into(),
        None if schema.get("x-kubernetes-preserve-unknown-fields").is_some() => "any".into(),
        None => "any".into(),
    };
    match schema.get("format").and_then(Value::as_str) {
        Some(format) => format!("{base} ({format})"),
        None => base,
    }
}

/// Rows for the fields under `schema` at `path`.
fn field_rows(schema: &Value, path: &str, rows: &mut String) {
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        if let Some(items) = schema.get("items") {
            field_rows(items, &format!("{path}[]"), rows);
        }
        return;
    };
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut names: Vec<&String> = properties.keys().collect();
    names.sort();
    for name in names {
        let field = &properties[name];
        let at = if path.is_empty() {
            name.clone()
        } else {
            format!("{path}.{name}")
        };
        let mut description = field
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        if let Some(values) = field.get("enum").and_then(Value::as_array) {
            let values: Vec<String> = values
                .iter()
                .map(|v| format!("`{}`", v.as_str().map_or(v.to_string(), str::to_string)))
                .collect();
            write!(description, " One of {}.", values.join(", ")).expect("writes");
        }
        let default = field
            .get("default")
            .map(|d| format!("`{d}`"))
            .unwrap_or_default();
        let required = if required.contains(&name.as_str()) {
            "yes"
        } else {
            ""
        };
        writeln!(
            rows,
            "| `{at}` | {} | {required} | {default} | {} |",
            cell(&type_of(field)),
            cell(&description)
        )
        .expect("writes to a String");
        let nested = field.get("items").unwrap_or(field);
        let nested_path = if field.get("items").is_some() {
            format!("{at}[]")
        } else {
            at.clone()
        };
        if nested.get("properties").is_some() {
            field_rows(nested, &nested_path, rows);
        }
    }
}

/// docs/reference/crds.md, from the CRDs `fox crds` prints.
fn crd_reference() -> String {
    let mut out = generated_note("the CRD schemas (`fox crds`, crds/src)");
    out.push_str("# CRD reference\n\n");
    out.push_str(
        "The fields of FoxDB's custom resources, group `foxdb.dev`, as their OpenAPI schemas \
         (`fox crds`, the files in `crds/`) declare them: the API server checks these types; \
         `fox validate` and the operator check the rest (see [Resources](../resources.md)). \
         A path `a[].b` is the field `b` of each item of the list `a`.\n\n",
    );
    for crd in fox_crds::crdgen::custom_resource_definitions() {
        let crd = serde_json::to_value(&crd).expect("a CRD serializes");
        let spec = &crd["spec"];
        let kind = spec["names"]["kind"].as_str().expect("a kind");
        let version = &spec["versions"][0];
        writeln!(out, "## {kind}\n").expect("writes");
        let short: Vec<String> = spec["names"]["shortNames"]
            .as_array()
            .map(|names| {
                names
                    .iter()
                    .filter_map(Value::as_str)
                    .map(|n| format!("`{n}`"))
                    .collect()
            })
            .unwrap_or_default();
        writeln!(
            out,
            "`apiVersion: {}/{}`, `kind: {kind}`, {} (plural `{}`; short names {}).\n",
            spec["group"].as_str().unwrap_or_default(),
            version["name"].as_str().unwrap_or_default(),
            spec["scope"].as_str().unwrap_or_default().to_lowercase(),
            spec["names"]["plural"].as_str().unwrap_or_default(),
            short.join(", ")
        )
        .expect("writes");
        let schema = &version["schema"]["openAPIV3Schema"];
        if let Some(description) = schema.get("description").and_then(Value::as_str) {
            writeln!(out, "{description}\n").expect("writes");
        }
        if let Some(columns) = version["additionalPrinterColumns"].as_array() {
            out.push_str("`kubectl get` shows (`-o wide` adds the columns of priority 1):\n\n");
            out.push_str("| column | from | priority |\n|---|---|---|\n");
            for column in columns {
                writeln!(
                    out,
                    "| {} | `{}` | {} |",
                    column["name"].as_str().unwrap_or_default(),
                    cell(column["jsonPath"].as_str().unwrap_or_default()),
                    column["priority"].as_i64().unwrap_or(0)
                )
                .expect("writes");
            }
            out.push('\n');
        }
        for part in ["spec", "status"] {
            let Some(part_schema) = schema["properties"].get(part) else {
                continue;
            };
            writeln!(out, "### {kind} {part}\n").expect("writes");
            out.push_str("| field | type | required | default | description |\n");
            out.push_str("|---|---|---|---|---|\n");
            field_rows(part_schema, part, &mut out);
            out.push('\n');
        }
    }
    out.push_str(
        "Next: how the operator acts on these resources, in [The operator](../operator.md).\n",
    );
    out
}

/// Compares `generated` with the committed `relative` file, or writes it under FOX_BLESS=1.
fn check(relative: &str, generated: &str) {
    let path = root().join(relative);
    if std::env::var_os("FOX_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().expect("a folder")).expect("creates the folder");
        std::fs::write(&path, generated).expect("writes the reference");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{relative} is not what the code generates: run \
         `FOX_BLESS=1 cargo test -p fox-operator --test reference_docs` and commit it"
    );
}

#[test]
fn the_cli_reference_is_generated_from_the_command_definitions() {
    let page = cli_reference();
    for command in [
        "## `fox apply`",
        "## `fox migrate status`",
        "## `fox generate client`",
    ] {
        assert!(page.contains(command), "{command} is missing");
    }
    assert!(
        page.contains("`FOX_METRICS_ADDR`"),
        "environment variables are listed"
    );
    assert!(page.contains("Exit status: 0 when nothing needs attention"));
    assert!(
        page.contains("| `--version <VERSION>` |"),
        "an argument named like an automatic flag (`fox migrate repair --version`) is listed"
    );
    check("docs/reference/cli.md", &page);
}

/// The command synopses of the guides (```` ```text ```` lines starting with `fox `) name only
/// flags the commands take, so a guide cannot show a flag the command lost or never had.
#[test]
fn the_synopses_of_the_guides_name_only_flags_the_commands_take() {
    let mut checked = 0;
    let mut problems = Vec::new();
    for page in ["docs/migrations.md", "docs/schema-engine.md"] {
        let text = std::fs::read_to_string(root().join(page)).expect("a guide");
        let mut in_text = false;
        for (index, line) in text.lines().enumerate() {
            if let Some(language) = line.trim().strip_prefix("```") {
                in_text = !in_text && language == "text";
                continue;
            }
            let Some(words) = line.strip_prefix("fox ").filter(|_| in_text) else {
                continue;
            };
            let mut command = Cli::command();
            let mut words = words.split_whitespace().peekable();
            while let Some(name) = words.peek().filter(|w| !w.starts_with('-')) {
                match command.find_subcommand(name) {
                    Some(sub) => command = sub.clone(),
                    None => break,
                }
                words.next();
            }
            for word in words {
                let flag = word.trim_start_matches('[').trim_end_matches([']', '.']);
                let known = if let Some(long) = flag.strip_prefix("--") {
                    command.get_arguments().any(|a| a.get_long() == Some(long))
                } else if let Some(short) = flag.strip_prefix('-') {
                    let short = short.chars().next().unwrap_or_default();
                    command
                        .get_arguments()
                        .any(|a| a.get_short() == Some(short))
                } else {
                    continue;
                };
                checked += 1;
                if !known {
                    problems.push(format!(
                        "{page}:{}: `fox {}` takes no {flag}",
                        index + 1,
                        command.get_name()
                    ));
                }
            }
        }
    }
    assert!(
        checked > 20,
        "only {checked} flags found: is the scan right?"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_crd_reference_is_generated_from_the_crd_schemas() {
    let page = crd_reference();
    for kind in ["## FoxReplicaSet", "## FoxSchema", "## FoxMigration"] {
        assert!(page.contains(kind), "{kind} is missing");
    }
    assert!(page.contains("| `spec.tables[].columns[].name` |"));
    check("docs/reference/crds.md", &page);
}

#[test]
fn the_conditions_reference_is_generated_from_the_reasons_the_controllers_use() {
    let page = conditions::page(&generated_note(
        "`fox_crds::ConditionType` and `fox_crds::Reason` (crds/src/condition.rs)",
    ));
    assert!(page.contains("| `ApprovalPending` | a person |"));
    assert!(page.contains("| `MemberUnhealthy` | Warning |"));
    check("docs/reference/conditions.md", &page);
}

/// Every reason a controller writes names a kind the reason declares (so the reference lists
/// it under that kind), and every reason is written somewhere: the controllers of a kind are
/// the files named for it, plus the shared error and unreadable-object paths.
#[test]
fn the_reasons_are_declared_for_the_kinds_that_write_them() {
    use fox_crds::condition::{Reason, ResourceKind};
    let folder = root().join("operator/src/controller");
    let mut used = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(&folder).expect("the controllers") {
        let path = entry.expect("an entry").path();
        let file = path
            .file_name()
            .and_then(|f| f.to_str())
            .unwrap_or_default();
        let kinds: &[ResourceKind] = match file {
            "replica_set.rs" | "in_doubt.rs" | "cache_invalidator.rs" => {
                &[ResourceKind::FoxReplicaSet]
            }
            f if f.starts_with("schema") => &[ResourceKind::FoxSchema],
            f if f.starts_with("migration") => &[ResourceKind::FoxMigration],
            _ => &[],
        };
        let text = std::fs::read_to_string(&path).expect("a controller file");
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        for part in code.split("Reason::").skip(1) {
            let name: String = part
                .chars()
                .take_while(char::is_ascii_alphanumeric)
                .collect();
            let Some(reason) = Reason::parse(&name) else {
                continue; // `Reason::parse`, ...
            };
            used.insert(reason);
            for kind in kinds {
                assert!(
                    reason.kinds().contains(kind),
                    "{file} writes {reason}, which fox_crds::Reason does not declare for {kind:?}"
                );
            }
        }
    }
    let unused: Vec<&Reason> = Reason::ALL.iter().filter(|r| !used.contains(r)).collect();
    assert!(
        unused.is_empty(),
        "reasons no controller writes: {unused:?}"
    );
}

#[test]
fn the_metrics_reference_is_generated_from_the_registries() {
    let page = metrics::page(&generated_note(
        "the operator's and the gateway's metric registries (operator/src/telemetry/metrics.rs, \
         operator/src/gateway/mod.rs)",
    ));
    assert!(page.contains("| `fox_reconcile_errors_total` | counter | `kind`, `error` |"));
    assert!(page.contains("| `fox_gateway_refused_total` | counter | `status` |"));
    check("docs/reference/metrics.md", &page);
}

#[test]
fn the_helm_values_reference_is_generated_from_values_yaml() {
    let note = generated_note("charts/fox-operator/values.yaml");
    let page = helm_values::page(&root(), &note);
    assert!(page.contains("| `image.repository` | `\"ghcr.io/foxdb/fox-operator\"` |"));
    assert!(page.contains("| `securityContext.capabilities.drop` | `[\"ALL\"]` |"));
    check("docs/reference/helm-values.md", &page);
    let readme_path = "charts/fox-operator/README.md";
    let readme = std::fs::read_to_string(root().join(readme_path)).expect("the chart README");
    let regenerated = helm_values::readme_with_table(&readme, &helm_values::values_table(&root()));
    check(readme_path, &regenerated);
}

#[test]
fn the_rbac_reference_is_generated_from_the_operator_permissions() {
    let page = rbac::page(&root(), &generated_note("operator/src/controller/rbac.rs"));
    assert!(page.contains("| `coordination.k8s.io` | `leases` | get, create, update |"));
    assert!(page.contains("| `<fullname>-view` | `view`, `edit`, `admin` | `foxdb.dev` |"));
    check("docs/reference/rbac.md", &page);
}

// The models `fox generate client` writes for the type tables; the test below checks that they
// are current (FOX_BLESS=1 rewrites them) and reads the BSON types from the documents
// `foxdb::mongo` writes for their rows.
#[allow(dead_code)]
mod type_models {
    include!("fixtures/type_models.rs");
}

#[test]
fn the_type_mapping_is_generated_from_the_dialects_and_the_client_generator() {
    let source = fox_operator::commands::generate::client_source(&type_mapping::schema());
    check("operator/tests/fixtures/type_models.rs", &source);
    let (serial, row) = type_mapping::sample_rows();
    let mut stored = std::collections::BTreeMap::new();
    stored.insert(
        "serials",
        foxdb::mongo::document(&serial).expect("a serials row is a document"),
    );
    stored.insert(
        "types",
        foxdb::mongo::document(&row).expect("a types row is a document"),
    );
    let page = type_mapping::page(
        &stored,
        &generated_note("the dialects (client/src/dialect/) and `fox generate client`"),
    );
    assert!(page.contains(
        "| `timestamptz` | `timestamp with time zone` | `timestamp(6)` | `TIMESTAMPTZ` |"
    ));
    check("docs/reference/type-mapping.md", &page);
}
