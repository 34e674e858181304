{{/*
Chart name, truncated to the 63 characters of a DNS label.
*/}}
{{- define "connector-events.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Full name: the release name, plus the chart name unless the release name already contains it.
*/}}
{{- define "connector-events.fullname" -}}
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

{{/*
Chart name and version, for the helm.sh/chart label.
*/}}
{{- define "connector-events.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels of every object.
*/}}
{{- define "connector-events.labels" -}}
helm.sh/chart: {{ include "connector-events.chart" . }}
{{ include "connector-events.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: connector-events
{{- end }}

{{/*
Selector labels (immutable on a Deployment: never add a label that changes between upgrades).
*/}}
{{- define "connector-events.selectorLabels" -}}
app.kubernetes.io/name: {{ include "connector-events.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
The roles deployed: ["all"], or ["poller", "ingress"] with split.enabled. Use with fromJsonArray.
*/}}
{{- define "connector-events.roles" -}}
{{- if .Values.split.enabled }}["poller","ingress"]{{ else }}["all"]{{ end }}
{{- end }}

{{/*
Name of a role's objects (Deployment, HPA, PDB): the fullname for role all, else `<fullname>-<role>`.
Call with (dict "root" $ "role" $role).
*/}}
{{- define "connector-events.roleName" -}}
{{- $fullname := include "connector-events.fullname" .root }}
{{- if eq .role "all" }}{{ $fullname }}{{ else }}{{ printf "%s-%s" ($fullname | trunc 55 | trimSuffix "-") .role }}{{ end }}
{{- end }}

{{/*
Selector labels of one role's pods. Call with (dict "root" $ "role" $role).
*/}}
{{- define "connector-events.roleSelectorLabels" -}}
{{ include "connector-events.selectorLabels" .root }}
app.kubernetes.io/component: {{ .role }}
{{- end }}

{{/*
The per-role settings (replicaCount, resources, hpa, pdb): split.<role> merged over the top-level values.
Call with (dict "root" $ "role" $role); returns YAML, use with fromYaml.
*/}}
{{- define "connector-events.roleValues" -}}
{{- $v := .root.Values }}
{{- $defaults := dict "replicaCount" $v.replicaCount "resources" (deepCopy $v.resources) "hpa" (deepCopy $v.hpa) "pdb" (deepCopy $v.pdb) }}
{{- if eq .role "all" }}
{{- toYaml $defaults }}
{{- else }}
{{- $own := deepCopy (index $v.split .role) }}
{{- $merged := dict "replicaCount" $own.replicaCount "resources" (default $defaults.resources $own.resources) "hpa" (mergeOverwrite (deepCopy $defaults.hpa) ($own.hpa | default dict)) "pdb" (mergeOverwrite (deepCopy $defaults.pdb) ($own.pdb | default dict)) }}
{{- toYaml $merged }}
{{- end }}
{{- end }}

{{/*
Name of the ServiceAccount.
*/}}
{{- define "connector-events.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "connector-events.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
Secret of the Kafka SASL credentials: the existing one, or the chart-created one when a password is inline;
empty when SASL credentials are not configured.
*/}}
{{- define "connector-events.kafkaSecretName" -}}
{{- if .Values.kafka.sasl.existingSecret }}
{{- .Values.kafka.sasl.existingSecret }}
{{- else if .Values.kafka.sasl.password }}
{{- printf "%s-kafka" (include "connector-events.fullname" .) }}
{{- end }}
{{- end }}

{{/*
Secret of the webhook and provider secrets: the existing one, or the chart-created one when values are inline;
empty when there is none.
*/}}
{{- define "connector-events.secretsName" -}}
{{- if .Values.secrets.existingSecret }}
{{- .Values.secrets.existingSecret }}
{{- else if .Values.secrets.values }}
{{- printf "%s-secrets" (include "connector-events.fullname" .) }}
{{- end }}
{{- end }}

{{/*
Secret of the admin API token: the existing one, or the chart-created one when the token is inline; empty when the
admin API is off.
*/}}
{{- define "connector-events.adminSecretName" -}}
{{- if .Values.admin.existingSecret }}
{{- .Values.admin.existingSecret }}
{{- else if .Values.admin.token }}
{{- printf "%s-admin" (include "connector-events.fullname" .) }}
{{- end }}
{{- end }}

{{/*
Image reference; the tag defaults to the chart's appVersion.
*/}}
{{- define "connector-events.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/*
Checks of value combinations the schema cannot express; fails the render with the value to fix.
*/}}
{{- define "connector-events.validate" -}}
{{- if hasPrefix "SASL_" .Values.kafka.securityProtocol }}
{{- if not .Values.kafka.saslMechanism }}
{{- fail "kafka.securityProtocol SASL_* needs kafka.saslMechanism (PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512)" }}
{{- end }}
{{- if not (include "connector-events.kafkaSecretName" .) }}
{{- fail "kafka.securityProtocol SASL_* needs kafka.sasl.existingSecret, or kafka.sasl.username and kafka.sasl.password" }}
{{- end }}
{{- if and (not .Values.kafka.sasl.existingSecret) (not .Values.kafka.sasl.username) }}
{{- fail "kafka.sasl.password is set inline but kafka.sasl.username is empty" }}
{{- end }}
{{- end }}
{{- if and .Values.secrets.asFiles (not (include "connector-events.secretsName" .)) }}
{{- fail "secrets.asFiles needs secrets.existingSecret or secrets.values" }}
{{- end }}
{{- end }}
