"""`ordergraph serve` sets GC_THRESHOLDS once the service has started; an app built without
`tune_gc` (tests, embedders) leaves the process's GC alone. Each case runs in a process of its
own: the thresholds would outlive the test."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from graph.app import GC_THRESHOLDS

REPO = Path(__file__).resolve().parents[2]

PROBE = """
import gc, json, sys
from starlette.testclient import TestClient
from graph.app import create_app
from graph.settings import Settings
app = create_app(Settings(database_url=sys.argv[1]), tune_gc=sys.argv[2] == "tuned")
before = gc.get_threshold()
with TestClient(app, base_url="http://127.0.0.1") as client:
    status = client.get("/healthz").status_code
    print(json.dumps({"before": before, "during": gc.get_threshold(),
                      "frozen": gc.get_freeze_count(), "status": status}))
"""


def _probe(tmp_path: Path, mode: str) -> dict[str, object]:
    url = f"sqlite+aiosqlite:///{tmp_path}/{mode}.db"
    done = subprocess.run(
        [sys.executable, "-c", PROBE, url, mode],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    found: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def test_a_served_app_sets_the_thresholds_and_freezes_nothing(tmp_path: Path) -> None:
    found = _probe(tmp_path, "tuned")
    assert found["status"] == 200
    assert found["before"] == [700, 10, 10]
    assert found["during"] == list(GC_THRESHOLDS)
    assert found["frozen"] == 0


def test_an_app_built_without_tune_gc_leaves_the_gc_alone(tmp_path: Path) -> None:
    found = _probe(tmp_path, "plain")
    assert found["status"] == 200
    assert found["during"] == found["before"] == [700, 10, 10]
    assert found["frozen"] == 0
