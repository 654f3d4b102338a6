"""docker-compose.yml and the Dockerfile: Asterisk, the service, its workers, PostgreSQL and Prometheus, a
shared recordings volume, real settings, a health check on every service."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from callcenter.settings import Settings

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"
ASTERISK_RECORDINGS = "/var/spool/asterisk/monitor/hotline"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def volume_mounts(service: dict[str, Any]) -> dict[str, str]:
    """target -> source of a service's short-syntax volumes."""
    mounts = {}
    for entry in service.get("volumes", []):
        assert isinstance(entry, str), "short volume syntax expected"
        source, target, *_mode = entry.split(":")
        mounts[target] = source
    return mounts


def test_the_services(compose: dict[str, Any]) -> None:
    assert {"asterisk", "callcenter", "worker", "postgres", "prometheus"} <= set(compose["services"])


def test_every_service_has_a_health_check(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        check = service.get("healthcheck", {}).get("test")
        assert check and check[0] in ("CMD", "CMD-SHELL"), f"{name} has no health check"
    # the service's is its readiness endpoint, on the port it listens on
    assert "http://127.0.0.1:8080/readyz" in " ".join(
        compose["services"]["callcenter"]["healthcheck"]["test"]
    )
    assert compose["services"]["worker"]["healthcheck"]["test"] == ["CMD", "callcenter", "ready"]


def test_prometheus_scrapes_the_service_with_the_file_the_readme_names(compose: dict[str, Any]) -> None:
    prometheus = compose["services"]["prometheus"]
    mounts = volume_mounts(prometheus)
    source = mounts["/etc/prometheus/prometheus.yml"]
    assert source == "./config/prometheus.yml" and "config/prometheus.yml" in (REPO / "README.md").read_text()
    scrape = yaml.safe_load((REPO / source).read_text(encoding="utf-8"))
    [job] = scrape["scrape_configs"]
    assert job["metrics_path"] == "/metrics"
    http_port = compose["services"]["callcenter"]["environment"]["CALLCENTER_HTTP__PORT"]
    assert job["static_configs"][0]["targets"] == [f"callcenter:{http_port}"]
    assert all(str(p).startswith("127.0.0.1:") for p in prometheus.get("ports", []))


def test_workers_share_the_queue_and_the_recordings(compose: dict[str, Any]) -> None:
    services = compose["services"]
    worker, callcenter = services["worker"], services["callcenter"]
    assert worker["command"][:2] == ["callcenter", "worker"] and worker["build"] == "."
    assert (
        worker["environment"]["CALLCENTER_DATABASE__URL"]
        == callcenter["environment"]["CALLCENTER_DATABASE__URL"]
    )
    assert volume_mounts(worker)["/recordings"] == volume_mounts(callcenter)["/recordings"]
    assert callcenter["environment"]["CALLCENTER_TRANSCRIPTION__WORKERS"] == "0"  # the workers do it
    assert worker["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_recordings_volume_is_shared(compose: dict[str, Any]) -> None:
    services = compose["services"]
    asterisk = volume_mounts(services["asterisk"])
    callcenter = volume_mounts(services["callcenter"])
    volume = asterisk[ASTERISK_RECORDINGS]
    assert volume in compose["volumes"], "a named volume, not a host path"
    recordings_dir = services["callcenter"]["environment"]["CALLCENTER_RECORDINGS__DIR"]
    assert callcenter[recordings_dir] == volume


def test_asterisk_gets_the_dialplan_and_the_sounds(compose: dict[str, Any]) -> None:
    asterisk = compose["services"]["asterisk"]
    assert re.search(r"asterisk:22\b", asterisk["image"])
    sources = set(volume_mounts(asterisk).values())
    for name in ("extensions_hotline.conf", "globals_hotline.conf", "pjsip_hotline.conf"):
        assert f"./dialplan/{name}" in sources
        assert (REPO / "dialplan" / name).is_file()
    assert volume_mounts(asterisk)["/var/lib/asterisk/sounds/vi"] == "./dialplan/sounds/vi"
    # The includes that make Asterisk read them.
    configs = {c["target"]: compose["configs"][c["source"]]["content"] for c in asterisk["configs"]}
    extensions = configs["/etc/asterisk/extensions.conf"]
    assert extensions.index("[globals]") < extensions.index('#include "hotline/globals_hotline.conf"')
    assert '#include "hotline/extensions_hotline.conf"' in extensions
    assert '#include "hotline/pjsip_hotline.conf"' in configs["/etc/asterisk/pjsip.conf"]


def test_callcenter_environment(compose: dict[str, Any]) -> None:
    callcenter = compose["services"]["callcenter"]
    assert callcenter["build"] == "."
    env = callcenter["environment"]
    assert (
        env["CALLCENTER_DATABASE__URL"]
        == "postgresql+asyncpg://callcenter:callcenter@postgres:5432/callcenter"
    )
    assert env["CALLCENTER_AGI__HOST"] == "0.0.0.0"
    assert env["CALLCENTER_HTTP__HOST"] == "0.0.0.0"
    assert env["CALLCENTER_RECORDINGS__DIR"] == "/recordings"
    assert callcenter["depends_on"]["postgres"]["condition"] == "service_healthy"
    # FastAGI has no authentication: never published beyond loopback.
    assert all(str(p).startswith("127.0.0.1:") for p in callcenter.get("ports", []))


def test_env_names_follow_the_settings(compose: dict[str, Any]) -> None:
    """CALLCENTER_ prefix, `__` between a section and its key, and every name is a real setting."""
    env = compose["services"]["callcenter"]["environment"]
    for name in env:
        assert re.fullmatch(r"CALLCENTER_[A-Z0-9]+(?:__[A-Z0-9_]+)?", name), name
        section, _, key = name.removeprefix("CALLCENTER_").lower().partition("__")
        assert section in Settings.model_fields, f"{name}: no settings section {section}"
        if key:
            model = Settings.model_fields[section].annotation
            assert model is not None and key in model.model_fields, f"{name}: no key {key} in [{section}]"


def test_postgres_healthcheck(compose: dict[str, Any]) -> None:
    postgres = compose["services"]["postgres"]
    assert postgres["image"].startswith("postgres:15")
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    env = postgres["environment"]
    assert (env["POSTGRES_USER"], env["POSTGRES_PASSWORD"], env["POSTGRES_DB"]) == ("callcenter",) * 3


def test_dockerfile() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert text.startswith("# ") and "FROM python:3.11-slim" in text
    assert re.search(r"^RUN pip install \.$", text, re.MULTILINE)
    assert 'CMD ["callcenter", "serve"]' in text
    for copied in re.findall(r"^COPY (.+) \S+$", text, re.MULTILINE):
        for path in copied.split():
            assert (REPO / path).exists(), f"Dockerfile copies {path}, which does not exist"


def test_asterisk_gets_the_ari_pieces_the_readme_installs(compose: dict[str, Any]) -> None:
    asterisk = compose["services"]["asterisk"]
    mounts = volume_mounts(asterisk)
    assert mounts["/etc/asterisk/hotline/http_hotline.conf"] == "./dialplan/http_hotline.conf"
    assert mounts["/etc/asterisk/hotline/ari_hotline.conf"] == "./dialplan/ari_hotline.conf"
    configs = {c["target"]: compose["configs"][c["source"]]["content"] for c in asterisk["configs"]}
    assert '#include "hotline/http_hotline.conf"' in configs["/etc/asterisk/http.conf"]
    assert '#include "hotline/ari_hotline.conf"' in configs["/etc/asterisk/ari.conf"]
    # Off until a site sets the ARI password: the service must not try an unconfigured Asterisk.
    assert compose["services"]["callcenter"]["environment"]["CALLCENTER_ARI__ENABLED"] == "false"
