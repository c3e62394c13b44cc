#!/usr/bin/env bash
# End-to-end test of the FoxDB operator in a kind cluster, against PostgreSQL 15 and MySQL 8:
#   1. create a kind cluster, build the operator image and load it into the cluster;
#   2. install the Helm chart (CRDs included) and wait for the operator;
#   3. run PostgreSQL and MySQL in the cluster (manifests/1*.yaml);
#   4. apply a FoxReplicaSet per engine, the blog FoxSchema and the blog FoxMigrations, wait for
#      Ready and check the tables, view and index with psql / mysql;
#   5. apply version 2 of the FoxSchema (one column more), check the column, and that the
#      index migration 2 made (which no FoxSchema declares) is still there;
#   6. roll back migration 2 with spec.rollbackTo: 1 and check its index is gone;
#   7. send traffic through the published blog-pg-rw and blog-pg-ro Services;
#   8. require approval of a plan: it waits (Ready reason ApprovalPending), applies once the
#      hash in status is approved, and the approval annotation is removed;
#   9. a destructive change is blocked (DestructiveChange, Stalled=True) and drops nothing;
#  10. an index dropped by hand is reported as drift (Drifted=True);
#  11. deleting a FoxSchema returns at once (no finalizer) and keeps the tables;
#  12. the leader pod is deleted: the other operator pod takes the Lease and reconciles;
#  13. check /metrics has fox_reconcile_total, and that the database password appears nowhere:
#      not in /metrics, the operator's logs, events or any FoxDB object.
#  14. uninstall the release and run the walkthrough of docs/operator.md as a reader would: its
#      `<!-- kind -->` blocks, in page order, each command's output compared with the page
#      (`cargo test -p fox-operator --test docs_commands -- --ignored kind_blocks_run_in_a_cluster`
#      with this cluster's kubeconfig; it installs the chart again, runs the sample PostgreSQL
#      pair of examples/kind/blog-postgres.yaml and the blog resources in namespace default).
# The cluster is deleted at the end, whatever happened, unless KEEP_CLUSTER=1. On failure the
# FoxDB objects, events and operator logs are printed first.
#
#   bash e2e/kind/run.sh
#
# Needs docker, kind, kubectl, helm, curl, jq and cargo. Environment:
#   KIND_CLUSTER_NAME  cluster name (default foxdb-e2e; an existing one is reused)
#   FOX_E2E_IMAGE      image to build and load (default fox-operator:e2e-<time>-<pid>, a new tag
#                      per run, so a node never runs an image left by an earlier run)
#   FOX_E2E_TIMEOUT    timeout of each wait, in kubectl's form (default 300s; or 5m)
#   FOX_E2E_METRICS_PORT  local port for the /metrics port-forward (default 18080)
#   KEEP_CLUSTER=1     leave the cluster running afterwards
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
KIND_DIR=$ROOT/e2e/kind
MANIFESTS=$KIND_DIR/manifests
CLUSTER=${KIND_CLUSTER_NAME:-foxdb-e2e}
IMAGE=${FOX_E2E_IMAGE:-fox-operator:e2e-$(date +%s)-$$}
TIMEOUT=${FOX_E2E_TIMEOUT:-300s}
RELEASE=fox-operator
OPERATOR_NAMESPACE=fox-system
NAMESPACE=foxdb-e2e
# The database password of manifests/10-postgres.yaml and manifests/11-mysql.yaml.
PASSWORD=fox-e2e-pw-7Qz9xKw2
METRICS_LOCAL_PORT=${FOX_E2E_METRICS_PORT:-18080}
ENGINES=(pg mysql)

port_forward_pid=""
scratch=""

step() { printf '\n==> %s\n' "$*"; }
ok() { printf '    ok: %s\n' "$*"; }
fail() {
  printf '\nFAIL: %s\n' "$*" >&2
  exit 1
}

k() { kubectl --context "kind-$CLUSTER" "$@"; }
kn() { k --namespace "$NAMESPACE" "$@"; }

dump_diagnostics() {
  step "Diagnostics"
  echo "--- FoxDB objects"
  k get fxrs,fxs,fxm --all-namespaces -o yaml || true
  echo "--- pods"
  k get pods --all-namespaces -o wide || true
  echo "--- events"
  k get events --all-namespaces --sort-by=.lastTimestamp || true
  echo "--- operator logs"
  k --namespace "$OPERATOR_NAMESPACE" logs "deployment/$RELEASE" --all-containers --tail=-1 ||
    true
  k --namespace "$OPERATOR_NAMESPACE" logs "deployment/$RELEASE" --all-containers --previous \
    --tail=-1 2>/dev/null || true
}

cleanup() {
  local status=$?
  set +e
  if [[ -n $port_forward_pid ]]; then
    kill "$port_forward_pid" 2>/dev/null
    wait "$port_forward_pid" 2>/dev/null
  fi
  if ((status != 0)); then
    dump_diagnostics
  fi
  [[ -z $scratch ]] || rm -rf "$scratch"
  if [[ ${KEEP_CLUSTER:-0} == 1 ]]; then
    echo "KEEP_CLUSTER=1: cluster $CLUSTER left running (kubectl context kind-$CLUSTER);"
    echo "delete it with: kind delete cluster --name $CLUSTER"
  else
    step "Deleting kind cluster $CLUSTER"
    kind delete cluster --name "$CLUSTER"
  fi
  if ((status == 0)); then
    printf '\ne2e: all checks passed\n'
  else
    printf '\ne2e: FAILED (exit %s)\n' "$status" >&2
  fi
  exit "$status"
}

# --- SQL through kubectl exec, in the database pods

# sql ENGINE QUERY: one query, unaligned output without headers.
sql() {
  case $1 in
    pg) kn exec deployment/postgres -- psql -U blog -d blog -v ON_ERROR_STOP=1 -tAc "$2" ;;
    mysql)
      # The password comes from the pod's own environment, never from this script's arguments,
      # so the variables expand in the pod's shell, not here.
      # shellcheck disable=SC2016
      kn exec deployment/mysql -- sh -c \
        'MYSQL_PWD="$MYSQL_PASSWORD" mysql -u "$MYSQL_USER" "$MYSQL_DATABASE" -N -B -e "$1"' \
        sh "$2"
      ;;
    *) fail "unknown engine $1" ;;
  esac
}

current_schema() {
  case $1 in
    pg) echo "current_schema()" ;;
    mysql) echo "DATABASE()" ;;
  esac
}

count_tables() { # count_tables ENGINE NAME
  sql "$1" "SELECT COUNT(*) FROM information_schema.tables
            WHERE table_schema = $(current_schema "$1") AND table_name = '$2'"
}

count_columns() { # count_columns ENGINE TABLE COLUMN
  sql "$1" "SELECT COUNT(*) FROM information_schema.columns
            WHERE table_schema = $(current_schema "$1") AND table_name = '$2'
              AND column_name = '$3'"
}

count_indexes() { # count_indexes ENGINE TABLE INDEX
  case $1 in
    pg)
      sql pg "SELECT COUNT(*) FROM pg_indexes
              WHERE schemaname = current_schema() AND tablename = '$2' AND indexname = '$3'"
      ;;
    mysql)
      sql mysql "SELECT COUNT(DISTINCT index_name) FROM information_schema.statistics
                 WHERE table_schema = DATABASE() AND table_name = '$2' AND index_name = '$3'"
      ;;
  esac
}

expect_count() { # expect_count DESCRIPTION EXPECTED COMMAND...
  local description=$1 expected=$2 actual
  shift 2
  actual=$("$@" | tr -d '[:space:]') || fail "$description: the query failed"
  [[ $actual == "$expected" ]] || fail "$description: expected $expected, found '$actual'"
  ok "$description"
}

# TIMEOUT in seconds ("300s", "5m" or "300").
timeout_seconds() {
  case $TIMEOUT in
    *m) echo $((${TIMEOUT%m} * 60)) ;;
    *s) echo "${TIMEOUT%s}" ;;
    *) echo "$TIMEOUT" ;;
  esac
}

# eventually DESCRIPTION EXPECTED COMMAND...: like expect_count, retrying until TIMEOUT.
eventually() {
  local description=$1 expected=$2 actual="" deadline
  shift 2
  deadline=$((SECONDS + $(timeout_seconds)))
  while ((SECONDS < deadline)); do
    actual=$("$@" 2>/dev/null | tr -d '[:space:]') || true
    if [[ $actual == "$expected" ]]; then
      ok "$description"
      return
    fi
    sleep 3
  done
  fail "$description: expected $expected, still '$actual' after $TIMEOUT"
}

# --- Kubernetes objects

# schema_manifest VERSION-FILE ENGINE: the FoxSchema template for FoxReplicaSet blog-ENGINE.
schema_manifest() {
  sed "s/__DATABASE__/blog-$2/g" "$MANIFESTS/$1"
}

wait_ready() { # wait_ready KIND/NAME...
  kn wait --for=condition=Ready --timeout="$TIMEOUT" "$@"
  ok "Ready: $*"
}

wait_phase() { # wait_phase PHASE KIND/NAME...
  local phase=$1
  shift
  kn wait --for=jsonpath='{.status.phase}'="$phase" --timeout="$TIMEOUT" "$@"
  ok "phase $phase: $*"
}

migration_names() { # migration_names ENGINE
  kn get fxm -o name | grep "/blog-$1-"
}

require_tools() {
  local missing=()
  for tool in docker kind kubectl helm curl jq cargo; do
    command -v "$tool" >/dev/null || missing+=("$tool")
  done
  ((${#missing[@]} == 0)) || fail "missing tools: ${missing[*]}"
}

# --- The test

require_tools
trap cleanup EXIT
scratch=$(mktemp -d)

step "kind cluster $CLUSTER"
if kind get clusters | grep -qx "$CLUSTER"; then
  echo "reusing the existing cluster"
else
  kind create cluster --name "$CLUSTER" --wait 180s
fi
k cluster-info

step "PostgreSQL 15 and MySQL 8 (starting while the image builds)"
k apply -f "$MANIFESTS/00-namespace.yaml"
kn apply -f "$MANIFESTS/10-postgres.yaml" -f "$MANIFESTS/11-mysql.yaml"

step "Building $IMAGE and loading it into the cluster"
docker build --tag "$IMAGE" "$ROOT"
# Through an archive: `kind load docker-image` fails when Docker uses the containerd image
# store (the default of new Docker installs).
docker save "$IMAGE" --output "$scratch/image.tar"
kind load image-archive "$scratch/image.tar" --name "$CLUSTER"
rm -f "$scratch/image.tar"

step "Installing the Helm chart"
helm --kube-context "kind-$CLUSTER" upgrade --install "$RELEASE" "$ROOT/charts/fox-operator" \
  --namespace "$OPERATOR_NAMESPACE" --create-namespace \
  --values "$KIND_DIR/values.yaml" \
  --set "image.repository=${IMAGE%:*}" --set "image.tag=${IMAGE##*:}" \
  --wait --timeout "$TIMEOUT"
k wait --for=condition=Established --timeout=60s \
  crd/foxreplicasets.foxdb.dev crd/foxschemas.foxdb.dev crd/foxmigrations.foxdb.dev
k --namespace "$OPERATOR_NAMESPACE" rollout status "deployment/$RELEASE" --timeout="$TIMEOUT"
ok "operator running"
[[ $(k get crd foxschemas.foxdb.dev -o jsonpath='{.metadata.annotations.helm\.sh/resource-policy}') == keep ]] ||
  fail "the CRDs are not kept on uninstall"
ok "CRDs installed by the release, kept on uninstall"

step "Waiting for the databases"
kn rollout status deployment/postgres --timeout="$TIMEOUT"
kn rollout status deployment/mysql --timeout="$TIMEOUT"
expect_count "PostgreSQL answers" 1 sql pg "SELECT 1"
expect_count "MySQL answers" 1 sql mysql "SELECT 1"

step "FoxReplicaSets blog-pg and blog-mysql"
kn apply -f "$MANIFESTS/20-replicasets.yaml"
wait_ready fxrs/blog-pg fxrs/blog-mysql

step "FoxSchema version 1 (the blog schema)"
for engine in "${ENGINES[@]}"; do
  schema_manifest 30-schema-v1.yaml "$engine" | kn apply -f -
done
wait_ready fxs/blog-pg fxs/blog-mysql
for engine in "${ENGINES[@]}"; do
  for table in users profiles posts comments tags order post_tags; do
    expect_count "$engine: table $table exists" 1 count_tables "$engine" "$table"
  done
  expect_count "$engine: seed row in users" 1 \
    sql "$engine" "SELECT COUNT(*) FROM users WHERE email = 'admin@example.com'"
done

step "FoxMigrations 1 (a view) and 2 (an index)"
kn apply -f "$MANIFESTS/40-migrations-pg.yaml" -f "$MANIFESTS/41-migrations-mysql.yaml"
for engine in "${ENGINES[@]}"; do
  mapfile -t migrations < <(migration_names "$engine")
  ((${#migrations[@]} == 2)) || fail "expected 2 FoxMigrations of blog-$engine"
  wait_ready "${migrations[@]}"
  wait_phase Applied "${migrations[@]}"
  expect_count "$engine: view published_posts exists" 1 count_tables "$engine" published_posts
  expect_count "$engine: index posts_title_idx exists" 1 \
    count_indexes "$engine" posts posts_title_idx
done

step "FoxSchema version 2 (adds posts.summary)"
for engine in "${ENGINES[@]}"; do
  schema_manifest 31-schema-v2.yaml "$engine" | kn apply -f -
done
for engine in "${ENGINES[@]}"; do
  generation=$(kn get "fxs/blog-$engine" -o jsonpath='{.metadata.generation}')
  kn wait --for=jsonpath='{.status.appliedGeneration}'="$generation" --timeout="$TIMEOUT" \
    "fxs/blog-$engine"
  wait_ready "fxs/blog-$engine"
  eventually "$engine: column posts.summary exists" 1 count_columns "$engine" posts summary
  # The FoxSchema does not declare the index migration 2 made; a schema change must leave it.
  expect_count "$engine: index posts_title_idx survives the schema change" 1 \
    count_indexes "$engine" posts posts_title_idx
done

step "Rolling back to migration 1 (spec.rollbackTo: 1)"
for engine in "${ENGINES[@]}"; do
  kn patch "fxrs/blog-$engine" --type merge -p '{"spec":{"rollbackTo":1}}'
done
for engine in "${ENGINES[@]}"; do
  wait_phase RolledBack "fxm/blog-$engine-0002-posts-title-search"
  wait_phase Applied "fxm/blog-$engine-0001-published-posts-view"
  eventually "$engine: index posts_title_idx is gone" 0 \
    count_indexes "$engine" posts posts_title_idx
  expect_count "$engine: view published_posts is still there" 1 \
    count_tables "$engine" published_posts
done

step "Traffic through the published Services blog-pg-rw and blog-pg-ro"
# A client pod with the PostgreSQL tools; the password comes from the Secret, not this script.
client_query() { # client_query SERVICE: SELECT 1 through SERVICE, printed by a one-off pod
  local pod="pg-client-$1-$RANDOM"
  kn run "$pod" --image=postgres:15 --restart=Never --quiet \
    --overrides='{"spec":{"containers":[{"name":"'"$pod"'","image":"postgres:15","command":["psql","-h","'"$1"'","-U","blog","-d","blog","-tAc","SELECT 1"],"env":[{"name":"PGPASSWORD","valueFrom":{"secretKeyRef":{"name":"postgres-auth","key":"password"}}}]}]}}' \
    >/dev/null
  kn wait --for=jsonpath='{.status.phase}'=Succeeded --timeout=120s "pod/$pod" >/dev/null
  kn logs "pod/$pod"
  kn delete pod "$pod" --wait=false >/dev/null
}
slice_addresses() { # slice_addresses NAME: how many addresses the EndpointSlice lists
  kn get endpointslice "$1" -o jsonpath='{.endpoints[*].addresses[*]}' | wc -w
}
eventually "EndpointSlice blog-pg-rw lists the primary's pod address" 1 \
  slice_addresses blog-pg-rw
expect_count "a query through blog-pg-rw" 1 client_query blog-pg-rw
expect_count "a query through blog-pg-ro" 1 client_query blog-pg-ro

step "A plan that needs approval waits, applies once approved, and the approval is removed"
kn patch fxs/blog-pg --type json -p '[
  {"op": "replace", "path": "/spec/policy/requireApproval", "value": true},
  {"op": "add", "path": "/spec/tables/-", "value": {"name": "approved_things",
    "columns": [{"name": "id", "type": "bigint", "primaryKey": true}]}}]'
kn wait --for=jsonpath='{.status.conditions[?(@.type=="Ready")].reason}'=ApprovalPending \
  --timeout="$TIMEOUT" fxs/blog-pg
kn wait --for=condition=Stalled --timeout=60s fxs/blog-pg
expect_count "pg: nothing applied before approval" 0 count_tables pg approved_things
hash=$(kn get fxs/blog-pg -o jsonpath='{.status.plan.hash}')
[[ -n $hash ]] || fail "no plan hash in status"
kn annotate fxs/blog-pg "foxdb.dev/approve-plan=$hash" --overwrite
wait_ready fxs/blog-pg
expect_count "pg: the approved plan ran" 1 count_tables pg approved_things
eventually "pg: the approval annotation is removed after the apply" "" \
  kn get fxs/blog-pg -o jsonpath='{.metadata.annotations.foxdb\.dev/approve-plan}'

step "A destructive change is blocked and drops nothing"
kn patch fxs/blog-pg --type merge -p '{"spec":{"policy":{"requireApproval":false}}}'
wait_ready fxs/blog-pg
last=$(( $(kn get fxs/blog-pg -o jsonpath='{.spec.tables[*].name}' | wc -w) - 1 ))
kn patch fxs/blog-pg --type json -p "[{\"op\": \"remove\", \"path\": \"/spec/tables/$last\"}]"
kn wait --for=jsonpath='{.status.conditions[?(@.type=="Ready")].reason}'=DestructiveChange \
  --timeout="$TIMEOUT" fxs/blog-pg
kn wait --for=condition=Stalled --timeout=60s fxs/blog-pg
expect_count "pg: the table the change would drop is still there" 1 \
  count_tables pg approved_things
kn patch fxs/blog-pg --type json -p '[{"op": "add", "path": "/spec/tables/-", "value":
  {"name": "approved_things", "columns": [{"name": "id", "type": "bigint", "primaryKey": true}]}}]'
wait_ready fxs/blog-pg

step "An index dropped by hand is reported as drift"
index=$(sql mysql "SELECT index_name FROM information_schema.statistics
                   WHERE table_schema = DATABASE() AND table_name = 'posts'
                     AND column_name = 'published_at' LIMIT 1" | tr -d '[:space:]')
[[ -n $index ]] || fail "mysql: no index on posts.published_at"
sql mysql "DROP INDEX \`$index\` ON posts"
kn wait --for=condition=Drifted --timeout="$TIMEOUT" fxs/blog-mysql
ok "mysql: Drifted=True after the index was dropped"

step "Deleting a FoxSchema returns at once and keeps the tables"
kn delete fxs/blog-mysql --timeout=30s
ok "fxs/blog-mysql deleted without waiting for a finalizer"
expect_count "mysql: table posts is still there" 1 count_tables mysql posts

step "Leader failover: the other operator pod takes the Lease"
lease_holder() {
  k --namespace "$OPERATOR_NAMESPACE" get lease fox-operator -o jsonpath='{.spec.holderIdentity}'
}
leader=$(lease_holder)
[[ -n $leader ]] || fail "no operator pod holds the Lease"
k --namespace "$OPERATOR_NAMESPACE" delete pod "$leader" --wait=false
deadline=$((SECONDS + $(timeout_seconds)))
while :; do
  holder=$(lease_holder 2>/dev/null || true)
  [[ -n $holder && $holder != "$leader" ]] && break
  ((SECONDS < deadline)) || fail "no other pod took the Lease from $leader"
  sleep 2
done
ok "$holder took the Lease from $leader"
kn patch fxs/blog-pg --type json -p '[{"op": "add", "path": "/spec/tables/-", "value":
  {"name": "after_failover", "columns": [{"name": "id", "type": "bigint", "primaryKey": true}]}}]'
eventually "pg: the new leader applies a change" 1 count_tables pg after_failover

step "Operator /metrics"
# kubectl itself, not the k function: $! must be kubectl's pid for the kill below to reach it.
kubectl --context "kind-$CLUSTER" --namespace "$OPERATOR_NAMESPACE" port-forward \
  "service/$RELEASE-metrics" "$METRICS_LOCAL_PORT:8080" >"$scratch/port-forward.log" 2>&1 &
port_forward_pid=$!
metrics="$scratch/metrics.txt"
for _ in $(seq 1 30); do
  curl --silent --fail "http://127.0.0.1:$METRICS_LOCAL_PORT/metrics" -o "$metrics" && break
  sleep 1
done
[[ -s $metrics ]] ||
  fail "no answer from /metrics through port-forward: $(<"$scratch/port-forward.log")"
grep -q '^fox_reconcile_total' "$metrics" || fail "/metrics has no fox_reconcile_total"
ok "/metrics has fox_reconcile_total"
for path in healthz readyz; do
  curl --silent --fail "http://127.0.0.1:$METRICS_LOCAL_PORT/$path" >/dev/null ||
    fail "/$path does not answer 200"
  ok "/$path answers 200"
done
kill "$port_forward_pid"
wait "$port_forward_pid" 2>/dev/null || true
port_forward_pid=""

step "The database password appears nowhere the operator writes"
k --namespace "$OPERATOR_NAMESPACE" logs "deployment/$RELEASE" --all-containers --tail=-1 \
  >"$scratch/operator.log"
[[ -s $scratch/operator.log ]] || fail "the operator wrote no logs"
k get fxrs,fxs,fxm --all-namespaces -o yaml >"$scratch/objects.yaml"
k get events --all-namespaces -o yaml >"$scratch/events.yaml"
for file in metrics.txt operator.log objects.yaml events.yaml; do
  if grep -qF "$PASSWORD" "$scratch/$file"; then
    grep -nF "$PASSWORD" "$scratch/$file" | head -5 >&2
    fail "the database password appears in $file"
  fi
  ok "no password in $file"
done

step "The walkthrough of docs/operator.md"
# The page installs the chart itself, as a reader does: the release above goes first (the CRDs
# stay, as Helm keeps them).
helm --kube-context "kind-$CLUSTER" uninstall "$RELEASE" --namespace "$OPERATOR_NAMESPACE" --wait
kind get kubeconfig --name "$CLUSTER" >"$scratch/kubeconfig"
(cd "$ROOT" && KIND_CLUSTER_NAME=$CLUSTER FOX_DOCS_KUBECONFIG=$scratch/kubeconfig \
  cargo test -p fox-operator --test docs_commands -- --ignored --exact kind_blocks_run_in_a_cluster)
ok "every <!-- kind --> block of the docs printed what its page shows"
