"""deploy/ cannot drift from the code: every command, flag, setting, port, address and probe it uses exists.

No container engine or cluster runs here, so the files are read as data: the manifests with PyYAML,
the Dockerfile as text, and each container's command line and environment go through the real
CLI parser and settings loader.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from bridge.cli import _SETTING_FLAGS, _parser
from bridge.errors import ConfigError
from bridge.frontend.app import create_app
from bridge.rpc.servers import WORKER_SERVICE
from bridge.settings import ENV_PREFIX, Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def documents() -> list[dict[str, Any]]:
    """Every Kubernetes object in deploy/k8s/, kustomization excluded."""
    found = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name != "kustomization.yaml":
            found += [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    return found


def objects(kind: str) -> list[dict[str, Any]]:
    return [doc for doc in documents() if doc["kind"] == kind]


def named(kind: str, name: str) -> dict[str, Any]:
    matches = [doc for doc in objects(kind) if doc["metadata"]["name"] == name]
    assert len(matches) == 1, f"deploy/k8s/ has no single {kind} {name!r}"
    return matches[0]


@dataclass(frozen=True)
class Dockerfile:
    """The instructions of deploy/Dockerfile that the checks need."""

    entrypoint: list[str]
    cmd: list[str]
    env: dict[str, str]
    exposed: set[int]
    copied: list[str]


def read_dockerfile(text: str) -> Dockerfile:
    """Parse the few instructions used (continuation lines joined, comments dropped)."""
    joined = re.sub(
        r"\\\n\s*", " ", "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    )
    entrypoint: list[str] = []
    cmd: list[str] = []
    env: dict[str, str] = {}
    exposed: set[int] = set()
    copied: list[str] = []
    for line in joined.splitlines():
        instruction, _, rest = line.strip().partition(" ")
        if instruction == "ENTRYPOINT":
            entrypoint = json.loads(rest)
        elif instruction == "CMD":
            cmd = json.loads(rest)
        elif instruction == "ENV":
            env.update(item.split("=", 1) for item in shlex.split(rest))
        elif instruction == "EXPOSE":
            exposed.update(int(port) for port in rest.split())
        elif instruction == "COPY" and "--from" not in rest:
            copied += shlex.split(rest)[:-1]
    return Dockerfile(entrypoint, cmd, env, exposed, copied)


IMAGE = read_dockerfile((DEPLOY / "Dockerfile").read_text())


@dataclass(frozen=True)
class Container:
    """One container of a Deployment, with the command line and settings it would run with."""

    deployment: dict[str, Any]
    spec: dict[str, Any]

    @property
    def name(self) -> str:
        return f"{self.deployment['metadata']['name']}/{self.spec['name']}"

    @property
    def argv(self) -> list[str]:
        """The command line: the image's ENTRYPOINT unless overridden, then the args."""
        return [*self.spec.get("command", IMAGE.entrypoint), *self.spec.get("args", IMAGE.cmd)]

    def ports(self) -> dict[str, int]:
        """containerPort by name (unnamed ones by their number)."""
        return {
            p.get("name", str(p["containerPort"])): p["containerPort"] for p in self.spec.get("ports", [])
        }

    def resolve_port(self, port: int | str) -> int:
        return port if isinstance(port, int) else self.ports()[port]


def containers() -> Iterator[Container]:
    for deployment in objects("Deployment"):
        for spec in deployment["spec"]["template"]["spec"]["containers"]:
            yield Container(deployment, spec)


def parse_command(argv: list[str]) -> argparse.Namespace:
    """The argv through the real `rpcbridge` parser; a flag it does not know fails the test."""
    assert argv[:1] == ["rpcbridge"], f"{argv}: not an rpcbridge command"
    try:
        return _parser().parse_args(argv[1:])
    except SystemExit:
        pytest.fail(f"rpcbridge does not accept {shlex.join(argv)}")


def container_environment(container: Container) -> dict[str, str]:
    """The image's ENV, then the container's env, secret references replaced by the Secret's values."""
    environ = dict(IMAGE.env)
    for item in container.spec.get("env", []):
        if "value" in item:
            environ[item["name"]] = str(item["value"])
        else:
            reference = item["valueFrom"]["secretKeyRef"]
            data = named("Secret", reference["name"])["stringData"]
            assert reference["key"] in data, f"{container.name}: Secret has no key {reference['key']!r}"
            environ[item["name"]] = data[reference["key"]]
    return environ


def mounted_file(container: Container, path: Path, scratch: Path) -> Path:
    """Write the ConfigMap entry that `path` names inside the container to `scratch`; return it."""
    volumes = {v["name"]: v for v in container.deployment["spec"]["template"]["spec"]["volumes"]}
    for mount in container.spec.get("volumeMounts", []):
        if path.parent == Path(mount["mountPath"]):
            config_map = named("ConfigMap", volumes[mount["name"]]["configMap"]["name"])
            local = scratch / path.name
            local.write_text(config_map["data"][path.name])
            return local
    pytest.fail(f"{container.name}: nothing mounted at {path.parent}")


def container_settings(container: Container, scratch: Path) -> tuple[argparse.Namespace, Settings]:
    """The command line parsed and the settings built exactly as `rpcbridge` would build them."""
    args = parse_command(container.argv)
    config = mounted_file(container, args.config, scratch) if args.config else None
    flags = {name: getattr(args, name, None) for name in _SETTING_FLAGS}
    try:
        return args, load_settings(config, flags, container_environment(container))
    except ConfigError as exc:
        pytest.fail(f"{container.name}: {exc}")


def listening(args: argparse.Namespace, settings: Settings) -> dict[str, tuple[str, int]]:
    """The servers a role starts: purpose -> (host, port)."""
    if args.command == "frontend":
        return {"http": (settings.http_host, settings.http_port)}
    if args.command == "sidecar":
        return {
            "grpc": (settings.grpc_host, settings.grpc_port),
            "admin": (settings.admin_host, settings.admin_port),
        }
    if args.command in ("worker", "legacy"):
        host, _, port = args.listen.rpartition(":")
        return {"grpc": (host, int(port))}
    pytest.fail(f"deploy/ runs `rpcbridge {args.command}`, which is not a long-running role")


def frontend_get_routes() -> set[str]:
    app = create_app(Settings().frontend, invoker=None)  # type: ignore[arg-type]  # routes only
    return {route.resource.canonical for route in app.router.routes() if route.method == "GET"}


def check_container(container: Container, scratch: Path) -> None:
    """Every check of one container: command, settings, ports, probes, addresses it dials."""
    args, settings = container_settings(container, scratch)
    servers = listening(args, settings)
    public = {port for host, port in servers.values() if host not in LOOPBACK}
    assert set(container.ports().values()) == public, (
        f"{container.name}: containerPorts {sorted(container.ports().values())} but it listens "
        f"on {sorted(public)} beyond loopback"
    )
    for kind in ("livenessProbe", "readinessProbe", "startupProbe"):
        probe = container.spec.get(kind)
        if probe is None:
            continue
        if "httpGet" in probe:
            assert args.command == "frontend", f"{container.name}: {kind} on HTTP, which it does not serve"
            assert container.resolve_port(probe["httpGet"]["port"]) == servers["http"][1]
            assert probe["httpGet"]["path"] in frontend_get_routes(), f"{container.name}: {kind} path"
        else:
            grpc_probe = probe["grpc"]
            assert container.resolve_port(grpc_probe["port"]) == servers["grpc"][1], f"{container.name}"
            assert grpc_probe.get("service", "") in ("", WORKER_SERVICE), f"{container.name}: {kind}"
    dialled = [settings.sidecar_address] if args.command == "frontend" else []
    dialled += list(settings.workers) if args.command == "sidecar" else []
    for address in dialled:
        host, _, port = address.rpartition(":")
        service = named("Service", host)
        assert int(port) in [p["port"] for p in service["spec"]["ports"]], f"{container.name}: {address}"


def test_kustomization_lists_every_manifest() -> None:
    """`kubectl apply -k deploy/k8s/` applies every file there, and only files that exist."""
    listed = yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"]
    assert sorted(listed) == sorted(p.name for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")


def test_each_role_has_a_deployment_and_a_service() -> None:
    """Frontend, sidecar and worker each run as a Deployment with a Service; workers' is headless."""
    roles = {parse_command(container.argv).command for container in containers()}
    assert roles == {"frontend", "sidecar", "worker"}
    assert named("Service", "rpcbridge-worker")["spec"]["clusterIP"] == "None"


@pytest.mark.parametrize("container", list(containers()), ids=lambda c: c.name)
def test_container_commands_settings_ports_and_probes_exist(container: Container, tmp_path: Path) -> None:
    """Each container's flags parse, its config and RPCBRIDGE_* variables are real settings, its
    ports are the ones it listens on, its probes reach endpoints it serves, and the addresses it
    dials are Services of deploy/k8s/."""
    check_container(container, tmp_path)


def test_only_sidecars_and_workers_receive_secrets() -> None:
    """The frontend holds no secret (DESIGN.md); the Secret carries the sidecar's store URLs."""
    for container in containers():
        secret_env = [e["name"] for e in container.spec.get("env", []) if "valueFrom" in e]
        if parse_command(container.argv).command == "frontend":
            assert not secret_env
    assert set(named("Secret", "rpcbridge-secrets")["stringData"]) == {
        "worker-secret",
        "database-url",
        "redis-url",
    }


def pod_labels(container: Container) -> dict[str, str]:
    labels: dict[str, str] = container.deployment["spec"]["template"]["metadata"]["labels"]
    return labels


def test_services_and_budgets_select_a_deployment() -> None:
    """Every Service and PodDisruptionBudget selects the pods of a Deployment; targetPorts exist."""
    for selecting in [*objects("Service"), *objects("PodDisruptionBudget")]:
        labels = selecting["spec"]["selector"]
        labels = labels.get("matchLabels", labels)
        chosen = [
            c
            for c in containers()
            if labels.items() <= c.deployment["spec"]["template"]["metadata"]["labels"].items()
        ]
        assert chosen, f"{selecting['kind']} {selecting['metadata']['name']} selects no pod"
        for port in selecting["spec"].get("ports", []):
            assert all(c.resolve_port(port["targetPort"]) for c in chosen)
    assert {b["metadata"]["name"] for b in objects("PodDisruptionBudget")} == {
        d["metadata"]["name"] for d in objects("Deployment")
    }


def test_pods_run_as_the_images_non_root_user() -> None:
    """The image's USER (and its group) and the pods' runAsUser and runAsGroup agree; not root."""
    text = (DEPLOY / "Dockerfile").read_text()
    user = re.search(r"^USER (\d+)$", text, re.MULTILINE)
    group = re.search(r"groupadd --system --gid (\d+)", text)
    assert user is not None and group is not None and user.group(1) != "0"
    for deployment in objects("Deployment"):
        context = deployment["spec"]["template"]["spec"]["securityContext"]
        expected = (True, int(user.group(1)), int(group.group(1)))
        assert (context["runAsNonRoot"], context["runAsUser"], context["runAsGroup"]) == expected


def test_dockerfile_matches_the_package_and_the_settings() -> None:
    """The image runs the `rpcbridge` console script, its ENV names real settings, it exposes the
    default ports, and it copies files that exist."""
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert IMAGE.entrypoint == ["rpcbridge"] and "rpcbridge" in scripts
    assert all(name.startswith(ENV_PREFIX) for name in IMAGE.env if name != "PYTHONUNBUFFERED")
    environ = {k: v for k, v in IMAGE.env.items() if k.startswith(ENV_PREFIX)}
    settings = load_settings(environ=environ)
    assert IMAGE.exposed == {settings.http_port, settings.grpc_port, settings.admin_port}
    for source in IMAGE.copied:
        assert (ROOT / source).exists(), f"deploy/Dockerfile copies {source}, which does not exist"
    with pytest.raises(SystemExit) as exited:
        _parser().parse_args(IMAGE.cmd)
    assert exited.value.code == 0


def test_the_checks_catch_a_renamed_flag_setting_and_port(tmp_path: Path) -> None:
    """The checks fail on drift: a flag the parser lacks, an unknown RPCBRIDGE_ variable, a port."""
    frontend = next(c for c in containers() if c.spec["name"] == "frontend")
    drifted = [
        {**frontend.spec, "args": [*frontend.spec["args"], "--http-prt", "8080"]},
        {**frontend.spec, "env": [{"name": "RPCBRIDGE_HTTP_PRT", "value": "8080"}]},
        {**frontend.spec, "ports": [{"name": "http", "containerPort": 8090}]},
    ]
    for spec in drifted:
        with pytest.raises((AssertionError, pytest.fail.Exception)):
            check_container(Container(frontend.deployment, spec), tmp_path)
