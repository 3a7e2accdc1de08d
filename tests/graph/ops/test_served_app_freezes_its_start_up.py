"""Under `ordergraph serve` (create_app(freeze_gc=True), create_served_app for workers) what
start-up built is frozen out of the cyclic GC; an app built for tests or an embedder leaves the
GC alone. Each case runs in a process of its own: a freeze is process-wide."""

from __future__ import annotations

import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pathlib import Path

SCRIPT = """
import asyncio, gc, sys
from graph.app import create_app
from graph.settings import Settings

async def main():
    app = create_app(Settings(database_url=sys.argv[1]), freeze_gc=sys.argv[2] == "yes")
    async with app.router.lifespan_context(app):
        print(gc.get_freeze_count())

asyncio.run(main())
"""


@pytest.mark.parametrize(("freeze", "frozen"), [("yes", True), ("no", False)])
def test_only_a_served_app_freezes_what_start_up_built(
    tmp_path: Path, freeze: str, frozen: bool
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'gc.db'}"
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, url, freeze],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    count = int(done.stdout.strip().splitlines()[-1])
    assert (count > 10_000) is frozen, count
