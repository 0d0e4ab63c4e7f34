"""``deploy/prometheus-alerts.yml`` is a rules file Prometheus accepts (the fields and forms
its rule loader requires: no promtool is packaged here), and it speaks only of metrics and
label values that the receiver and the workers really export."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import generate_latest

from core.store.sqlite.store import SQLiteEventStore
from receiver.observability.families import RESULTS
from tests.fixtures.receiver import MakeReceiver, record_selfcheck
from workers.metrics import WorkerMetrics

RULES = Path(__file__).resolve().parents[2] / "deploy" / "prometheus-alerts.yml"
NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
DURATION = re.compile(r"^(\d+y)?(\d+w)?(\d+d)?(\d+h)?(\d+m)?(\d+s)?(\d+ms)?$")
RULE_KEYS = {"alert", "record", "expr", "for", "keep_firing_for", "labels", "annotations"}
GROUP_KEYS = {"name", "rules", "interval", "limit", "query_offset", "labels"}
OUR_METRIC = re.compile(r"billoget_hooks_[a-z_]+")
RESULT_MATCH = re.compile(r'result=~"([^"]+)"')


def rules() -> list[dict[str, Any]]:
    data = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    return [rule for group in data["groups"] for rule in group["rules"]]


def balanced(expr: str) -> bool:
    stack: list[str] = []
    pairs = {")": "(", "]": "[", "}": "{"}
    in_string = False
    for char in expr:
        if char == '"':
            in_string = not in_string
        elif in_string:
            continue
        elif char in "([{":
            stack.append(char)
        elif char in pairs and (not stack or stack.pop() != pairs[char]):
            return False
    return not stack and not in_string


def test_the_rules_file_has_the_shape_prometheus_requires() -> None:
    data = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    assert set(data) == {"groups"}
    names = [g["name"] for g in data["groups"]]
    assert len(names) == len(set(names)) and all(names)
    for group in data["groups"]:
        assert set(group) <= GROUP_KEYS
        assert isinstance(group["rules"], list) and group["rules"]
        for rule in group["rules"]:
            assert set(rule) <= RULE_KEYS, rule
            assert ("alert" in rule) != ("record" in rule)
            assert NAME.match(rule.get("alert") or rule["record"])
            assert isinstance(rule["expr"], str) and rule["expr"].strip()
            assert balanced(rule["expr"]), rule["expr"]
            for key in ("for", "keep_firing_for"):
                if key in rule:
                    assert DURATION.match(rule[key]) and rule[key], rule[key]
            for key in ("labels", "annotations"):
                for name, value in rule.get(key, {}).items():
                    assert LABEL.match(name) and isinstance(value, str), (name, value)
            if "alert" in rule:
                assert rule["labels"]["severity"] in {"info", "warning", "critical"}
                assert rule["annotations"]["summary"]


def test_the_rules_cover_silence_dead_letters_signature_spikes_and_queue_lag() -> None:
    exprs = " ".join(rule["expr"] for rule in rules())
    assert 'billoget_hooks_alert_active{alert="silence"}' in exprs
    assert 'billoget_hooks_events{status="dead"}' in exprs
    assert "invalid_signature" in exprs
    assert "billoget_hooks_oldest_unprocessed_age_seconds" in exprs


@pytest.mark.parametrize("rule", rules(), ids=lambda r: r.get("alert") or r.get("record"))
async def test_each_rule_uses_metrics_and_results_that_exist(
    rule: dict[str, Any], make_receiver: MakeReceiver, store: SQLiteEventStore
) -> None:
    record_selfcheck(store)  # with a self-check on record, as in production
    receiver = await make_receiver()
    async with receiver.get("/metrics") as resp:
        exported = await resp.text()
    exported += generate_latest(WorkerMetrics().registry).decode()
    known = set(OUR_METRIC.findall(exported))
    for metric in OUR_METRIC.findall(rule["expr"]):
        assert metric in known, f"{metric} is not exported"
    for match in RESULT_MATCH.findall(rule["expr"]):
        assert set(match.split("|")) <= set(RESULTS), match
