//! The Argo CD health checks shipped in `docs/gitops/argocd` give what their `health_test.yaml`
//! says for every status fixture (Argo CD's own layout, so `argocd admin` can run them too),
//! and agree with the conditions the operator itself writes for each kind of outcome.

// Test code: a failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use fox_operator::controller::conditions::{
    ConditionType, ConditionUpdate, Reason, merge_conditions,
};
use mlua::{Lua, LuaSerdeExt};
use serde_json::{Value, json};

const KINDS: [&str; 3] = ["FoxReplicaSet", "FoxSchema", "FoxMigration"];

fn kind_dir(kind: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../docs/gitops/argocd/foxdb.dev")
        .join(kind)
}

/// Runs `health.lua` of `kind` with `obj` bound, as Argo CD does; `(status, message)`.
fn health(kind: &str, object: &Value) -> (String, String) {
    let script = std::fs::read_to_string(kind_dir(kind).join("health.lua")).unwrap();
    let lua = Lua::new();
    let options = mlua::serde::SerializeOptions::new()
        .serialize_none_to_null(false)
        .serialize_unit_to_null(false);
    lua.globals()
        .set("obj", lua.to_value_with(object, options).unwrap())
        .unwrap();
    let result: mlua::Table = lua.load(&script).set_name(kind).eval().unwrap();
    (
        result.get::<String>("status").unwrap(),
        result
            .get::<Option<String>>("message")
            .unwrap()
            .unwrap_or_default(),
    )
}

#[test]
fn every_health_check_gives_what_its_tests_say() {
    let mut checked = 0;
    for kind in KINDS {
        let tests: Value = serde_yaml_ng::from_str(
            &std::fs::read_to_string(kind_dir(kind).join("health_test.yaml")).unwrap(),
        )
        .unwrap();
        for case in tests["tests"].as_array().unwrap() {
            let input = case["inputPath"].as_str().unwrap();
            let object: Value = serde_yaml_ng::from_str(
                &std::fs::read_to_string(kind_dir(kind).join(input)).unwrap(),
            )
            .unwrap();
            let expected = (
                case["healthStatus"]["status"].as_str().unwrap().to_string(),
                case["healthStatus"]["message"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            );
            assert_eq!(health(kind, &object), expected, "{kind} {input}");
            checked += 1;
        }
    }
    assert!(checked >= 12, "{checked} fixtures");
}

/// The object a controller would leave after setting `Ready` like this (the operator's own
/// condition code derives `Reconciling` and `Stalled`).
fn written(kind: &str, ready: ConditionUpdate) -> Value {
    let conditions = merge_conditions(&[], &[ready], Some(1), k8s_openapi::jiff::Timestamp::now());
    json!({"apiVersion": "foxdb.dev/v1alpha1", "kind": kind,
           "metadata": {"name": "x", "generation": 1},
           "status": {"observedGeneration": 1, "conditions": conditions}})
}

#[test]
fn the_operators_own_conditions_map_to_argo_cd_health() {
    for kind in KINDS {
        let status = |ready| health(kind, &written(kind, ready)).0;
        assert_eq!(
            status(ConditionUpdate::yes(
                ConditionType::Ready,
                Reason::Applied,
                "ok"
            )),
            "Healthy"
        );
        assert_eq!(
            status(ConditionUpdate::no(
                ConditionType::Ready,
                Reason::ApprovalPending,
                "waits"
            )),
            "Suspended",
            "{kind}"
        );
        // Every `Ready=False` reason of the kind: those that need a person degrade it (but
        // `ApprovalPending`, which suspends it, above), the others progress.
        let reasons = Reason::ALL.iter().copied().filter(|r| {
            r.kinds().iter().any(|k| k.as_str() == kind) && *r != Reason::ApprovalPending
        });
        for reason in reasons {
            // A FoxReplicaSet whose primary does not answer fails writes now: Degraded too.
            let expected = if reason.is_stalled() || reason == Reason::PrimaryUnhealthy {
                "Degraded"
            } else {
                "Progressing"
            };
            assert_eq!(
                status(ConditionUpdate::no(ConditionType::Ready, reason, "x")),
                expected,
                "{kind} {reason}"
            );
        }
    }
}
