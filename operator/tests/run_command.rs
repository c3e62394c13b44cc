//! `fox run --help` documents every flag with its environment variable, and `fox run` fails with
//! a clear message when there is no cluster.

use std::process::Command;

fn fox(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_fox"))
        .args(args)
        .env_remove("KUBECONFIG")
        .env("HOME", env!("CARGO_TARGET_TMPDIR"))
        .env_remove("KUBERNETES_SERVICE_HOST")
        .output()
        .expect("fox runs")
}

#[test]
fn help_documents_every_flag_and_environment_variable() {
    let output = fox(&["run", "--help"]);
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).expect("UTF-8 help");
    for (flag, variable) in [
        ("--metrics-addr", "FOX_METRICS_ADDR"),
        ("--leader-elect", "FOX_LEADER_ELECT"),
        ("--lease-name", "FOX_LEASE_NAME"),
        ("--lease-namespace", "FOX_LEASE_NAMESPACE"),
        ("--watch-namespace", "FOX_WATCH_NAMESPACE"),
        ("--log-format", "FOX_LOG_FORMAT"),
        ("--log-level", "FOX_LOG"),
        ("--resync-seconds", "FOX_RESYNC_SECONDS"),
    ] {
        assert!(help.contains(flag), "{flag} missing from:\n{help}");
        assert!(
            help.contains(&format!("[env: {variable}=")),
            "{variable} missing from:\n{help}"
        );
    }
    for variable in ["POD_NAME", "POD_NAMESPACE", "KUBECONFIG"] {
        assert!(help.contains(variable), "{variable} missing from:\n{help}");
    }
}

#[test]
fn without_a_cluster_it_exits_1_with_the_reason() {
    let output = fox(&[
        "run",
        "--metrics-addr",
        "127.0.0.1:0",
        "--log-format",
        "text",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cannot configure a Kubernetes client (in-cluster or KUBECONFIG)"),
        "{stderr}"
    );
}

#[test]
fn invalid_flags_are_refused() {
    let output = fox(&["run", "--resync-seconds", "1"]);
    assert_eq!(output.status.code(), Some(2));
    let output = fox(&["run", "--log-format", "xml"]);
    assert_eq!(output.status.code(), Some(2));
}
