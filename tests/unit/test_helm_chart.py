"""The Helm chart: values documented and valid, settings in step with service/config.py, and, when a `helm` binary
is available, `helm lint` and the rendered objects (probes, grace period, security context, optional objects).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from service.config import Settings, TopicSettings, load_settings

CHART = Path(__file__).resolve().parents[2] / "helm" / "connector-events"
TEMPLATES = (
    "_helpers.tpl", "NOTES.txt", "configmap.yaml", "deployment.yaml", "secret.yaml", "service.yaml",
    "serviceaccount.yaml", "servicemonitor.yaml", "pdb.yaml", "hpa.yaml", "ingress.yaml",
)
ALL_OPTIONS = [
    "split.enabled=true", "serviceMonitor.enabled=true", "pdb.enabled=true", "hpa.enabled=true", "ingress.enabled=true",
]
# Values holding Kubernetes objects or free maps: their inner keys are Kubernetes' (or the user's), not the chart's.
PASSTHROUGH = {"resources", "podSecurityContext", "securityContext"}
ENV_PREFIX = "CONNECTOR_EVENTS_"
# Settings the ConfigMap does not carry, and where they come from instead.
NOT_IN_CONFIGMAP = {
    "KAFKA__SASL_USERNAME": "a Secret (deployment.yaml)",
    "KAFKA__SASL_PASSWORD": "a Secret (deployment.yaml)",
    "HTTP__ADMIN_TOKEN": "a Secret (deployment.yaml)",
    "HTTP__HOST": "the service default: a container listens on all interfaces",
    "ROLE": "the --role argument",
}


def _values() -> dict[str, Any]:
    values = yaml.safe_load((CHART / "values.yaml").read_text(encoding="utf-8"))
    assert isinstance(values, dict)
    return values


def _setting_env_names() -> set[str]:
    """Every leaf setting of the service as its env var name (without the prefix)."""
    names: set[str] = set()
    for name, field in Settings.model_fields.items():
        kind = field.annotation
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            names.update(f"{name}__{sub}".upper() for sub in kind.model_fields)
        else:
            names.add(name.upper())
    return names


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).upper()


# --- without helm ----------------------------------------------------------------------------------------------


def test_chart_metadata() -> None:
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text(encoding="utf-8"))
    assert chart["apiVersion"] == "v2"
    assert chart["name"] == "connector-events"
    assert chart["appVersion"] == "0.1.0"
    assert re.fullmatch(r"\d+\.\d+\.\d+", chart["version"])


@pytest.mark.parametrize("name", TEMPLATES)
def test_template_is_present(name: str) -> None:
    assert (CHART / "templates" / name).is_file()


def test_values_validate_against_the_values_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = yaml.safe_load((CHART / "values.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    jsonschema.Draft7Validator(schema).validate(_values())


@pytest.mark.parametrize(
    ("path", "bad"),
    [
        (("kafka", "securityProtocol"), "SASL"),
        (("topics", "partitions"), 0),
        (("topics", "eventsRetention"), "a week"),
        (("logLevel",), "TRACE"),
        (("split", "poller", "replicaCounts"), 2),  # a typo is an error, not a silently ignored value
        (("ingress", "paths"), ["events"]),
    ],
)
def test_values_schema_rejects_a_bad_value(path: tuple[str, ...], bad: object) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = yaml.safe_load((CHART / "values.schema.json").read_text(encoding="utf-8"))
    values = _values()
    node = values
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = bad
    assert list(jsonschema.Draft7Validator(schema).iter_errors(values))


def _keys_with_comments(text: str) -> Iterator[tuple[int, str, bool]]:
    """(line number, dotted key, documented) for each key of values.yaml outside passthrough blocks."""
    stack: list[tuple[int, str]] = []
    previous = ""
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        match = re.match(r"^(\s*)([A-Za-z][\w.-]*):", line)
        if match and not stripped.startswith("#"):
            indent = len(match.group(1))
            while stack and stack[-1][0] >= indent:
                stack.pop()
            parents = [key for _, key in stack]
            if not any(parent in PASSTHROUGH for parent in parents):
                yield number, ".".join([*parents, match.group(2)]), previous.startswith("#")
            stack.append((indent, match.group(2)))
        if stripped:
            previous = stripped


def test_every_value_is_commented() -> None:
    undocumented = [
        f"line {number}: {key}"
        for number, key, documented in _keys_with_comments((CHART / "values.yaml").read_text(encoding="utf-8"))
        if not documented and not isinstance(_lookup(_values(), key), dict)  # a group's children carry the docs
    ]
    assert not undocumented, "values without a comment above them: " + ", ".join(undocumented)


def _lookup(values: dict[str, Any], dotted: str) -> Any:
    node: Any = values
    for key in dotted.split("."):
        node = node[key] if isinstance(node, dict) else None
    return node


def test_configmap_carries_every_setting_of_the_service() -> None:
    templates = (CHART / "templates" / "configmap.yaml").read_text(encoding="utf-8")
    deployment = (CHART / "templates" / "deployment.yaml").read_text(encoding="utf-8")
    missing = [name for name in _setting_env_names() if f"{ENV_PREFIX}{name}:" not in templates]
    assert sorted(missing) == sorted(NOT_IN_CONFIGMAP), f"settings the chart cannot set: {missing}"
    assert f"{ENV_PREFIX}KAFKA__SASL_USERNAME" in deployment
    assert f"{ENV_PREFIX}KAFKA__SASL_PASSWORD" in deployment
    assert f"{ENV_PREFIX}HTTP__ADMIN_TOKEN" in deployment
    assert '"--role"' in deployment


def _default_settings_env() -> dict[str, str]:
    """The env the chart's default values give, rebuilt here the way configmap.yaml maps them."""
    values = _values()
    env = {
        f"{ENV_PREFIX}LOG_FORMAT": values["logFormat"],
        f"{ENV_PREFIX}LOG_LEVEL": values["logLevel"],
        f"{ENV_PREFIX}GRACE_PERIOD": str(values["gracePeriodSeconds"]),
    }
    for group in ("kafka", "topics", "http", "polling", "hooks"):
        for key, value in values[group].items():
            if isinstance(value, dict) or value == "":
                continue  # nested chart-only groups (sasl, tls); empty means the service default
            env[f"{ENV_PREFIX}{group.upper()}__{_snake(key)}"] = str(value).lower() if isinstance(value, bool) else str(
                value
            )
    return env


def test_the_default_values_are_valid_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(ENV_PREFIX):
            monkeypatch.delenv(name)
    for name, value in _default_settings_env().items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    values = _values()
    assert settings.grace_period.total_seconds() == values["gracePeriodSeconds"]
    assert settings.topics.replication_factor == 3
    defaults = TopicSettings()
    assert (settings.topics.events, settings.topics.dlq, settings.topics.cursors) == (
        defaults.events, defaults.dlq, defaults.cursors,
    )
    assert (settings.topics.instances, settings.topics.elements) == (defaults.instances, defaults.elements)
    assert settings.http.port == values["http"]["port"] == 8080


def test_values_comments_say_that_pollers_beyond_the_partitions_idle() -> None:
    text = (CHART / "values.yaml").read_text(encoding="utf-8")
    assert "beyond `topics.partitions`" in text
    assert "idle" in text


# --- with helm -------------------------------------------------------------------------------------------------


def _helm() -> str | None:
    """A helm binary: on PATH, or where `go install helm.sh/helm/v3/cmd/helm@...` puts it."""
    found = os.environ.get("HELM") or shutil.which("helm")
    if found:
        return found
    gobin = Path.home() / "go" / "bin" / "helm"
    return str(gobin) if gobin.is_file() else None


HELM = _helm()
needs_helm = pytest.mark.skipif(HELM is None, reason="no helm binary (go install helm.sh/helm/v3/cmd/helm@v3.22.0)")


def _run_helm(*args: str) -> subprocess.CompletedProcess[str]:
    assert HELM is not None
    return subprocess.run([HELM, *args], capture_output=True, text=True, timeout=120, check=False)  # noqa: S603


def _render(*sets: str) -> list[dict[str, Any]]:
    args = ["template", "rel", str(CHART), "--namespace", "events", "--kube-version", "1.30.0"]
    for item in sets:
        args += ["--set", item]
    result = _run_helm(*args)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def _by_kind(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [doc for doc in docs if doc["kind"] == kind]


@needs_helm
@pytest.mark.parametrize("sets", [[], ALL_OPTIONS], ids=["defaults", "all-options"])
def test_helm_lint(sets: list[str]) -> None:
    args = ["lint", "--strict", str(CHART)]
    for item in sets:
        args += ["--set", item]
    result = _run_helm(*args)
    assert result.returncode == 0, result.stdout + result.stderr


def _check_deployment(deployment: dict[str, Any], role: str) -> None:
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["args"] == ["run", "--role", role]
    assert container["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["runAsNonRoot"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert selector["app.kubernetes.io/component"] == role
    assert selector.items() <= deployment["spec"]["template"]["metadata"]["labels"].items()


def _grace_period(docs: list[dict[str, Any]]) -> int:
    (configmap,) = _by_kind(docs, "ConfigMap")
    return int(configmap["data"][f"{ENV_PREFIX}GRACE_PERIOD"])


@needs_helm
def test_default_render_is_one_deployment_with_role_all() -> None:
    docs = _render()
    (deployment,) = _by_kind(docs, "Deployment")
    _check_deployment(deployment, "all")
    grace = _grace_period(docs)
    assert grace == 20
    assert deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] == grace + 10
    for kind in ("ServiceMonitor", "PodDisruptionBudget", "HorizontalPodAutoscaler", "Ingress", "Secret"):
        assert not _by_kind(docs, kind), f"{kind} rendered although not enabled"
    for doc in docs:
        labels = doc["metadata"]["labels"]
        assert labels["app.kubernetes.io/name"] == "connector-events"
        assert labels["app.kubernetes.io/instance"] == "rel"
        assert labels["app.kubernetes.io/managed-by"] == "Helm"


@needs_helm
def test_rendered_configmap_is_valid_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(ENV_PREFIX):
            monkeypatch.delenv(name)
    (configmap,) = _by_kind(_render("gracePeriodSeconds=45", "topics.partitions=24"), "ConfigMap")
    for name, value in configmap["data"].items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    assert settings.grace_period.total_seconds() == 45
    assert settings.topics.partitions == 24
    assert settings.http.max_body_bytes == 1 << 20


@needs_helm
def test_render_with_every_option() -> None:
    docs = _render(*ALL_OPTIONS, "gracePeriodSeconds=40")
    deployments = {d["metadata"]["name"]: d for d in _by_kind(docs, "Deployment")}
    assert set(deployments) == {"rel-connector-events-poller", "rel-connector-events-ingress"}
    for role in ("poller", "ingress"):
        deployment = deployments[f"rel-connector-events-{role}"]
        _check_deployment(deployment, role)
        assert deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] == 50
        assert "replicas" not in deployment["spec"]  # the HPA owns the count
    assert _grace_period(docs) == 40
    hpas = {h["spec"]["scaleTargetRef"]["name"] for h in _by_kind(docs, "HorizontalPodAutoscaler")}
    assert hpas == set(deployments)
    assert len(_by_kind(docs, "PodDisruptionBudget")) == 2
    (monitor,) = _by_kind(docs, "ServiceMonitor")
    assert monitor["spec"]["endpoints"][0]["path"] == "/metrics"
    services = _by_kind(docs, "Service")
    selector = monitor["spec"]["selector"]["matchLabels"].items()
    scraped = [s for s in services if selector <= s["metadata"]["labels"].items()]
    assert {s["spec"]["selector"]["app.kubernetes.io/component"] for s in scraped} == {"poller", "ingress"}
    (ingress,) = _by_kind(docs, "Ingress")
    paths = {p["path"] for rule in ingress["spec"]["rules"] for p in rule["http"]["paths"]}
    assert paths == {"/events", "/elements/api-v2/events"}
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"]
    (webhook_service,) = [s for s in services if s["metadata"]["name"] == backend]
    assert webhook_service["spec"]["selector"]["app.kubernetes.io/component"] == "ingress"


@needs_helm
def test_secrets_inline_and_existing() -> None:
    sasl = ["kafka.securityProtocol=SASL_SSL", "kafka.saslMechanism=SCRAM-SHA-512"]
    inline = _render(*sasl, "kafka.sasl.username=svc", "kafka.sasl.password=pw", "secrets.values.HOOK_SECRET=s3",
                     "secrets.asFiles=true", "admin.token=t0k")
    assert {s["metadata"]["name"] for s in _by_kind(inline, "Secret")} == {
        "rel-connector-events-kafka", "rel-connector-events-secrets", "rel-connector-events-admin",
    }
    (deployment,) = _by_kind(inline, "Deployment")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e["valueFrom"]["secretKeyRef"]["name"] for e in container["env"]}
    assert env[f"{ENV_PREFIX}KAFKA__SASL_PASSWORD"] == "rel-connector-events-kafka"
    assert env[f"{ENV_PREFIX}HTTP__ADMIN_TOKEN"] == "rel-connector-events-admin"
    assert {"secretRef": {"name": "rel-connector-events-secrets"}} in container["envFrom"]
    assert any(m["mountPath"] == "/var/run/secrets/connector-events" for m in container["volumeMounts"])

    existing = _render(*sasl, "kafka.sasl.existingSecret=kafka-creds", "secrets.existingSecret=hooks")
    assert not _by_kind(existing, "Secret")
    (deployment,) = _by_kind(existing, "Deployment")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e["valueFrom"]["secretKeyRef"]["name"] for e in container["env"]}
    assert env[f"{ENV_PREFIX}KAFKA__SASL_USERNAME"] == "kafka-creds"
    assert {"secretRef": {"name": "hooks"}} in container["envFrom"]


@needs_helm
def test_sasl_without_credentials_fails_the_render() -> None:
    result = _run_helm(
        "template", "rel", str(CHART), "--kube-version", "1.30.0",
        "--set", "kafka.securityProtocol=SASL_SSL", "--set", "kafka.saslMechanism=PLAIN",
    )
    assert result.returncode != 0
    assert "kafka.sasl.existingSecret" in result.stderr
