"""The deployment files, checked without a Docker engine (these machines have only the client).

`langgraph validate` and `langgraph dockerfile` run for real (offline); the compose file, the
proxy's Dockerfile, the Caddyfile, `.dockerignore` and `deploy/.env.example` are parsed and
cross-checked against each other, against `langgraph.json` and against the settings the
proxy actually reads (`proxy.settings.Settings`); the container health check runs against a
local HTTP server.
"""

from __future__ import annotations

import ast
import http.server
import importlib.metadata
import importlib.util
import json
import os
import re
import shlex
import socket
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from fastapi.testclient import TestClient

from harness.servers import EXTRA_GRAPHS, OFFLINE_ENV
from proxy.app import create_app
from proxy.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
BIN = Path(sys.executable).parent
LANGGRAPH_SERVICES = ("langgraph-api", "langgraph-queue")
SCALED_SERVICES = ("proxy", "langgraph-api", "langgraph-queue")
LANGGRAPH_CONTAINER_PORT = 8000  # the langgraph-api image's PORT
LICENSE_VARIABLES = {"LANGSMITH_API_KEY", "LANGGRAPH_CLOUD_LICENSE_KEY"}
INTERPOLATION = re.compile(
    r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
)


# --------------------------------------------------------------------------------------------
# helpers


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """The `langgraph` CLI of this venv, offline, from the repository root."""
    return subprocess.run(
        [str(BIN / "langgraph"), *args],
        cwd=ROOT,
        env={**os.environ, **OFFLINE_ENV},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's `${VAR}`, `${VAR:-default}`, `${VAR-default}` and `${VAR:?error}`."""

    def one(match: re.Match[str]) -> str:
        name, op, arg = match["name"], match["op"], match["arg"] or ""
        current = env.get(name)
        if op in (":-", ":?"):
            current = current or None
        if current is not None:
            return current
        if op and op.endswith("?"):
            raise LookupError(f"{name} is required: {arg}")
        return arg if op else ""

    return INTERPOLATION.sub(one, value)


def interpolated_names(text: str) -> dict[str, str | None]:
    """Every variable compose substitutes in ``text``, with its operator."""
    return {m["name"]: m["op"] for m in INTERPOLATION.finditer(text)}


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        keyword, _, rest = line.partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
    return instructions


def final_stage(instructions: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The instructions of the last build stage (the image that ships)."""
    starts = [i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM"]
    return instructions[starts[-1] :]


def env_pairs(arguments: str) -> dict[str, str]:
    """The KEY=value pairs of one ENV or ARG instruction."""
    pairs: dict[str, str] = {}
    for token in shlex.split(arguments):
        key, sep, value = token.partition("=")
        pairs[key] = value if sep else ""
    return pairs


def settings_env_names() -> set[str]:
    """The environment variables `proxy.settings.Settings` reads."""
    prefix = Settings.model_config.get("env_prefix", "")
    names: set[str] = set()
    for field_name, field in Settings.model_fields.items():
        names.add(f"{prefix}{field_name}".upper())
        alias = field.validation_alias
        if alias is not None:
            choices = getattr(alias, "choices", [alias])
            names.update(str(choice).upper() for choice in choices)
    return names


def dockerignore_rules() -> list[tuple[bool, re.Pattern[str]]]:
    """`.dockerignore` as (negated, regex) rules, in order (Docker's last match wins)."""
    rules: list[tuple[bool, re.Pattern[str]]] = []
    for raw in (ROOT / ".dockerignore").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        pattern = line.lstrip("!").strip("/")
        regex = ""
        i = 0
        while i < len(pattern):
            if pattern.startswith("**/", i):
                regex, i = regex + "(?:.*/)?", i + 3
            elif pattern.startswith("**", i):
                regex, i = regex + ".*", i + 2
            elif pattern[i] == "*":
                regex, i = regex + "[^/]*", i + 1
            elif pattern[i] == "?":
                regex, i = regex + "[^/]", i + 1
            elif pattern[i] == "[":
                end = pattern.index("]", i)
                regex, i = regex + pattern[i : end + 1], end + 1
            else:
                regex, i = regex + re.escape(pattern[i]), i + 1
        rules.append((negated, re.compile(regex)))
    return rules


def docker_ignores(path: str) -> bool:
    """Whether `.dockerignore` keeps ``path`` (or a folder above it) out of the context."""
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    ignored = False
    for negated, regex in dockerignore_rules():
        if any(regex.fullmatch(prefix) for prefix in prefixes):
            ignored = not negated
    return ignored


def third_party_imports(package: Path) -> set[str]:
    """Top-level modules imported by the package's sources, less the stdlib and itself."""
    modules: set[str] = set()
    for source in package.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Import):
                modules.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    return {m for m in modules if m not in sys.stdlib_module_names and m != package.name}


def normalize(name: str) -> str:
    """A distribution name as package indexes compare them."""
    return re.sub(r"[-_.]+", "-", name).lower()


def load_healthcheck() -> ModuleType:
    spec = importlib.util.spec_from_file_location("deploy_healthcheck", DEPLOY / "healthcheck.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --------------------------------------------------------------------------------------------
# fixtures


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    return json.loads((ROOT / "langgraph.json").read_text())


@pytest.fixture(scope="module")
def compose_text() -> str:
    return (DEPLOY / "compose.yaml").read_text()


@pytest.fixture(scope="module")
def compose(compose_text: str) -> dict[str, Any]:
    document = yaml.safe_load(compose_text)
    assert isinstance(document, dict)
    return document


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


@pytest.fixture(scope="module")
def proxy_dockerfile() -> list[tuple[str, str]]:
    return dockerfile_instructions((DEPLOY / "proxy.Dockerfile").read_text())


@pytest.fixture(scope="module")
def generated_dockerfile(tmp_path_factory: pytest.TempPathFactory) -> str:
    """What `langgraph build` builds: `langgraph dockerfile` writes the same Dockerfile."""
    target = tmp_path_factory.mktemp("langgraph-dockerfile") / "Dockerfile"
    result = run_cli("dockerfile", str(target))
    assert result.returncode == 0, result.stdout + result.stderr
    return target.read_text()


@pytest.fixture(scope="module")
def env_example() -> dict[str, str | None]:
    """deploy/.env.example: set variables (value) and commented-out ones (None)."""
    variables: dict[str, str | None] = {}
    for raw in (DEPLOY / ".env.example").read_text().splitlines():
        line = raw.strip()
        commented = line.startswith("#")
        match = re.fullmatch(r"#?\s*([A-Z][A-Z0-9_]*)=(.*)", line)
        if match:
            variables[match[1]] = None if commented else match[2]
    return variables


@pytest.fixture(scope="module")
def readme_deploy() -> str:
    """docs/deploy.md, which the README's "Deploy" links to."""
    assert "docs/deploy.md" in (ROOT / "README.md").read_text()
    return (ROOT / "docs" / "deploy.md").read_text()


# --------------------------------------------------------------------------------------------
# langgraph.json and the LangGraph server image


def test_langgraph_validate_accepts_the_config(config: dict[str, Any]) -> None:
    result = run_cli("validate")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is valid" in result.stdout
    assert f"({len(config['graphs'])} graphs found)" in result.stdout


def test_langgraph_json_is_ready_for_build_and_up(config: dict[str, Any]) -> None:
    assert config["python_version"] in {"3.11", "3.12", "3.13"}
    assert config["image_distro"] == "wolfi"
    assert config["dependencies"] == ["."]
    # an env *file*: `langgraph up` passes it to the container; `langgraph dev` loads it if
    # present, and a fresh clone (no .env) still starts. Git and Docker never see it.
    assert config["env"] == ".env"
    assert ".env" in (ROOT / ".gitignore").read_text().split()
    assert docker_ignores(".env")
    app_file, _, attribute = config["http"]["app"].partition(":")
    assert (ROOT / app_file).is_file() and attribute == "app"
    for path in config["graphs"].values():
        assert (ROOT / path.partition(":")[0]).is_file(), path
        assert path.startswith("./agent/"), f"{path}: only the user-facing graphs ship"
    # the benchmark's and the tests' graphs are served by their own servers only
    assert not set(config["graphs"]) & set(EXTRA_GRAPHS)
    assert set(config["graphs"]) == {"up-down-game", "chat", "assistant"}


def test_generated_dockerfile_serves_every_graph_and_installs_the_package(
    config: dict[str, Any], generated_dockerfile: str
) -> None:
    instructions = dockerfile_instructions(generated_dockerfile)
    base = f"langchain/langgraph-api:{config['python_version']}-{config['image_distro']}"
    assert instructions[0] == ("FROM", base)

    adds = [args.split() for keyword, args in instructions if keyword == "ADD"]
    assert len(adds) == 1 and adds[0][0] == "."
    package_dir = adds[0][1]
    assert package_dir.startswith("/deps/")
    install = next(args for keyword, args in instructions if "uv pip install" in args)
    assert "for dep in /deps/*" in install and "-e ." in install
    assert ("WORKDIR", package_dir) in instructions

    env: dict[str, str] = {}
    for keyword, args in instructions:
        if keyword == "ENV":
            env.update(env_pairs(args))
    graphs = json.loads(env["LANGSERVE_GRAPHS"])
    assert graphs.keys() == config["graphs"].keys()
    for graph_id, path in config["graphs"].items():
        assert graphs[graph_id] == f"{package_dir}/{path.removeprefix('./')}"
    # the proxy is mounted in the image, as README "Deploy" says
    http = json.loads(env["LANGGRAPH_HTTP"])
    assert http["app"] == f"{package_dir}/{config['http']['app'].removeprefix('./')}"
    # no secret is baked in: the server's variables come at run time
    assert not set(env) & {"LANGSMITH_API_KEY", "LANGGRAPH_CLOUD_LICENSE_KEY", "PROXY_API_KEYS"}


def test_dockerignore_keeps_secrets_and_local_state_out_of_both_images() -> None:
    for path in (
        ".env",
        "deploy/.env",
        ".env.local",
        ".venv/bin/python",
        ".git/HEAD",
        ".tools/bin/uv",
        ".langgraph_api/store.pckl",
        "proxy/__pycache__/app.pyc",
        "tests/unit_tests/test_deploy.py",
        "bench/measure.py",
        "deploy/compose.yaml",
    ):
        assert docker_ignores(path), path
    for path in (
        "pyproject.toml",
        "uv.lock",
        "README.md",
        "langgraph.json",
        "proxy/app.py",
        "proxy/__main__.py",
        "agent/up_down_game.py",
        "deploy/healthcheck.py",
    ):
        assert not docker_ignores(path), path


# --------------------------------------------------------------------------------------------
# the proxy image


def test_proxy_image_runs_the_command_the_readme_documents(
    proxy_dockerfile: list[tuple[str, str]], readme_deploy: str
) -> None:
    commands = [args for keyword, args in final_stage(proxy_dockerfile) if keyword == "CMD"]
    assert len(commands) == 1
    cmd = json.loads(commands[0])
    documented = re.search(r"The image runs `([^`]+)`", readme_deploy)
    assert documented, "README 'Deploy' must say which command the proxy image runs"
    assert cmd == shlex.split(documented[1])
    assert cmd == ["python", "-m", "proxy"]
    assert (ROOT / "proxy" / "__main__.py").is_file()


def test_proxy_image_is_non_root_and_listens_where_the_settings_say(
    proxy_dockerfile: list[tuple[str, str]],
) -> None:
    stage = final_stage(proxy_dockerfile)
    users = [args for keyword, args in stage if keyword == "USER"]
    assert users, "the proxy image must not run as root"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"} and (not user.isdigit() or int(user) > 0)

    env: dict[str, str] = {}
    for keyword, args in stage:
        if keyword == "ENV":
            env.update(env_pairs(args))
    proxy_vars = {k for k in env if k.startswith(("PROXY_", "LANGGRAPH_"))}
    assert proxy_vars <= settings_env_names()
    settings = Settings(host=env["PROXY_HOST"], port=env["PROXY_PORT"])
    assert settings.host == "0.0.0.0"
    exposed = [int(p.split("/")[0]) for k, a in stage if k == "EXPOSE" for p in a.split()]
    assert exposed == [settings.port]


def test_proxy_image_health_check_probes_healthz(
    proxy_dockerfile: list[tuple[str, str]], services: dict[str, dict[str, Any]]
) -> None:
    stage = final_stage(proxy_dockerfile)
    checks = [args for keyword, args in stage if keyword == "HEALTHCHECK"]
    assert len(checks) == 1
    options, _, command = checks[0].partition("CMD ")
    assert "--interval=" in options and "--timeout=" in options
    probe = json.loads(command)
    assert probe[0] == "python"
    copies = [args.split() for keyword, args in stage if keyword == "COPY"]
    assert ["deploy/healthcheck.py", "./healthcheck.py"] in copies
    workdir = next(args for keyword, args in stage if keyword == "WORKDIR")
    assert probe[1] == f"{workdir}/healthcheck.py"
    assert load_healthcheck().DEFAULT_PATH == "/healthz"
    # compose runs the same probe
    assert services["proxy"]["healthcheck"]["test"] == ["CMD", *probe]


def test_proxy_image_holds_only_the_proxy_with_locked_dependencies(
    proxy_dockerfile: list[tuple[str, str]], config: dict[str, Any]
) -> None:
    args: dict[str, str] = {}
    for keyword, arguments in proxy_dockerfile:
        if keyword == "ARG":
            args.update(env_pairs(arguments))
    assert args["PYTHON_VERSION"] == config["python_version"]
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(rf"^UV_VERSION := {re.escape(args['UV_VERSION'])}$", makefile, re.M)

    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = extra["optional-dependencies"]["proxy"]
    packages = {normalize(re.split(r"[\[<>=~!; ]", p, maxsplit=1)[0]) for p in requirements}
    locked = {
        normalize(package["name"])
        for package in tomllib.loads((ROOT / "uv.lock").read_text())["package"]
    }
    assert packages <= locked, f"not pinned by uv.lock: {packages - locked}"
    run = " ".join(arguments for keyword, arguments in proxy_dockerfile if keyword == "RUN")
    for flag in (
        "uv export ",
        "--locked",
        "--no-dev",
        "--constraint /tmp/constraints.txt",
        '["optional-dependencies"]["proxy"]',
        "--requirement /tmp/proxy-requirements.txt",
    ):
        assert flag in run, flag

    distributions = importlib.metadata.packages_distributions()
    for module in third_party_imports(ROOT / "proxy"):
        provided = {normalize(d) for d in distributions.get(module, [])}
        assert provided & packages, f"proxy imports {module!r}; the proxy extra lacks {provided}"

    copies = [
        arguments.split()[0]
        for keyword, arguments in final_stage(proxy_dockerfile)
        if keyword == "COPY" and "--from" not in arguments
    ]
    assert "proxy" in copies and "agent" not in copies


# --------------------------------------------------------------------------------------------
# deploy/compose.yaml


def test_compose_runs_the_whole_stack(services: dict[str, dict[str, Any]]) -> None:
    assert set(services) == {
        "lb",
        "proxy",
        "langgraph-api",
        "langgraph-queue",
        "langgraph-postgres",
        "langgraph-redis",
    }
    assert services["langgraph-queue"]["profiles"] == ["workers"]
    assert services["langgraph-queue"]["entrypoint"] == ["/storage/queue_entrypoint.sh"]
    assert services["langgraph-api"]["image"] == services["langgraph-queue"]["image"]


def test_every_service_restarts_and_has_a_health_check(
    services: dict[str, dict[str, Any]],
) -> None:
    for name, service in services.items():
        assert service.get("restart") in {"always", "unless-stopped"}, name
        test = service.get("healthcheck", {}).get("test")
        assert isinstance(test, list) and test[0] in {"CMD", "CMD-SHELL"} and len(test) > 1, name
        for dependency, condition in (service.get("depends_on") or {}).items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            assert condition == {"condition": "service_healthy"}, name


def test_scaled_services_can_scale(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        assert "container_name" not in service, name
    for name in SCALED_SERVICES:
        assert "ports" not in services[name], f"{name} publishes a port: --scale would clash"


def test_proxy_service_environment_is_what_the_proxy_reads(
    services: dict[str, dict[str, Any]],
    proxy_dockerfile: list[tuple[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    proxy = services["proxy"]
    environment = {k: str(v) for k, v in proxy["environment"].items()}
    assert set(environment) <= settings_env_names()
    assert "env_file" not in proxy, "the proxy gets only the variables compose.yaml names"
    for name in list(os.environ):
        if name.startswith(("PROXY_", "LANGGRAPH_")):
            monkeypatch.delenv(name)
    with pytest.raises(LookupError, match="PROXY_API_KEYS"):
        interpolate(environment["PROXY_API_KEYS"], {})
    for name, value in environment.items():
        monkeypatch.setenv(name, interpolate(value, {"PROXY_API_KEYS": "k1,k2"}))
    settings = Settings()

    assert [key.get_secret_value() for key in settings.api_keys] == ["k1", "k2"]
    assert settings.host == "0.0.0.0"
    exposed = [a for k, a in final_stage(proxy_dockerfile) if k == "EXPOSE"]
    assert exposed == [str(settings.port)]
    upstream = urlsplit(settings.langgraph_url or "")
    assert upstream.scheme == "http"
    assert upstream.hostname == "langgraph-api" and upstream.port == LANGGRAPH_CONTAINER_PORT

    build = proxy["build"]
    assert (DEPLOY / build["context"]).resolve() == ROOT
    assert (ROOT / build["dockerfile"]).resolve() == DEPLOY / "proxy.Dockerfile"
    assert proxy["read_only"] is True and proxy["cap_drop"] == ["ALL"]


def test_langgraph_services_get_what_the_server_image_requires(
    services: dict[str, dict[str, Any]],
) -> None:
    postgres = services["langgraph-postgres"]["environment"]
    for name in LANGGRAPH_SERVICES:
        service = services[name]
        environment = {k: str(v) for k, v in service["environment"].items()}
        required = {"DATABASE_URI", "REDIS_URI", "N_JOBS_PER_WORKER"} | LICENSE_VARIABLES
        assert required <= set(environment), name
        # the mounted proxy must stay in-process, never loop back over the network
        assert "LANGGRAPH_URL" not in environment, name
        assert service["env_file"] == ".env", name

        database = urlsplit(interpolate(environment["DATABASE_URI"], {"POSTGRES_PASSWORD": "pw"}))
        assert database.scheme == "postgres"
        assert database.hostname == "langgraph-postgres" and database.port == 5432
        assert database.username == postgres["POSTGRES_USER"] and database.password == "pw"
        assert database.path == f"/{postgres['POSTGRES_DB']}"
        assert interpolated_names(environment["DATABASE_URI"]) == interpolated_names(
            postgres["POSTGRES_PASSWORD"]
        )
        redis = urlsplit(environment["REDIS_URI"])
        assert redis.scheme == "redis" and redis.hostname == "langgraph-redis"

        # runs execute by default; the operator's value (0 for an HTTP-only API) wins
        jobs = environment["N_JOBS_PER_WORKER"]
        assert int(interpolate(jobs, {})) >= 1
        knob = {name: "0" for name in interpolated_names(jobs)}
        assert len(knob) == 1 and int(interpolate(jobs, knob)) == 0
        grace = int(environment["BG_JOB_SHUTDOWN_GRACE_PERIOD_SECS"])
        assert int(service["stop_grace_period"].removesuffix("s")) > grace, name

    assert services["langgraph-api"]["healthcheck"]["test"] == [
        "CMD",
        "python",
        "/api/healthcheck.py",
    ]
    queue_probe = " ".join(services["langgraph-queue"]["healthcheck"]["test"])
    queue_port = services["langgraph-queue"]["environment"]["PORT"]
    assert f"http://127.0.0.1:{queue_port}/ok" in queue_probe
    assert services["langgraph-api"]["depends_on"].keys() == {
        "langgraph-postgres",
        "langgraph-redis",
    }


def test_postgres_and_redis_checks_match_their_settings(
    services: dict[str, dict[str, Any]],
) -> None:
    postgres = services["langgraph-postgres"]
    test = postgres["healthcheck"]["test"]
    assert test[1] == "pg_isready"
    assert test[test.index("-U") + 1] == postgres["environment"]["POSTGRES_USER"]
    assert test[test.index("-d") + 1] == postgres["environment"]["POSTGRES_DB"]
    assert any(v.endswith(":/var/lib/postgresql/data") for v in postgres["volumes"])
    assert "ports" not in postgres and "ports" not in services["langgraph-redis"]
    assert services["langgraph-redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]


def test_load_balancer_fronts_the_replicas(services: dict[str, dict[str, Any]]) -> None:
    lb = services["lb"]
    mount = next(v for v in lb["volumes"] if v.split(":")[1] == "/etc/caddy/Caddyfile")
    caddyfile = (DEPLOY / mount.split(":")[0]).read_text()
    sites = {int(port) for port in re.findall(r"^:(\d+) \{", caddyfile, re.M)}
    upstreams = re.findall(r"dynamic a (\S+) (\d+)", caddyfile)
    assert sorted(upstreams) == [
        ("langgraph-api", str(LANGGRAPH_CONTAINER_PORT)),
        ("proxy", services["proxy"]["environment"]["PROXY_PORT"]),
    ]
    assert "flush_interval -1" in caddyfile  # SSE passes unbuffered

    site_upstream = {
        int(site[1]): re.search(r"dynamic a (\S+) ", site[2])[1]  # type: ignore[index]
        for site in re.finditer(r"^:(\d+) \{(.*?)^\}", caddyfile, re.M | re.S)
    }
    assert set(site_upstream) == sites
    published = {}
    for port in lb["ports"]:
        host, _, target = port.rpartition(":")
        published[int(target)] = host
    assert set(published) == sites
    by_upstream = {upstream: site for site, upstream in site_upstream.items()}
    proxy_site = by_upstream["proxy"]
    assert not published[proxy_site].startswith("127.0.0.1:")
    assert published[by_upstream["langgraph-api"]].startswith("127.0.0.1:"), (
        "the LangGraph API has no auth of its own: loopback only"
    )
    probe = " ".join(lb["healthcheck"]["test"])
    assert f"http://127.0.0.1:{proxy_site}/healthz" in probe


def test_compose_variables_are_documented_in_env_example(
    compose_text: str, env_example: dict[str, str | None]
) -> None:
    variables = interpolated_names(compose_text)
    assert set(variables) <= set(env_example), set(variables) - set(env_example)
    required = {name for name, op in variables.items() if op in (":?", "?")}
    assert required == {"POSTGRES_PASSWORD", "PROXY_API_KEYS"}
    # required ones and the license are active lines, left empty for the operator to fill in
    for name in required | LICENSE_VARIABLES:
        assert env_example[name] == "", name
    # deploy/.env is the LangGraph containers' environment: a LANGGRAPH_URL there would send
    # the mounted proxy over the network instead of in-process
    assert "LANGGRAPH_URL" not in env_example


def test_readme_build_commands_make_the_images_compose_runs(
    services: dict[str, dict[str, Any]], readme_deploy: str
) -> None:
    langgraph_tag = re.search(r"langgraph build -t (\S+)", readme_deploy)
    proxy_tag = re.search(r"docker build -f deploy/proxy\.Dockerfile -t (\S+) \.", readme_deploy)
    assert langgraph_tag and proxy_tag
    assert interpolate(services["langgraph-api"]["image"], {}) == langgraph_tag[1]
    assert interpolate(services["proxy"]["image"], {}) == proxy_tag[1]
    assert "docker compose -f deploy/compose.yaml up" in readme_deploy


# --------------------------------------------------------------------------------------------
# deploy/healthcheck.py


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/healthz" else 503)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def fake_proxy() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def run_healthcheck(port: int, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", ""), "PROXY_HOST": "0.0.0.0", "PROXY_PORT": str(port)}
    return subprocess.run(
        [sys.executable, str(DEPLOY / "healthcheck.py"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_healthcheck_passes_on_200_and_fails_otherwise(fake_proxy: int) -> None:
    assert run_healthcheck(fake_proxy).returncode == 0
    ready = run_healthcheck(fake_proxy, "/readyz")
    assert ready.returncode == 1 and "HTTP 503" in ready.stderr
    assert run_healthcheck(fake_proxy, "healthz").returncode == 2


def test_healthcheck_fails_when_nothing_listens() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = run_healthcheck(port)
    assert result.returncode == 1 and f"127.0.0.1:{port}/healthz" in result.stderr


def test_healthcheck_probes_the_proxys_own_listener() -> None:
    module = load_healthcheck()
    assert module.probe_url(environ={}) == "http://127.0.0.1:8000/healthz"
    assert module.probe_url("/readyz", {"PROXY_HOST": "0.0.0.0", "PROXY_PORT": "9000"}) == (
        "http://127.0.0.1:9000/readyz"
    )
    assert module.probe_url(environ={"PROXY_HOST": "::"}) == "http://[::1]:8000/healthz"
    assert module.probe_url(environ={"PROXY_HOST": "10.0.0.5"}) == "http://10.0.0.5:8000/healthz"
    # unset, it assumes the proxy's own defaults
    fields = Settings.model_fields
    assert module.probe_url(environ={}) == (
        f"http://{fields['host'].default}:{fields['port'].default}/healthz"
    )


def test_probed_paths_are_served_by_the_proxy_app() -> None:
    """What the health check probes exists: /healthz answers 200, /readyz 503 when down."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    app = create_app(Settings(langgraph_url=f"http://127.0.0.1:{closed_port}"))
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
        assert client.get("/readyz").status_code == 503
