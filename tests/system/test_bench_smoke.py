"""The benchmark runs (its cheapest row) through `ordergraph bench` and writes its JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from graph.cli import main


@pytest.mark.slow
def test_the_peer_row_runs_and_reports(tmp_path: Path) -> None:
    report = tmp_path / "bench.json"
    assert main(["bench", "--quick", "--only", "peer", "--json", str(report)]) == 0
    written = json.loads(report.read_text())
    (row,) = written["rows"]
    assert row["name"] == "peer"
    assert row["value"] > 0
    assert row["extra"]["ordergraph"] > 0
    assert row["extra"]["peer"] > 0
    assert "eventsourcing" in written["versions"]
