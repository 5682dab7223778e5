package monorepo

import (
	"fmt"
	"sort"
	"strings"

	"github.com/fleetdeck/fleetdeck/internal/sandbox/scenario"
)

// profile is what the monorepo says about a service beyond the scenario's
// facts: its port, default config and what people tend to change on it.
type profile struct {
	description string
	port        int
	// config is the service's ConfigMap content (key, value) in file order;
	// empty means the chart has no ConfigMap.
	config [][2]string
	// configPool are keys people add to the ConfigMap over time.
	configPool [][2]string
	// flagPool are feature flags people add to an environment's env list.
	flagPool []string
	// feature is the work done on a feature branch and merged by pull request.
	feature feature
}

type feature struct {
	branch, title string
	configKeys    [][2]string
}

func profileOf(name string) profile {
	switch name {
	case scenario.AuthService:
		return profile{
			description: "Login, sessions and API tokens for the shop.",
			port:        8080,
			config:      [][2]string{{"SESSION_TTL_SECONDS", `"3600"`}, {"TOKEN_ISSUER", "https://auth.shop.fleetdeck.test"}},
			configPool:  [][2]string{{"PASSWORD_MIN_LENGTH", `"12"`}, {"MFA_GRACE_DAYS", `"7"`}, {"JWKS_CACHE_SECONDS", `"300"`}},
			flagPool:    []string{"FEATURE_PASSKEYS", "FEATURE_SSO_GOOGLE", "FEATURE_RISK_SCORING"},
			feature:     feature{"feature/auth-passkeys", "passkey login", [][2]string{{"WEBAUTHN_RP_ID", "shop.fleetdeck.test"}}},
		}
	case scenario.PaymentsAPI:
		return profile{
			description: "Payment intents, captures and refunds against the PSPs.",
			port:        8080,
			config:      [][2]string{{"PSP_TIMEOUT_MS", `"4000"`}, {"DEFAULT_CURRENCY", "EUR"}},
			configPool:  [][2]string{{"REFUND_WINDOW_DAYS", `"30"`}, {"PSP_RETRY_MAX", `"3"`}, {"WEBHOOK_TOLERANCE_SECONDS", `"300"`}},
			flagPool:    []string{"FEATURE_APPLE_PAY", "FEATURE_PARTIAL_CAPTURE", "FEATURE_IDEMPOTENCY_V2"},
			feature:     feature{"feature/payments-3ds", "3-D Secure settings", [][2]string{{"THREEDS_PROVIDER", "adyen"}, {"THREEDS_CHALLENGE_TIMEOUT_MS", `"15000"`}}},
		}
	case scenario.CheckoutWeb:
		return profile{
			description: "Server-rendered checkout pages.",
			port:        3000,
			flagPool:    []string{"FEATURE_ONE_CLICK_CHECKOUT", "FEATURE_NEW_ADDRESS_FORM", "FEATURE_GIFT_WRAP", "FEATURE_EXPRESS_SHIPPING"},
		}
	case scenario.SearchIndexer:
		return profile{
			description: "Consumes catalog changes and feeds the search index.",
			port:        9090,
			config:      [][2]string{{"INDEX_BATCH_SIZE", `"500"`}, {"INDEX_NAME", "products-v3"}},
			configPool:  [][2]string{{"REINDEX_CRON", `"0 3 * * *"`}, {"MAX_LAG_SECONDS", `"120"`}},
			flagPool:    []string{"FEATURE_SYNONYMS", "FEATURE_VECTOR_FIELDS"},
		}
	case scenario.NotificationWorker:
		return profile{
			description: "Sends e-mail, SMS and push notifications from the events queue.",
			port:        8080,
			config:      [][2]string{{"SMTP_HOST", "smtp.mail.fleetdeck.test"}, {"QUEUE_NAME", "notifications"}},
			configPool:  [][2]string{{"SMS_PROVIDER", "twilio"}, {"MAX_RETRIES", `"5"`}, {"QUIET_HOURS", `"22-07"`}},
			flagPool:    []string{"FEATURE_PUSH_IOS", "FEATURE_DIGEST_EMAIL"},
		}
	case scenario.CatalogAPI:
		return profile{
			description: "Products, prices and stock for the storefront.",
			port:        8080,
			flagPool:    []string{"FEATURE_BUNDLES", "FEATURE_PRICE_HISTORY", "FEATURE_STOCK_RESERVATION"},
		}
	case scenario.Ledger:
		return profile{
			description: "Double-entry ledger of every money movement.",
			port:        8080,
			config:      [][2]string{{"LOG_LEVEL", "info"}, {"DB_POOL_SIZE", `"10"`}},
			configPool:  [][2]string{{"SNAPSHOT_INTERVAL", "15m"}, {"AUDIT_TOPIC", "ledger.audit"}, {"STATEMENT_TIMEOUT_MS", `"5000"`}},
		}
	}
	return profile{description: "Service " + name + ".", port: 8080,
		flagPool: []string{"FEATURE_A", "FEATURE_B"}}
}

// envLong is the ENVIRONMENT value of an environment.
func envLong(env string) string {
	if env == "prod" {
		return "production"
	}
	return "staging"
}

// clustersOf lists the clusters where the app runs in env, in fleet order.
func clustersOf(app scenario.App, env string) []string {
	var out []string
	for _, c := range scenario.Clusters {
		if _, ok := app.Instances[c]; ok && scenario.Env(c) == env {
			out = append(out, c)
		}
	}
	return out
}

// initial sizing per environment: stage runs smaller.
type sizing struct {
	replicas         int
	cpuReq, memReq   string
	memLimit, logLvl string
}

func sizingOf(app scenario.App, env string) sizing {
	if env == "prod" {
		return sizing{replicas: app.Replicas, cpuReq: "250m", memReq: "256Mi", memLimit: "512Mi", logLvl: "info"}
	}
	return sizing{replicas: 1, cpuReq: "100m", memReq: "128Mi", memLimit: "256Mi", logLvl: "debug"}
}

// repl fills the upper-case placeholders of a file template.
func repl(app scenario.App, p profile, text string) string {
	// Longer placeholders first: the replacer tries them in argument order.
	return strings.NewReplacer(
		"APPNAMESPACE", app.Namespace,
		"APPNAME", app.Name,
		"APPIMAGE", app.Image(),
		"APPPORT", fmt.Sprint(p.port),
		"APPDESCRIPTION", p.description,
	).Replace(text)
}

// serviceFiles returns the initial files of one app, keyed by repo path.
func serviceFiles(app scenario.App, tags map[string]string) map[string]string {
	p := profileOf(app.Name)
	files := map[string]string{}
	add := func(rel, text string) { files[app.Path+"/"+rel] = repl(app, p, text) }
	switch app.Render {
	case scenario.Helm:
		add("Chart.yaml", chartYAML)
		add("values.yaml", helmValues(app, p, tags["prod"]))
		add("templates/_helpers.tpl", helpersTpl)
		add("templates/deployment.yaml", deploymentTpl)
		add("templates/service.yaml", serviceTpl)
		if len(p.config) > 0 {
			add("templates/configmap.yaml", configmapTpl)
		}
		for _, env := range []string{"prod", "stage"} {
			add("values-"+env+".yaml", helmEnvValues(app, env, tags[env]))
		}
	case scenario.Kustomize:
		add("base/kustomization.yaml", kustomizeBase)
		add("base/deployment.yaml", kustomizeDeployment)
		add("base/service.yaml", kustomizeService)
		for _, env := range []string{"prod", "stage"} {
			ov := "overlays/" + overlayOf(env) + "/"
			add(ov+"kustomization.yaml", kustomizeOverlay(app, env, tags[env]))
			add(ov+"deployment-patch.yaml", kustomizePatch(app, env))
		}
	case scenario.PlainYAML:
		add("deployment.yaml", plainDeployment(app, tags["prod"]))
		add("service.yaml", plainService)
		add("configmap.yaml", plainConfigMap(p))
	}
	return files
}

// overlayOf is the kustomize overlay directory of an environment.
func overlayOf(env string) string {
	for _, c := range scenario.Clusters {
		if scenario.Env(c) == env {
			return scenario.Overlay(c)
		}
	}
	return env
}

const chartYAML = `apiVersion: v2
name: APPNAME
description: APPDESCRIPTION
type: application
version: 0.7.0
appVersion: "1.0.0"
`

func helmValues(app scenario.App, p profile, tag string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `# Default values for %[1]s.
# Environment overrides live in values-prod.yaml and values-stage.yaml;
# CI bumps image.tag there, not here.

replicaCount: %[2]d

image:
  repository: %[3]s
  tag: %[4]s
  pullPolicy: IfNotPresent

nameOverride: ""
fullnameOverride: ""

podAnnotations: {}

service:
  type: ClusterIP
  port: 80
  targetPort: %[5]d

env:
  - name: HTTP_PORT
    value: "%[5]d"
  - name: OTEL_SERVICE_NAME
    value: %[1]s

extraEnv: []

resources:
  requests:
    cpu: 100m
    memory: 128Mi
  limits:
    memory: 256Mi
`, app.Name, app.Replicas, app.Image(), tag, p.port)
	if len(p.config) > 0 {
		b.WriteString("\n# Rendered into the <name>-config ConfigMap and loaded with envFrom.\nconfig:\n")
		for _, kv := range p.config {
			fmt.Fprintf(&b, "  %s: %s\n", kv[0], kv[1])
		}
	}
	return b.String()
}

func helmEnvValues(app scenario.App, env, tag string) string {
	s := sizingOf(app, env)
	return fmt.Sprintf(`# %[1]s values for %[2]s (%[3]s).
# image.tag is bumped by CI on every build; change the rest by pull request.
image:
  tag: %[4]s

replicaCount: %[5]d

extraEnv:
  - name: ENVIRONMENT
    value: %[6]s
  - name: LOG_LEVEL
    value: %[7]s

resources:
  requests:
    cpu: %[8]s
    memory: %[9]s
  limits:
    memory: %[10]s
`, strings.ToUpper(env[:1])+env[1:], app.Name, strings.Join(clustersOf(app, env), ", "), tag,
		s.replicas, envLong(env), s.logLvl, s.cpuReq, s.memReq, s.memLimit)
}

const helpersTpl = `{{/*
Expand the name of the chart.
*/}}
{{- define "APPNAME.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified app name. It does not include the release name: the
workload keeps the service's name on every cluster, so dashboards and
alerts match whatever the release is called.
*/}}
{{- define "APPNAME.fullname" -}}
{{- default .Chart.Name .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Chart name and version as used by the chart label.
*/}}
{{- define "APPNAME.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Common labels
*/}}
{{- define "APPNAME.labels" -}}
helm.sh/chart: {{ include "APPNAME.chart" . }}
{{ include "APPNAME.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: shop
{{- end }}

{{/*
Selector labels
*/}}
{{- define "APPNAME.selectorLabels" -}}
app.kubernetes.io/name: {{ include "APPNAME.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}
`

const deploymentTpl = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "APPNAME.fullname" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "APPNAME.labels" . | nindent 4 }}
spec:
  replicas: {{ .Values.replicaCount }}
  revisionHistoryLimit: 5
  # Fail fast: a rollout that makes no progress for a minute is reported.
  progressDeadlineSeconds: 60
  selector:
    matchLabels:
      {{- include "APPNAME.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      {{- if or .Values.podAnnotations .Values.config }}
      annotations:
        {{- with .Values.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
        {{- if .Values.config }}
        checksum/config: {{ include (print $.Template.BasePath "/configmap.yaml") . | sha256sum }}
        {{- end }}
      {{- end }}
      labels:
        {{- include "APPNAME.selectorLabels" . | nindent 8 }}
    spec:
      containers:
        - name: {{ .Chart.Name }}
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"
          imagePullPolicy: {{ .Values.image.pullPolicy }}
          ports:
            - name: http
              containerPort: {{ .Values.service.targetPort }}
              protocol: TCP
          env:
            {{- range concat .Values.env .Values.extraEnv }}
            - name: {{ .name }}
              value: {{ .value | quote }}
            {{- end }}
          {{- if .Values.config }}
          envFrom:
            - configMapRef:
                name: {{ include "APPNAME.fullname" . }}-config
          {{- end }}
          readinessProbe:
            httpGet:
              path: /healthz
              port: http
            periodSeconds: 10
          resources:
            {{- toYaml .Values.resources | nindent 12 }}
`

const serviceTpl = `apiVersion: v1
kind: Service
metadata:
  name: {{ include "APPNAME.fullname" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "APPNAME.labels" . | nindent 4 }}
spec:
  type: {{ .Values.service.type }}
  ports:
    - port: {{ .Values.service.port }}
      targetPort: http
      protocol: TCP
      name: http
  selector:
    {{- include "APPNAME.selectorLabels" . | nindent 4 }}
`

const configmapTpl = `{{- if .Values.config }}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "APPNAME.fullname" . }}-config
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "APPNAME.labels" . | nindent 4 }}
data:
  {{- range $key, $value := .Values.config }}
  {{ $key }}: {{ $value | quote }}
  {{- end }}
{{- end }}
`

const kustomizeBase = `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - deployment.yaml
  - service.yaml
labels:
  - pairs:
      app.kubernetes.io/part-of: shop
      app.kubernetes.io/managed-by: kustomize
    includeTemplates: true
`

const kustomizeDeployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: APPNAME
  labels:
    app.kubernetes.io/name: APPNAME
spec:
  replicas: 1
  revisionHistoryLimit: 5
  # Fail fast: a rollout that makes no progress for a minute is reported.
  progressDeadlineSeconds: 60
  selector:
    matchLabels:
      app.kubernetes.io/name: APPNAME
  template:
    metadata:
      labels:
        app.kubernetes.io/name: APPNAME
    spec:
      containers:
        - name: APPNAME
          # The tag is set per overlay (images: in overlays/*/kustomization.yaml).
          image: APPIMAGE
          imagePullPolicy: IfNotPresent
          ports:
            - name: http
              containerPort: APPPORT
              protocol: TCP
          env:
            - name: HTTP_PORT
              value: "APPPORT"
            - name: OTEL_SERVICE_NAME
              value: APPNAME
          readinessProbe:
            httpGet:
              path: /healthz
              port: http
            periodSeconds: 10
          resources:
            requests:
              cpu: 100m
              memory: 128Mi
            limits:
              memory: 256Mi
`

const kustomizeService = `apiVersion: v1
kind: Service
metadata:
  name: APPNAME
  labels:
    app.kubernetes.io/name: APPNAME
spec:
  type: ClusterIP
  ports:
    - name: http
      port: 80
      targetPort: http
      protocol: TCP
  selector:
    app.kubernetes.io/name: APPNAME
`

func kustomizeOverlay(app scenario.App, env, tag string) string {
	return fmt.Sprintf(`# %[1]s overlay of %[2]s (%[3]s).
# images[0].newTag is bumped by CI on every build.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: %[4]s
resources:
  - ../../base
labels:
  - pairs:
      app.kubernetes.io/environment: %[5]s
images:
  - name: %[6]s
    newTag: %[7]s
patches:
  - path: deployment-patch.yaml
`, strings.ToUpper(env[:1])+env[1:], app.Name, strings.Join(clustersOf(app, env), ", "),
		app.Namespace, envLong(env), app.Image(), tag)
}

func kustomizePatch(app scenario.App, env string) string {
	s := sizingOf(app, env)
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: %[1]s
spec:
  replicas: %[2]d
  template:
    spec:
      containers:
        - name: %[1]s
          env:
            - name: ENVIRONMENT
              value: %[3]s
            - name: LOG_LEVEL
              value: %[4]s
          resources:
            requests:
              cpu: %[5]s
              memory: %[6]s
            limits:
              memory: %[7]s
`, app.Name, s.replicas, envLong(env), s.logLvl, s.cpuReq, s.memReq, s.memLimit)
}

func plainDeployment(app scenario.App, tag string) string {
	s := sizingOf(app, "prod")
	return repl(app, profileOf(app.Name), fmt.Sprintf(`# Plain manifests, applied as-is on every cluster.
# CI bumps the image tag below on every build.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: APPNAME
  namespace: APPNAMESPACE
  labels:
    app.kubernetes.io/name: APPNAME
    app.kubernetes.io/part-of: shop
spec:
  replicas: %[1]d
  revisionHistoryLimit: 5
  # Fail fast: a rollout that makes no progress for a minute is reported.
  progressDeadlineSeconds: 60
  selector:
    matchLabels:
      app.kubernetes.io/name: APPNAME
  template:
    metadata:
      labels:
        app.kubernetes.io/name: APPNAME
        app.kubernetes.io/part-of: shop
    spec:
      containers:
        - name: APPNAME
          image: APPIMAGE:%[2]s
          imagePullPolicy: IfNotPresent
          ports:
            - name: http
              containerPort: APPPORT
              protocol: TCP
          envFrom:
            - configMapRef:
                name: APPNAME-config
          readinessProbe:
            httpGet:
              path: /healthz
              port: http
            periodSeconds: 10
          resources:
            requests:
              cpu: %[3]s
              memory: %[4]s
            limits:
              memory: %[5]s
`, s.replicas, tag, s.cpuReq, s.memReq, s.memLimit))
}

const plainService = `apiVersion: v1
kind: Service
metadata:
  name: APPNAME
  namespace: APPNAMESPACE
  labels:
    app.kubernetes.io/name: APPNAME
    app.kubernetes.io/part-of: shop
spec:
  type: ClusterIP
  ports:
    - name: http
      port: 80
      targetPort: http
      protocol: TCP
  selector:
    app.kubernetes.io/name: APPNAME
`

func plainConfigMap(p profile) string {
	var b strings.Builder
	b.WriteString(`apiVersion: v1
kind: ConfigMap
metadata:
  name: APPNAME-config
  namespace: APPNAMESPACE
  labels:
    app.kubernetes.io/name: APPNAME
    app.kubernetes.io/part-of: shop
data:
`)
	for _, kv := range p.config {
		fmt.Fprintf(&b, "  %s: %s\n", kv[0], kv[1])
	}
	return b.String()
}

// readme is the repository's README.md.
func readme() string {
	var b strings.Builder
	b.WriteString(`# fleet-gitops

Desired state of every shop service on every cluster. Argo CD and Flux
apply what is on ` + "`" + scenario.Branch + "`" + `; nothing is applied by hand.

## Layout

| Service | Path | Rendered with | Namespace |
|---|---|---|---|
`)
	apps := append([]scenario.App(nil), scenario.Apps...)
	sort.SliceStable(apps, func(i, j int) bool { return apps[i].Path < apps[j].Path })
	for _, a := range apps {
		fmt.Fprintf(&b, "| %s | `%s/` | %s | %s |\n", a.Name, a.Path, a.Render, a.Namespace)
	}
	b.WriteString(`
- Helm charts: ` + "`values.yaml`" + ` holds defaults, ` + "`values-prod.yaml`" + ` and
  ` + "`values-stage.yaml`" + ` the per-environment overrides.
- Kustomize: ` + "`base/`" + ` plus ` + "`overlays/prod`" + ` and ` + "`overlays/staging`" + `.
- Plain YAML is applied unchanged on every cluster.

## Image tags

CI (` + "`ci/pipeline.yaml`" + `) builds every merge of a service repository and
commits the new tag here as fleet-ci[bot]: ` + "`prod-<sha>-<unixtime>`" + ` for release
builds, ` + "`stage-<sha>-<unixtime>`" + ` for staging. Do not edit tags by hand unless
you are rolling back; prefer reverting the bot's commit.
`)
	return b.String()
}

const ciPipeline = `# Image bump job, triggered by every successful build of a service repository.
# It edits one line in this repository and pushes to main.
name: bump-image
on:
  repository_dispatch:
    types: [image-built]
env:
  GIT_AUTHOR_NAME: fleet-ci[bot]
  GIT_AUTHOR_EMAIL: ci-bot@fleetdeck.test
jobs:
  bump:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - name: Update the tag
        run: |
          svc="${{ github.event.client_payload.service }}"
          env="${{ github.event.client_payload.env }}"
          tag="${env}-${{ github.event.client_payload.sha7 }}-$(date +%s)"
          ci/bump.sh "$svc" "$env" "$tag"
      - name: Commit and push
        run: |
          git commit -am "ci(${svc}): bump ${env} image to ${tag}" \
            --trailer "Build-Url: ${{ github.event.client_payload.build_url }}"
          git push origin HEAD:main
`

const ciBump = `#!/bin/sh
# Usage: ci/bump.sh SERVICE ENV TAG — sets the image tag of SERVICE in ENV,
# editing one line so the commit's diff is exactly the bump.
set -eu
svc=$1 env=$2 tag=$3
dir=k8s/$svc
if [ -f "$dir/values-$env.yaml" ]; then
  sed -i "s|^  tag: .*|  tag: $tag|" "$dir/values-$env.yaml"
elif [ -d "$dir/overlays" ]; then
  overlay=$env; [ "$env" = stage ] && overlay=staging
  sed -i "s|^    newTag: .*|    newTag: $tag|" "$dir/overlays/$overlay/kustomization.yaml"
else
  sed -i "s|^\\( *image: .*\\):.*|\\1:$tag|" "$dir/deployment.yaml"
fi
`
