"""A long successful run is short to read: the text output is a summary (counts, time, backup, the
findings that matter); each revision is listed with --verbose, in `history` and in the JSON
result. `status` lists pending revisions one per row, message only."""
from __future__ import annotations

import json

from alembic_projects import make_project, revision
from harness import run_cli

COUNT = 120


def long_chain(root):
    """A chain like a real project's: tables created, then columns added, renamed and indexed;
    docstrings as older Alembic templates wrote them (no blank line before "Revision ID")."""
    revisions = {}
    down = None
    for number in range(1, COUNT + 1):
        rev = f"r{number:03d}"
        table = f"t{(number - 1) // 4:02d}"
        step = (number - 1) % 4
        if step == 0:
            up = f'op.create_table("{table}", sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True))'
            back = f'op.drop_table("{table}")'
        elif step == 1:
            up = f'op.add_column("{table}", sa.Column("name", sa.Text(), nullable=False))'
            back = f'op.drop_column("{table}", "name")'
        elif step == 2:
            up = f'op.alter_column("{table}", "name", new_column_name="title")'
            back = f'op.alter_column("{table}", "title", new_column_name="name")'
        else:
            up = f'op.create_index("ix_{table}_title", "{table}", ["title"])'
            back = f'op.drop_index("ix_{table}_title", table_name="{table}")'
        source = revision(rev, down, up, back)
        source = source.replace(f'"""revision {rev}"""', f'"""step {number} of the chain\nRevision ID: {rev}\n'
                                                         f'Revises: {down}\nCreate Date: 2024-01-01"""')
        revisions[f"{rev}.py"] = source
        down = rev
    return make_project(root, revisions)


def lines(text: str) -> list:
    return [line for line in text.splitlines() if line.strip()]


def test_a_long_upgrade_prints_a_summary_and_json_keeps_every_step(database, env, tmp_path):
    ini = long_chain(tmp_path / "project")
    status = run_cli("--config", str(ini), "status", env=env)
    assert status.returncode == 0, status.stdout + status.stderr
    rows = [line for line in status.stdout.splitlines() if " -> r" in line]
    assert len(rows) == COUNT                                     # one row per pending revision
    assert rows[0].split()[1:] == ["base", "->", "r001", "step", "1", "of", "the", "chain"], rows[0]
    assert "Revision ID" not in status.stdout and "Create Date" not in status.stdout
    pending = json.loads(run_cli("--config", str(ini), "--format", "json", "status", env=env).stdout)["pending"]
    assert pending[41] == "r041 -> r042: step 42 of the chain"

    done = run_cli("--config", str(ini), "upgrade", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    output = lines(done.stdout) + lines(done.stderr)
    assert len(output) < 40, "\n".join(output)
    assert "120 revisions, from base -> r001: step 1 of the chain to r119 -> r120: step 120 of the chain" in done.stdout
    assert "120 applied" in done.stdout and "backup_" in done.stdout
    assert "Running upgrade" not in done.stderr
    assert database.sql("SELECT version_num FROM alembic_version") == [("r120",)]
    # every revision is in the run record
    history = json.loads(run_cli("--config", str(ini), "--format", "json", "history", env=env).stdout)
    assert sum(1 for r in history["revisions"] if r["applied"] and r["last_run"]) == COUNT

    # JSON keeps every step and every finding; --verbose lists each revision as text
    down = json.loads(run_cli("--config", str(ini), "--format", "json", "downgrade", "base", env=env).stdout)
    assert down["status"] == "applied" and len(down["steps"]) == COUNT
    up = json.loads(run_cli("--config", str(ini), "--format", "json", "upgrade", env=env).stdout)
    assert len(up["steps"]) == COUNT and len(up["findings"]) >= COUNT      # the downgrade()s' info findings
    assert not [f for f in up["findings"] if f["severity"] != "info"]
    verbose = run_cli("--config", str(ini), "downgrade", "--verbose", "base", env=env)
    assert verbose.returncode == 0, verbose.stdout + verbose.stderr
    assert sum(1 for line in verbose.stdout.splitlines() if " -> r" in line or "r001 -> base" in line) >= COUNT
    assert "Running downgrade r120 -> r119" in verbose.stderr


def test_findings_that_can_block_stay_in_the_summary(database, env, tmp_path):
    ini = long_chain(tmp_path / "project")
    assert run_cli("--config", str(ini), "upgrade", "--revision", "r001", env=env).returncode == 0
    database.sql("INSERT INTO t00 DEFAULT VALUES")
    dry = run_cli("--config", str(ini), "upgrade", "--dry-run", "--revision", "r004", env=env)
    # r002 adds a NOT NULL column to t00, which now has a row: an error, listed by itself
    assert dry.returncode == 3, dry.stdout + dry.stderr
    listed = [line for line in dry.stdout.splitlines() if line.startswith(("error", "warning"))]
    assert any("add-not-null-column-without-default" in line and "r002.py" in line for line in listed), dry.stdout
    assert "validation: 1 error, 1 warning, 4 info; 4 not shown" in dry.stdout


def test_an_upgrade_refused_by_validation_lists_what_stopped_it_not_every_info_finding(database, env, tmp_path):
    """Langflow's 162 revisions, refused on 3 errors, printed 2,581 lines: every info finding of the
    chain with its source line and advice, the 3 errors somewhere among them. A refusal now lists the
    errors and warnings in full and counts the rest (`--verbose` and `validate` list everything)."""
    ini = long_chain(tmp_path / "project")
    assert run_cli("--config", str(ini), "upgrade", "--revision", "r001", env=env).returncode == 0
    database.sql("INSERT INTO t00 DEFAULT VALUES")
    refused = run_cli("--config", str(ini), "upgrade", env=env)
    assert refused.returncode == 3, refused.stdout + refused.stderr
    output = lines(refused.stdout) + lines(refused.stderr)
    assert len(output) < 40, "\n".join(output)
    assert any("error[add-not-null-column-without-default]" in line for line in output), refused.stdout
    assert "do instead:" in refused.stdout and "info[" not in refused.stdout
    assert "info not shown (--verbose, --format json or `validate` list them)" in refused.stdout
    verbose = run_cli("--config", str(ini), "upgrade", "--verbose", env=env)
    assert verbose.returncode == 3 and "info[" in verbose.stdout
