{{/*
Names, labels and the RBAC rules shared by the templates.
*/}}

{{/* The chart name, or nameOverride. */}}
{{- define "fox-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The name of every resource: fullnameOverride, else the release name when it already contains the
chart name, else "<release>-<chart>". Kept to 63 characters, the limit of a DNS label.
*/}}
{{- define "fox-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* "name-version" for the helm.sh/chart label. */}}
{{- define "fox-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels that select the operator pods; they never change across upgrades. */}}
{{- define "fox-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "fox-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels on every resource. */}}
{{- define "fox-operator.labels" -}}
helm.sh/chart: {{ include "fox-operator.chart" . }}
{{ include "fox-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: operator
app.kubernetes.io/part-of: foxdb
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* The ServiceAccount the operator runs as. */}}
{{- define "fox-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "fox-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The operator image: "repository@digest" when image.digest is set (the tag is then ignored),
else "repository:tag" with the tag defaulting to the chart's appVersion.
*/}}
{{- define "fox-operator.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
The rules the operator needs on its custom resources, Secrets, Services, ConfigMaps,
EndpointSlices and Events, wherever it watches. They must equal CLUSTER_PERMISSIONS in
operator/src/controller/rbac.rs, rule for rule and in order: operator/tests/chart_rbac.rs renders
this chart and compares.
*/}}
{{- define "fox-operator.watchRules" -}}
- apiGroups: ["foxdb.dev"]
  resources: ["foxreplicasets"]
  verbs: ["get", "list", "watch", "patch"]
- apiGroups: ["foxdb.dev"]
  resources: ["foxschemas", "foxmigrations"]
  verbs: ["list", "watch", "patch"]
- apiGroups: ["foxdb.dev"]
  resources: ["foxreplicasets/status", "foxschemas/status", "foxmigrations/status"]
  verbs: ["patch"]
{{- if not .Values.rbac.secretNamespaces }}
{{ include "fox-operator.secretRules" . }}
{{- end }}
- apiGroups: ["events.k8s.io"]
  resources: ["events"]
  verbs: ["create", "patch"]
{{- end }}

{{/*
Reading Secrets (the connection URLs FoxReplicaSets name) and writing the Services, ConfigMaps
and EndpointSlices a FoxReplicaSet publishes: with the rules above, or, with
rbac.secretNamespaces, by a Role in each of those namespaces only. They must equal
SECRET_PERMISSIONS in operator/src/controller/rbac.rs (checked by operator/tests/chart_rbac.rs).
*/}}
{{- define "fox-operator.secretRules" -}}
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "list", "watch"]
- apiGroups: [""]
  resources: ["services", "configmaps"]
  verbs: ["get", "list", "watch", "create", "patch"]
- apiGroups: ["discovery.k8s.io"]
  resources: ["endpointslices"]
  verbs: ["get", "list", "watch", "create", "patch"]
{{- end }}

{{/*
The rules for the leader-election Lease in the release namespace. They must equal
LEASE_PERMISSIONS in operator/src/controller/rbac.rs (checked by operator/tests/chart_rbac.rs).
*/}}
{{- define "fox-operator.leaseRules" -}}
- apiGroups: ["coordination.k8s.io"]
  resources: ["leases"]
  verbs: ["get", "create", "update"]
{{- end }}
