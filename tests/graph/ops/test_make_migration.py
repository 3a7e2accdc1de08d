"""`ordergraph make-migration` writes a revision for what the code defines and migrations lack,
and nothing when they lack nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import Column, MetaData, String, Table

import graph.ops.migrate
from graph.cli import main
from readmodels.sqltypes import Money


def test_a_new_table_gets_a_revision_that_needs_no_application_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    migrations = tmp_path / "migrations"
    shutil.copytree(graph.ops.migrate.MIGRATIONS, migrations)
    monkeypatch.setattr(graph.ops.migrate, "MIGRATIONS", migrations)
    defined = graph.ops.migrate.target_metadata

    def with_gift_notes() -> MetaData:
        metadata = defined()
        Table(
            "gift_note",
            metadata,
            Column("order_id", String(128), primary_key=True),
            Column("amount", Money(), nullable=False),
        )
        return metadata

    monkeypatch.setattr(graph.ops.migrate, "target_metadata", with_gift_notes)
    head = graph.ops.migrate.head_revision()
    assert main(["make-migration", "gift notes"]) == 0
    written = Path(capsys.readouterr().out.strip().splitlines()[-1])
    assert written.parent == migrations / "versions"
    text = written.read_text()
    assert 'op.create_table(\n        "gift_note"' in text or "op.create_table('gift_note'" in text
    assert "sa.String(length=48)" in text
    assert "readmodels" not in text
    assert f"down_revision: str | Sequence[str] | None = '{head}'" in text


def test_no_change_says_so_in_one_line_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    migrations = tmp_path / "migrations"
    shutil.copytree(graph.ops.migrate.MIGRATIONS, migrations)
    monkeypatch.setattr(graph.ops.migrate, "MIGRATIONS", migrations)
    before = sorted((migrations / "versions").glob("*.py"))
    assert main(["make-migration", "nothing new"]) == 0
    assert capsys.readouterr().out == (
        "no schema change to write: the migrations already build what the code defines\n"
    )
    assert sorted((migrations / "versions").glob("*.py")) == before
