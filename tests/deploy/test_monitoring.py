"""deploy/'s Prometheus configuration, alert rules and Grafana dashboard: valid for
promtool, each alert shown firing and quiet (alerts.test.yml), and every metric they
name one the server exposes."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from magic_hour_server._metrics import Metrics

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "deploy" / "prometheus"
DASHBOARD = ROOT / "deploy" / "grafana" / "dashboard.json"
# Where `make` unpacks Debian's promtool (see the Makefile), else the PATH's.
UNPACKED = Path(sys.executable).parents[1] / "prometheus" / "usr" / "bin" / "promtool"


def promtool() -> str:
    found = str(UNPACKED) if UNPACKED.exists() else shutil.which("promtool")
    if found is None:
        pytest.skip("promtool is not on this machine: `make test` unpacks it with apt-get")
    return found


@pytest.mark.parametrize(
    "arguments",
    [
        ["check", "rules", "alerts.yml"],
        ["test", "rules", "alerts.test.yml"],
        ["check", "config", "prometheus.yml"],
    ],
    ids=lambda arguments: " ".join(arguments[:2]),
)
def test_promtool_accepts_the_rules_and_their_tests(arguments: list[str]) -> None:
    run = subprocess.run(
        [promtool(), *arguments], cwd=PROMETHEUS, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "SUCCESS" in run.stdout + run.stderr


def test_every_alert_has_a_test_that_fires_it_and_one_that_stays_quiet() -> None:
    rules = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())
    names = {rule["alert"] for group in rules["groups"] for rule in group["rules"]}
    cases = yaml.safe_load((PROMETHEUS / "alerts.test.yml").read_text())["tests"]
    fired: set[str] = set()
    quiet: set[str] = set()
    for case in cases:
        for check in case["alert_rule_test"]:
            (fired if check["exp_alerts"] else quiet).add(check["alertname"])
    assert fired == names and quiet == names


def exposed_names() -> set[str]:
    """Every series name the server's metrics expose, with the suffixes Prometheus adds."""

    class Queue:
        def queue_stats(self) -> tuple[int, float | None]:
            return 0, None

    metrics = Metrics()
    metrics.watch_queue(Queue())
    suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_count", "_sum"], "gauge": [""]}
    names = {
        family.name + suffix
        for family in metrics.registry.collect()
        for suffix in suffixes[family.type]
    }
    return names | {"up"}


def _metric_names(expression: str) -> set[str]:
    words = set(re.findall(r"\b(magic_hour_\w+|up)\b", expression))
    return words


def test_the_rules_and_the_dashboard_name_only_metrics_the_server_exposes() -> None:
    exposed = exposed_names()
    rules = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())
    expressions = [rule["expr"] for group in rules["groups"] for rule in group["rules"]]
    dashboard = json.loads(DASHBOARD.read_text())
    expressions += [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    named = set().union(*(_metric_names(e) for e in expressions))
    assert named and named <= exposed, named - exposed
    # The dashboard shows what the issue asks an operator to see.
    for wanted in ("magic_hour_queue_depth", "magic_hour_oldest_queued_age_seconds",
                   "magic_hour_detector_inference_seconds_bucket",
                   "magic_hour_leases_reclaimed_total"):  # fmt: skip
        assert wanted in named


def test_prometheus_scrapes_the_ports_compose_opens() -> None:
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    compose = (ROOT / "deploy" / "compose.yaml").read_text()
    ports = {job["job_name"]: job["dns_sd_configs"][0]["port"] for job in config["scrape_configs"]}
    assert ports == {"magic-hour-api": 8000, "magic-hour-worker": 9100}
    assert "--metrics-port 9100" in compose and "--port 8000" in compose
