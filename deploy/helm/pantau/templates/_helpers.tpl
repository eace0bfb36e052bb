{{/*
Helpers shared by every template. Server URLs are built here from the non-secret values (hosts,
ports, TLS) with the password as a Kubernetes dependent variable "$(VAR)": the password itself
comes from a Secret through secretKeyRef (declared first in the container's env), so no secret
value is ever rendered into a manifest.
*/}}

{{- define "pantau.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "pantau.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "pantau.labels" -}}
{{ include "pantau.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* selector labels of one process: (dict "root" $ "name" "tracking") */}}
{{- define "pantau.processSelector" -}}
{{ include "pantau.selectorLabels" .root }}
app.kubernetes.io/component: {{ .name }}
{{- end -}}

{{- define "pantau.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "pantau.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{ .Values.serviceAccount.name | default (include "pantau.fullname" .) }}
{{- else -}}
{{ .Values.serviceAccount.name | default "default" }}
{{- end -}}
{{- end -}}

{{/* ---- ports ---- */}}
{{- define "pantau.amqpPort" -}}
{{ .Values.rabbitmq.port | default (ternary 5671 5672 .Values.rabbitmq.tls) }}
{{- end -}}
{{- define "pantau.managementPort" -}}
{{ .Values.rabbitmq.managementPort | default (ternary 15671 15672 .Values.rabbitmq.tls) }}
{{- end -}}
{{- define "pantau.managementHost" -}}
{{ .Values.rabbitmq.managementHost | default (first (required "rabbitmq.hosts must list at least one node" .Values.rabbitmq.hosts)) }}
{{- end -}}

{{/* ---- URLs: (dict "root" $ "user" "pantau-intake" "var" "PANTAU_AMQP_PASSWORD_INTAKE") ---- */}}
{{- define "pantau.amqpUrls" -}}
{{- $v := .root.Values.rabbitmq -}}
{{- $scheme := ternary "amqps" "amqp" $v.tls -}}
{{- $port := include "pantau.amqpPort" .root -}}
{{- $urls := list -}}
{{- range (required "rabbitmq.hosts must list at least one node" $v.hosts) -}}
{{- $urls = append $urls (printf "%s://%s:$(%s)@%s:%s/%s" $scheme $.user $.var . $port $v.vhost) -}}
{{- end -}}
{{ join "," $urls }}
{{- end -}}

{{- define "pantau.managementUrl" -}}
{{- $scheme := ternary "https" "http" .root.Values.rabbitmq.tls -}}
{{ printf "%s://%s:$(%s)@%s:%s" $scheme .user .var (include "pantau.managementHost" .root) (include "pantau.managementPort" .root) }}
{{- end -}}

{{- define "pantau.elasticsearchUrls" -}}
{{- $v := .root.Values.elasticsearch -}}
{{- $scheme := ternary "https" "http" $v.tls -}}
{{- $urls := list -}}
{{- range (required "elasticsearch.hosts must list at least one node" $v.hosts) -}}
{{- $urls = append $urls (printf "%s://%s:$(%s)@%s:%v" $scheme $.user $.var . $v.port) -}}
{{- end -}}
{{ join "," $urls }}
{{- end -}}

{{/* (dict "root" $ "db" .Values.postgresql.tracking "var" "...") — several hosts: SQLAlchemy's
     psycopg2 form ?host=a:5432&host=b:5432 (libpq tries them in order) */}}
{{- define "pantau.postgresUrl" -}}
{{- $v := .root.Values.postgresql -}}
{{- $hosts := required "postgresql.hosts must list at least one host" $v.hosts -}}
{{- $query := list (printf "sslmode=%s" $v.sslmode) -}}
{{- if gt (len $hosts) 1 -}}
{{- range $hosts -}}{{- $query = append $query (printf "host=%s:%v" . $v.port) -}}{{- end -}}
{{- $query = append $query (printf "target_session_attrs=%s" $v.targetSessionAttrs) -}}
{{- printf "postgresql://%s:$(%s)@/%s?%s" .db.user .var .db.database (join "&" $query) -}}
{{- else -}}
{{- printf "postgresql://%s:$(%s)@%s:%v/%s?%s" .db.user .var (first $hosts) $v.port .db.database (join "&" $query) -}}
{{- end -}}
{{- end -}}

{{/* an env entry from a Secret: (dict "name" "VAR" "secret" "s" "key" "k") */}}
{{- define "pantau.secretEnv" -}}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ required (printf "a Secret name for %s" .name) .secret }}
      key: {{ required (printf "a Secret key for %s" .name) .key }}
{{- end -}}

{{/* settings every process and job gets */}}
{{- define "pantau.commonEnv" -}}
- name: PANTAU_ENV
  value: {{ .Values.env | quote }}
- name: PANTAU_LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
- name: PANTAU_STATE_DIR
  value: /var/lib/pantau
- name: HOME
  value: /tmp
- name: PYTHONDONTWRITEBYTECODE
  value: "1"
{{- if .Values.tlsCaSecret }}
- name: SSL_CERT_FILE
  value: /etc/pantau/ca/ca.crt
- name: PGSSLROOTCERT
  value: /etc/pantau/ca/ca.crt
{{- end }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* the env of one process: (dict "root" $ "name" "tracking" "p" $process) */}}
{{- define "pantau.processEnv" -}}
{{- $root := .root -}}
{{- $rmq := $root.Values.rabbitmq -}}
{{- $pg := $root.Values.postgresql -}}
{{- $es := $root.Values.elasticsearch -}}
{{- $sec := $root.Values.secrets -}}
{{ include "pantau.commonEnv" $root }}
{{- if eq .name "intake-http" "intake-ingress" "intake-outcomes" }}
{{ include "pantau.secretEnv" (dict "name" "PANTAU_AMQP_PASSWORD_INTAKE" "secret" $rmq.existingSecret "key" $rmq.passwordKeys.intake) }}
{{ include "pantau.secretEnv" (dict "name" "PANTAU_INTAKE_DB_PASSWORD" "secret" $pg.existingSecret "key" $pg.passwordKeys.intake) }}
- name: PANTAU_INTAKE_AMQP_URL
  value: {{ include "pantau.amqpUrls" (dict "root" $root "user" "pantau-intake" "var" "PANTAU_AMQP_PASSWORD_INTAKE") | quote }}
- name: PANTAU_INTAKE_DATABASE_URL
  value: {{ include "pantau.postgresUrl" (dict "root" $root "db" $pg.intake "var" "PANTAU_INTAKE_DB_PASSWORD") | quote }}
{{- end }}
{{- if eq .name "intake-http" "intake-outcomes" }}
{{ include "pantau.secretEnv" (dict "name" "PANTAU_INTAKE_MASTER_KEY" "secret" $sec.existingSecret "key" $sec.intakeMasterKey) }}
{{- end }}
{{- if eq .name "intake-http" }}
- name: PANTAU_INTAKE_HOST
  value: 0.0.0.0
- name: PANTAU_INTAKE_PORT
  value: {{ .p.port | quote }}
{{- end }}
{{- if eq .name "intake-ingress" }}
- name: PANTAU_INGRESS_HEALTH_PORT
  value: {{ .p.healthPort | quote }}
{{- end }}
{{- if eq .name "intake-outcomes" }}
- name: PANTAU_OUTCOMES_HEALTH_PORT
  value: {{ .p.healthPort | quote }}
{{- end }}
{{- if eq .name "tracking" }}
{{ include "pantau.secretEnv" (dict "name" "PANTAU_AMQP_PASSWORD_TRACKING" "secret" $rmq.existingSecret "key" $rmq.passwordKeys.tracking) }}
{{ include "pantau.secretEnv" (dict "name" "PANTAU_TRACKING_DB_PASSWORD" "secret" $pg.existingSecret "key" $pg.passwordKeys.tracking) }}
{{ include "pantau.secretEnv" (dict "name" "PANTAU_TRANSPARENCY_SIGNING_KEY" "secret" $sec.existingSecret "key" $sec.transparencySigningKey) }}
- name: PANTAU_TRACKING_AMQP_URL
  value: {{ include "pantau.amqpUrls" (dict "root" $root "user" "pantau-tracking" "var" "PANTAU_AMQP_PASSWORD_TRACKING") | quote }}
- name: PANTAU_DATABASE_URL
  value: {{ include "pantau.postgresUrl" (dict "root" $root "db" $pg.tracking "var" "PANTAU_TRACKING_DB_PASSWORD") | quote }}
- name: PANTAU_TRANSPARENCY_ORIGIN
  value: {{ $root.Values.transparencyOrigin | quote }}
- name: PANTAU_TRACKING_HEALTH_PORT
  value: {{ .p.healthPort | quote }}
{{- end }}
{{- if eq .name "indexer" }}
{{ include "pantau.secretEnv" (dict "name" "PANTAU_AMQP_PASSWORD_INDEXER" "secret" $rmq.existingSecret "key" $rmq.passwordKeys.indexer) }}
{{ include "pantau.secretEnv" (dict "name" "PANTAU_ES_PASSWORD" "secret" $es.existingSecret "key" $es.passwordKeys.indexer) }}
- name: PANTAU_INDEXER_AMQP_URL
  value: {{ include "pantau.amqpUrls" (dict "root" $root "user" "pantau-indexer" "var" "PANTAU_AMQP_PASSWORD_INDEXER") | quote }}
- name: PANTAU_ELASTICSEARCH_URL
  value: {{ include "pantau.elasticsearchUrls" (dict "root" $root "user" $es.indexerUser "var" "PANTAU_ES_PASSWORD") | quote }}
- name: PANTAU_INDEXER_HEALTH_PORT
  value: {{ .p.healthPort | quote }}
{{- end }}
{{- if eq .name "portal" }}
{{ include "pantau.secretEnv" (dict "name" "PANTAU_ES_PASSWORD" "secret" $es.existingSecret "key" $es.passwordKeys.portal) }}
{{ include "pantau.secretEnv" (dict "name" "PANTAU_PORTAL_DB_PASSWORD" "secret" $pg.existingSecret "key" $pg.passwordKeys.portal) }}
- name: PANTAU_ELASTICSEARCH_URL
  value: {{ include "pantau.elasticsearchUrls" (dict "root" $root "user" $es.portalUser "var" "PANTAU_ES_PASSWORD") | quote }}
- name: PANTAU_TRANSPARENCY_DATABASE_URL
  value: {{ include "pantau.postgresUrl" (dict "root" $root "db" $pg.portal "var" "PANTAU_PORTAL_DB_PASSWORD") | quote }}
- name: PANTAU_PORTAL_HOST
  value: 0.0.0.0
- name: PANTAU_PORTAL_PORT
  value: {{ .p.port | quote }}
- name: PANTAU_PUBLIC_BASE_URL
  value: {{ required "publicBaseUrl: the portal's public address (feeds and links carry it; production refuses to start without it)" $root.Values.publicBaseUrl | quote }}
{{ include "pantau.secretEnv" (dict "name" "PANTAU_SURVEY_SECRET" "secret" $sec.existingSecret "key" $sec.surveySecret) }}
{{- end }}
{{- if eq .name "portal" "mailer" }}
{{ include "pantau.secretEnv" (dict "name" "PANTAU_CITIZEN_DB_PASSWORD" "secret" $pg.existingSecret "key" $pg.passwordKeys.citizen) }}
- name: PANTAU_CITIZEN_DATABASE_URL
  value: {{ include "pantau.postgresUrl" (dict "root" $root "db" $pg.citizen "var" "PANTAU_CITIZEN_DB_PASSWORD") | quote }}
{{- end }}
{{- if eq .name "mailer" }}
{{- $smtp := $root.Values.smtp }}
{{ include "pantau.secretEnv" (dict "name" "PANTAU_AMQP_PASSWORD_MAILER" "secret" $rmq.existingSecret "key" $rmq.passwordKeys.mailer) }}
- name: PANTAU_MAILER_AMQP_URL
  value: {{ include "pantau.amqpUrls" (dict "root" $root "user" "pantau-mailer" "var" "PANTAU_AMQP_PASSWORD_MAILER") | quote }}
- name: PANTAU_MAILER_HEALTH_PORT
  value: {{ .p.healthPort | quote }}
- name: PANTAU_PUBLIC_BASE_URL
  value: {{ required "publicBaseUrl: the portal's public address (every mail's links carry it)" $root.Values.publicBaseUrl | quote }}
- name: PANTAU_SMTP_HOST
  value: {{ required "smtp.host: the SMTP relay the mailer sends through" $smtp.host | quote }}
- name: PANTAU_SMTP_PORT
  value: {{ $smtp.port | quote }}
- name: PANTAU_SMTP_STARTTLS
  value: {{ $smtp.starttls | quote }}
- name: PANTAU_MAIL_FROM
  value: {{ required "smtp.mailFrom: the sender of follower mail" $smtp.mailFrom | quote }}
{{- if $smtp.username }}
- name: PANTAU_SMTP_USERNAME
  value: {{ $smtp.username | quote }}
{{ include "pantau.secretEnv" (dict "name" "PANTAU_SMTP_PASSWORD" "secret" $smtp.existingSecret "key" $smtp.passwordKey) }}
{{- end }}
{{- end }}
{{- if eq .p.kind "nameko" }}
- name: PANTAU_HEALTH_HOST
  value: 0.0.0.0
{{- end }}
{{- end -}}

{{/* the operator's env (jobs): full rights on the vhost, every service user's password */}}
{{- define "pantau.operatorEnv" -}}
{{- $rmq := .Values.rabbitmq -}}
{{ include "pantau.commonEnv" . }}
{{ include "pantau.secretEnv" (dict "name" "PANTAU_RABBITMQ_OPERATOR_PASSWORD" "secret" $rmq.existingSecret "key" $rmq.passwordKeys.operator) }}
{{ include "pantau.secretEnv" (dict "name" "PANTAU_AMQP_PASSWORD_INTAKE" "secret" $rmq.existingSecret "key" $rmq.passwordKeys.intake) }}
{{ include "pantau.secretEnv" (dict "name" "PANTAU_AMQP_PASSWORD_TRACKING" "secret" $rmq.existingSecret "key" $rmq.passwordKeys.tracking) }}
{{ include "pantau.secretEnv" (dict "name" "PANTAU_AMQP_PASSWORD_INDEXER" "secret" $rmq.existingSecret "key" $rmq.passwordKeys.indexer) }}
{{ include "pantau.secretEnv" (dict "name" "PANTAU_AMQP_PASSWORD_MAILER" "secret" $rmq.existingSecret "key" $rmq.passwordKeys.mailer) }}
- name: PANTAU_AMQP_URL
  value: {{ include "pantau.amqpUrls" (dict "root" . "user" $rmq.operatorUser "var" "PANTAU_RABBITMQ_OPERATOR_PASSWORD") | quote }}
- name: PANTAU_AMQP_MANAGEMENT_URL
  value: {{ include "pantau.managementUrl" (dict "root" . "user" $rmq.operatorUser "var" "PANTAU_RABBITMQ_OPERATOR_PASSWORD") | quote }}
{{- end -}}

{{- define "pantau.volumes" -}}
# read-only root filesystem: the state folder and /tmp are the only writable places
- name: state
  emptyDir: {sizeLimit: 256Mi}
- name: tmp
  emptyDir: {sizeLimit: 256Mi}
{{- if .Values.tlsCaSecret }}
- name: ca
  secret:
    secretName: {{ .Values.tlsCaSecret }}
    items: [{key: ca.crt, path: ca.crt}]
{{- end }}
{{- end -}}

{{- define "pantau.volumeMounts" -}}
- name: state
  mountPath: /var/lib/pantau
- name: tmp
  mountPath: /tmp
{{- if .Values.tlsCaSecret }}
- name: ca
  mountPath: /etc/pantau/ca
  readOnly: true
{{- end }}
{{- end -}}

{{- define "pantau.podSpecCommon" -}}
serviceAccountName: {{ include "pantau.serviceAccountName" . }}
automountServiceAccountToken: false
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
volumes:
  {{- include "pantau.volumes" . | nindent 2 }}
{{- end -}}
