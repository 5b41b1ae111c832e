"""MIGRATION_BACKUP_FORMAT=plain: a `.sql` dump anyone can open, with the same sidecar, hash and
verification as the custom archive, restored in one transaction — all or nothing — proven with
the fingerprint."""
from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import pytest

from alembic_projects import make_project, revision
from harness import fingerprint, run_cli

EXIT_FAILED = 1

ITEMS = revision("a1", None, """
    op.execute("CREATE TABLE items (id int PRIMARY KEY, label text NOT NULL)")
    op.execute("INSERT INTO items SELECT g, 'item ' || g || E' tab\\\\t and -- Name: x' FROM generate_series(1, 2000) g")
    op.execute("CREATE TABLE notes (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, body text)")
    op.execute("INSERT INTO notes (body) VALUES ('first'), ('second')")
""", 'op.execute("DROP TABLE notes"); op.execute("DROP TABLE items")')
RELABEL = revision("b2", "a1", """
    op.execute("UPDATE items SET label = 'relabelled ' || id")
    op.execute("INSERT INTO notes (body) VALUES ('written by b2')")
    op.execute("CREATE TABLE created_by_b2 (id int)")
""")
FAILS = revision("c3", "b2", """
    op.execute("INSERT INTO items VALUES (1, 'duplicate key: fails')")
""")


@pytest.fixture
def env(database, tmp_path):
    environment = database.env()
    environment.update(MIGRATION_BACKUP_DIR=str(tmp_path / "backups"), MIGRATION_BACKUP_FORMAT="plain")
    return environment


@pytest.fixture
def ini(tmp_path) -> Path:
    return make_project(tmp_path / "project", {"a1.py": ITEMS, "b2.py": RELABEL, "c3.py": FAILS},
                        transaction_per_migration=True)


def cli(ini: Path, env: dict, *args, expect: int = 0) -> dict:
    result = run_cli("--config", str(ini), "--format", "json", *args, env=env)
    assert result.returncode == expect, result.stdout + result.stderr
    return json.loads(result.stdout) if result.stdout.strip() else {}


def test_plain_backup_is_a_verified_sql_file_with_a_signed_sidecar(database, env, ini, tmp_path):
    cli(ini, env, "upgrade", "--revision", "a1")
    cli(ini, env, "upgrade", "--revision", "b2")
    backups = tmp_path / "backups"
    [first, second] = sorted(backups.glob("backup_*.sql"))
    assert not list(backups.glob("backup_*.dump"))
    assert second.read_bytes().startswith(b"--\n-- PostgreSQL database dump\n")
    assert "COPY public.items" in second.read_text()
    assert os.stat(second).st_mode & 0o777 == 0o600
    sidecar = json.loads(second.with_suffix(".json").read_text())
    assert sidecar["format"] == "plain" and sidecar["size_bytes"] == second.stat().st_size and sidecar["mac"]

    verified = cli(ini, env, "backups", "verify", "latest")
    assert verified["ok"] and "plain SQL read" in [check["check"] for check in verified["checks"]]
    listed = cli(ini, env, "backups", "list")
    assert len(listed["backups"] if isinstance(listed, dict) else listed) == 2

    # a plain dump cut short fails the syntax-level read even with a sidecar re-signed for it
    from migration_safety.backup.catalog import verify_archive_readable
    from migration_safety.base.errors import ToolError
    from migration_safety.postgres.tools import find_tools

    text = second.read_bytes()
    cut = tmp_path / "cut.sql"
    cut.write_bytes(text[:text.index(b"COPY public.items") + 200])
    with pytest.raises(ToolError, match="cut short"):
        verify_archive_readable(cut, find_tools(["pg_restore"])["pg_restore"])


def test_failure_after_a_committed_revision_is_restored_identical_from_a_plain_dump(database, env, ini):
    cli(ini, env, "upgrade", "--revision", "a1")
    before = fingerprint(database)
    runs_before = database.sql("SELECT count(*) FROM migration_safety.migration_history")[0][0]

    payload = cli(ini, env, "upgrade", expect=EXIT_FAILED)
    assert payload["status"] == "failed-restored", payload
    assert payload["backup"].endswith(".sql")
    assert any("full restore: the backup is a plain SQL dump" in note for note in payload["notes"]), payload
    assert fingerprint(database) == before
    # the audit trail is kept through the restore (the dump's copy of it is not what remains)
    assert database.sql("SELECT count(*) FROM migration_safety.migration_history")[0][0] > runs_before


@pytest.fixture
def psql_cut_short(tmp_path) -> Path:
    """A bin directory whose psql stops reading its input 150 lines into what it is fed and is
    then killed (SIGKILL, as by the OOM killer); pg_dump and pg_restore are the real ones."""
    from migration_safety.postgres.tools import find_tools

    real = find_tools(["pg_dump", "pg_restore", "psql"])
    bin_dir = tmp_path / "pg_bin"
    bin_dir.mkdir()
    for name in ("pg_dump", "pg_restore"):
        (bin_dir / name).symlink_to(real[name].path)
    stand_in = bin_dir / "psql"
    stand_in.write_text(textwrap.dedent(f"""\
        #!/bin/sh
        for arg in "$@"; do
            case "$arg" in --version|-V) exec "{real['psql'].path}" "$@";; esac
        done
        head -n 150 | "{real['psql'].path}" "$@"
        kill -9 $$
        """))
    stand_in.chmod(0o755)
    return bin_dir


def test_plain_restore_cut_short_on_the_psql_side_changes_nothing(database, env, ini, psql_cut_short):
    cli(ini, env, "upgrade", "--revision", "a1")
    cli(ini, env, "upgrade", "--revision", "b2")          # its plain backup holds the database at a1
    database.sql("INSERT INTO items VALUES (5000, 'after the backup'); CREATE TABLE scratch (id int)")
    changed = fingerprint(database)

    env["MIGRATION_PG_BIN_DIR"] = str(psql_cut_short)
    result = run_cli("--config", str(ini), "restore", "--backup", "latest", "--yes", env=env)
    assert result.returncode == EXIT_FAILED, result.stdout + result.stderr
    assert "rolled back" in result.stderr
    assert fingerprint(database) == changed

    env.pop("MIGRATION_PG_BIN_DIR")                      # with a working psql the same file restores a1
    restored = run_cli("--config", str(ini), "restore", "--backup", sorted(
        Path(env["MIGRATION_BACKUP_DIR"]).glob("backup_*.sql"))[1].name, "--yes", env=env)
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert database.sql("SELECT count(*) FROM items WHERE label LIKE 'relabelled%'")[0][0] == 0
    assert not database.sql("SELECT 1 FROM pg_tables WHERE tablename IN ('scratch', 'created_by_b2')")


# -- issue 21.3: a plain backup runs no command on the tool's machine ----------------------------

PLANTED = [   # where an attacker who can write the file (or the key holder) could put a command
    ("before pg_dump's own \\restrict", lambda text, mark: text.replace(
        b"--\n-- PostgreSQL database dump\n--\n", b"--\n-- PostgreSQL database dump\n--\n\\! touch " + mark + b"\n", 1)),
    ("after a statement, mid-line", lambda text, mark: text.replace(
        b"SET lock_timeout = 0;", b"SET lock_timeout = 0; \\! touch " + mark, 1)),
    ("\\o into a pipe", lambda text, mark: text.replace(
        b"SET lock_timeout = 0;", b"SET lock_timeout = 0;\n\\o |touch " + mark + b"\nSELECT 1;", 1)),
    ("\\copy from a program", lambda text, mark: text.replace(
        b"SET lock_timeout = 0;", b"SET lock_timeout = 0;\n\\copy (SELECT 1) TO PROGRAM 'touch " + mark + b"'", 1)),
    ("after pg_dump's own \\unrestrict", lambda text, mark: text + b"\\! touch " + mark
     + b"\n--\n-- PostgreSQL database dump complete\n--\n"),
    ("\\unrestrict with the dump's key", lambda text, mark: text.replace(
        b"SET lock_timeout = 0;", b"SET lock_timeout = 0;\n\\unrestrict " + text.split(b"\\restrict ")[1].split(b"\n")[0]
        + b"\n\\! touch " + mark, 1)),
]


@pytest.mark.parametrize("where,plant", PLANTED, ids=[where for where, _ in PLANTED])
def test_a_command_planted_in_a_plain_backup_is_never_run(database, env, ini, tmp_path, where, plant):
    import hashlib
    import uuid

    from test_backup_security import resign

    cli(ini, env, "upgrade", "--revision", "a1")
    cli(ini, env, "upgrade", "--revision", "b2")          # its plain backup holds the database at a1
    database.sql("INSERT INTO items VALUES (5000, 'after the backup')")
    changed = fingerprint(database)
    mark = Path(f"/tmp/pwned-{uuid.uuid4().hex}")
    archive = sorted(Path(env["MIGRATION_BACKUP_DIR"]).glob("backup_*.sql"))[1]
    planted = plant(archive.read_bytes(), str(mark).encode())
    assert str(mark).encode() in planted
    archive.write_bytes(planted)
    # signed again as the key holder would: the signature proves who made a file, not that it is harmless
    resign(archive.with_suffix(".json"), sha256=hashlib.sha256(planted).hexdigest(), size_bytes=len(planted))

    result = run_cli("--config", str(ini), "restore", "--backup", archive.name, "--yes", env=env)
    assert result.returncode == EXIT_FAILED, result.stdout + result.stderr
    assert "backslash command" in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert not mark.exists()
    assert fingerprint(database) == changed

    # whatever --trust-unsigned-backup says, with no sidecar at all
    archive.with_suffix(".json").unlink()
    result = run_cli("--config", str(ini), "restore", "--backup", archive.name, "--yes", "--trust-unsigned-backup",
                     env=env)
    assert result.returncode == EXIT_FAILED, result.stdout + result.stderr
    assert not mark.exists()
    assert fingerprint(database) == changed
