#!/usr/bin/env bash
# Checks the fox-operator Helm chart with no cluster and no helm binary (`make chart-check`):
#   - values.yaml, values-full.yaml, values-single.yaml valid and values-invalid.yaml rejected by
#     values.schema.json (Python jsonschema, draft-07), and the README's table in step with
#     values.yaml;
#   - `helm lint --strict` with default, full and single values;
#   - the chart renders with each of them, and refuses the invalid values;
#   - every rendered manifest passes `kubernetes-validate --strict` for Kubernetes 1.27 (the
#     chart's oldest) and the newest schema kubernetes-validate ships;
#   - the chart's crds/ are the same as the generated crds/.
# Rendering and lint use Helm's Go SDK through the PyPI package helm-python-sdk. The pinned Python
# packages (requirements.txt) live in a venv, $FOX_CHART_VENV or /opt/foxdb/chart-venv, made once
# and reused while requirements.txt is unchanged.
#
#   bash e2e/chart/check.sh                     the whole check
#   bash e2e/chart/check.sh --render-only DIR   only write DIR/default.yaml, DIR/full.yaml and
#                                               DIR/single.yaml (for operator/tests/chart_rbac.rs)
set -euo pipefail
caller_dir=$PWD
cd "$(dirname "$0")/../.."

CHART=charts/fox-operator
HERE=e2e/chart
VENV=${FOX_CHART_VENV:-/opt/foxdb/chart-venv}
PY=$VENV/bin/python
# lint.py imports render.py: no __pycache__ left in the source tree.
export PYTHONDONTWRITEBYTECODE=1

# Make the venv, or bring it up to requirements.txt. Under a lock: the Rust tests and `make` may
# call this script at the same time.
ensure_venv() {
  local stamp="$VENV/.requirements.sha256" want
  want=$(sha256sum "$HERE/requirements.txt" | cut -d' ' -f1)
  mkdir -p "$(dirname "$VENV")"
  exec 9>"$VENV.lock"
  flock 9
  if [[ -x $PY && -f $stamp && $(<"$stamp") == "$want" ]]; then
    flock -u 9
    return
  fi
  echo "chart-check: installing the pinned Python packages into $VENV" >&2
  [[ -x $PY ]] || python3 -m venv "$VENV"
  "$PY" -m pip install --quiet --disable-pip-version-check -r "$HERE/requirements.txt"
  echo "$want" >"$stamp"
  flock -u 9
}

render() { # render RENDER.PY-ARGUMENTS...
  "$PY" "$HERE/render.py" "$@"
}

ensure_venv

if [[ ${1:-} == --render-only ]]; then
  out=${2:?usage: check.sh --render-only DIR}
  [[ $out == /* ]] || out=$caller_dir/$out
  mkdir -p "$out"
  render >"$out/default.yaml"
  render -f "$HERE/values-full.yaml" >"$out/full.yaml"
  render -f "$HERE/values-single.yaml" >"$out/single.yaml"
  render -f "$HERE/values-openshift.yaml" >"$out/openshift.yaml"
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0
failures=()

# check NAME COMMAND...: run one check, keep going when it fails, count it.
check() {
  local name=$1
  shift
  echo "== $name"
  if "$@"; then
    passed=$((passed + 1))
  else
    echo "FAIL: $name" >&2
    failed=$((failed + 1))
    failures+=("$name")
  fi
}

expect_render_refused() {
  if render -f "$HERE/values-invalid.yaml" >"$work/invalid.yaml" 2>"$work/invalid.err"; then
    echo "the chart rendered values-invalid.yaml; values.schema.json lets typos through" >&2
    return 1
  fi
  sed 's/^/    /' "$work/invalid.err"
}

# kubernetes-validate only warns, and exits 0, for a kind it has no schema for: such a warning
# fails the check here, so a wrong apiVersion cannot slip through. It ships no schema for
# monitoring.coreos.com (checked: "Couldn't find schema for kind ServiceMonitor"), so the
# ServiceMonitor is left out; operator/tests/chart_rbac.rs checks that it selects the metrics
# Service's port instead.
kubernetes_validate() { # kubernetes_validate VERSION-ARGS... -- DIR...
  local args=() files=() output status=0
  while [[ $1 != -- ]]; do args+=("$1"); shift; done
  shift
  for dir in "$@"; do
    for file in "$dir"/*.yaml; do
      # No schema for the Prometheus Operator's kinds.
      case $(basename "$file") in
        servicemonitor-* | prometheusrule-*) ;;
        *) files+=("$file") ;;
      esac
    done
  done
  output=$("$VENV/bin/kubernetes-validate" --strict --quiet "${args[@]}" "${files[@]}" 2>&1) ||
    status=$?
  [[ -z $output ]] || echo "$output"
  if grep -q "Couldn't find schema" <<<"$output"; then
    echo "kubernetes-validate has no schema for a rendered kind (see above)" >&2
    return 1
  fi
  ((status == 0)) && echo "    ${#files[@]} manifests valid"
  return "$status"
}

has_service_monitor() {
  compgen -G "$work/full/servicemonitor-*.yaml" >/dev/null
}

check "values files against values.schema.json (jsonschema), README table" \
  "$PY" "$HERE/check_values.py" --readme "$CHART/values.yaml" "$HERE/values-full.yaml" \
  "$HERE/values-single.yaml" "$HERE/values-openshift.yaml"
check "values-invalid.yaml rejected by values.schema.json (jsonschema)" \
  "$PY" "$HERE/check_values.py" --expect-invalid "$HERE/values-invalid.yaml"
check "helm lint --strict, default values" "$PY" "$HERE/lint.py"
check "helm lint --strict, full values" "$PY" "$HERE/lint.py" -f "$HERE/values-full.yaml"
check "helm lint --strict, single values" "$PY" "$HERE/lint.py" -f "$HERE/values-single.yaml"
check "helm lint --strict, OpenShift values" "$PY" "$HERE/lint.py" -f "$HERE/values-openshift.yaml"
check "render with default values" render --output-dir "$work/default"
check "render with full values" render -f "$HERE/values-full.yaml" --output-dir "$work/full"
check "render with single values" \
  render -f "$HERE/values-single.yaml" --output-dir "$work/single"
check "render with OpenShift values" \
  render -f "$HERE/values-openshift.yaml" --output-dir "$work/openshift"
check "render refuses values-invalid.yaml" expect_render_refused
check "full values render a ServiceMonitor" has_service_monitor
check "full values render a PrometheusRule and the dashboard ConfigMap" \
  compgen -G "$work/full/prometheusrule-*.yaml"
check "the dashboard is valid JSON" "$PY" -m json.tool "$CHART/dashboards/fox-operator.json" /dev/null
check "kubernetes-validate --strict, Kubernetes 1.27" \
  kubernetes_validate -k 1.27.0 -- "$work/default" "$work/full" "$work/single" "$work/openshift"
check "kubernetes-validate --strict, newest Kubernetes" \
  kubernetes_validate -- "$work/default" "$work/full" "$work/single" "$work/openshift"
check "chart files/crds/ equal the generated crds/" \
  diff -u <(cat crds/*.yaml) <(cat "$CHART"/files/crds/*.yaml)

echo
if ((failed > 0)); then
  printf 'chart-check FAILED: %s\n' "${failures[@]}" >&2
fi
echo "chart-check: $passed passed, $failed failed"
((failed == 0))
