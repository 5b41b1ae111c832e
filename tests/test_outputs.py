"""What the CLI prints: one JSON document per outcome, checked against the published schemas
(docs/schemas/), errors included; the backup's progress; the restore prompt; the history's
per-revision durations."""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from alembic_projects import make_project, revision
from harness import REPO_ROOT, fingerprint, run_cli

SCHEMAS = REPO_ROOT / "docs" / "schemas"


@pytest.fixture
def env(database, tmp_path):
    environment = database.env()
    environment["MIGRATION_BACKUP_DIR"] = str(tmp_path / "backups")
    return environment


def document(schema: str, *args, env, expect: int = 0, cwd=None, input=None) -> dict:
    """The CLI's stdout under --format json: exactly one JSON document, valid against ``schema``."""
    result = run_cli("--format", "json", *args, env=env, cwd=cwd, input=input)
    assert result.returncode == expect, result.stdout + result.stderr
    payload = json.loads(result.stdout)            # one document: anything around it fails to parse
    jsonschema.validate(payload, json.loads((SCHEMAS / f"{schema}.schema.json").read_text()),
                        format_checker=jsonschema.FormatChecker())
    return payload


def test_every_schema_is_a_valid_json_schema():
    names = sorted(path.name for path in SCHEMAS.glob("*.schema.json"))
    assert "error.schema.json" in names and len(names) >= 15
    for path in SCHEMAS.glob("*.schema.json"):
        jsonschema.Draft202012Validator.check_schema(json.loads(path.read_text()))


def test_every_command_prints_one_document_of_its_schema(database, env, tmp_path):
    assert document("run", "upgrade", "--revision", "002", "--dry-run", env=env)["status"] == "dry-run"
    assert document("run", "upgrade", "--revision", "002", env=env)["status"] == "applied"
    assert document("current", "current", env=env)["current"] == ["002"]
    assert document("status", "status", env=env)["pending"]
    assert {r["revision"] for r in document("history", "history", env=env)["revisions"]} >= {"001", "002"}
    assert document("validate", "validate", env=env)["files_checked"] >= 3
    assert document("rules", "validate", "--list-rules", env=env)["rules"]
    assert document("explain", "validate", "--explain", "drop-table", env=env)["text"]
    assert document("run", "upgrade", env=env)["status"] == "applied"
    assert document("run", "downgrade", "--revision", "-1", env=env)["revision_after"] == ["002"]
    created = document("backups-create", "backups", "create", env=env)
    listed = document("backups-list", "backups", "list", env=env)["backups"]
    assert Path(created["backup"]).name == listed[0]["file"] and len(listed) >= 3
    assert document("backups-verify", "backups", "verify", env=env)["ok"] is True
    assert document("backups-prune", "backups", "prune", "--keep-last", "1", "--dry-run", env=env)["dry_run"]
    restored = document("restore", "restore", "--yes", env=env)
    assert restored["schema_verified"] is True and restored["revision_now"] == ["002"]
    assert document("recover", "recover", "--yes", env=env)["runs"] == []
    assert document("health", "health", env=env)["healthy"] is True
    assert document("info", "info", env=env)["versions"]
    assert len(document("hash-token", "serve", "--hash-token", env=env, input="s3cret\n")["token_sha256"]) == 64

    project = make_project(tmp_path / "project", {})
    made = document("create", "--config", str(project), "create", "-m", "first", env=env)
    assert made["created"] and made["findings"] == []

    folder = tmp_path / "sql"
    folder.mkdir()
    (folder / "001_first.sql").write_text("CREATE TABLE t (id bigint);\n")
    assert document("init", "--sql-dir", str(folder), "init", env=env)["created"] is True


def error_of(*args, env, expect: int, cwd=None) -> dict:
    payload = document("error", *args, env=env, expect=expect, cwd=cwd)
    assert payload["error"]["exit_code"] == expect
    return payload


def test_every_error_is_one_error_document(database, env, tmp_path):
    assert error_of("upgrade", "--bogus", env=env, expect=2)["error"]["kind"] == "usage"
    unknown = error_of("upgrade", "--revision", "nosuch", env=env, expect=2)
    assert "nosuch" in unknown["error"]["message"] and unknown["acting_on"]["database"] == database.name
    assert error_of("restore", "--yes", env=env, expect=2)["error"]["message"]   # no backup yet
    unreachable = {**env, "POSTGRES_PORT": "1"}
    assert error_of("status", env=unreachable, expect=2)["error"]["kind"]
    before = fingerprint(database)

    # a validation stop: the error and the report that stopped it, in one document
    project = make_project(tmp_path / "project", {
        "a1.py": revision("a1", None, 'op.create_table("farms", sa.Column("id", sa.BigInteger, primary_key=True))'),
        "b2.py": revision("b2", "a1", 'op.drop_table("farms")')})
    # farms must exist before the plan: dropping a table the same plan creates is no hazard
    assert run_cli("--config", str(project), "upgrade", "--revision", "a1", env=env).returncode == 0
    before = fingerprint(database)
    stopped = error_of("--config", str(project), "upgrade", env=env, expect=3)
    assert stopped["error"]["kind"] == "ValidationFailed"
    assert any(f["rule"] == "drop-table" for f in stopped["validation"]["findings"])
    assert fingerprint(database) == before


def test_validate_and_backups_list_documents_are_objects(database, env):
    findings = document("validate", "validate", env=env)
    assert isinstance(findings["findings"], list) and findings["errors"] == 0
    assert document("backups-list", "backups", "list", env=env) == {"backups": [], "acting_on": findings["acting_on"]}


def _progress_lines(log_file: Path) -> list:
    return [entry for entry in map(json.loads, log_file.read_text().splitlines()) if entry["event"] == "progress"]


def test_backup_progress_counts_archive_bytes_against_no_total_or_an_estimate(database, env, tmp_path):
    log_file = tmp_path / "run.jsonl"
    env = {**env, "MIGRATION_LOG_FILE": str(log_file)}
    first = document("backups-create", "backups", "create", env=env)
    [opened] = _progress_lines(log_file)
    # no earlier backup: nothing to predict the archive's size from, so no total at all (the
    # database size is not one: the archive is compressed)
    assert opened["label"] == "Backup" and opened["total_bytes"] is None
    assert opened["bytes"] == first["size_bytes"]
    document("run", "upgrade", env=env)        # the schema and the wrapper's own tables: a bigger database
    document("backups-create", "backups", "create", env=env)
    second = document("backups-create", "backups", "create", env=env)
    estimated = _progress_lines(log_file)[-1]
    assert "estimated" in estimated["label"] and estimated["bytes"] == second["size_bytes"]
    # the first backup's ratio of archive to database size, applied again: close to the real size
    assert 0.5 * second["size_bytes"] < estimated["total_bytes"] < 2 * second["size_bytes"]


def test_restore_prompt_names_the_backup_it_would_restore(database, env):
    from test_recovery import _restore_on_a_terminal

    document("run", "upgrade", "--revision", "002", env=env)
    document("run", "upgrade", env=env)                 # the latest backup: taken at 002
    [latest] = document("backups-list", "backups", "list", env=env)["backups"][:1]
    before = fingerprint(database)
    code, _, stderr = _restore_on_a_terminal(env, "no")
    assert code == 2 and fingerprint(database) == before
    prompt = stderr[stderr.index("This replaces"):]
    for label, value in (("file", latest["file"]), ("created", latest["created"]), ("database", database.name),
                         ("server", latest["origin"]), ("revision", "002")):
        assert f"{label}" in prompt and value in prompt, (label, value, prompt)
    assert "size" in prompt and prompt.index("002") < prompt.index("Type its name to confirm")


def test_restore_into_a_new_database_needs_no_confirmation(database, env):
    env["MIGRATION_BACKUP_SCOPE"] = "full"     # restore --target-db needs a whole-database backup
    document("run", "upgrade", env=env)
    before = fingerprint(database)
    target = database.name + "_copy"
    try:
        restored = document("restore", "restore", "--target-db", target, env=env, input="")   # no --yes, no terminal
        assert restored["database"] == target and restored["revision_now"] == []
        assert fingerprint(database) == before
    finally:
        _drop(database, target)


def _drop(database, name: str) -> None:
    import psycopg2

    admin = psycopg2.connect(host=database.host, port=database.port, user=database.user,
                             password=database.password, dbname="postgres")
    admin.autocommit = True
    admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}"')
    admin.close()


def test_history_shows_each_revisions_own_duration(database, env, tmp_path):
    project = make_project(tmp_path / "project", {
        "a1.py": revision("a1", None, 'op.execute("SELECT 1")'),
        "b2.py": revision("b2", "a1", 'op.execute("SELECT pg_sleep(1)")')})
    document("run", "--config", str(project), "upgrade", env=env)
    revisions = {r["revision"]: r["last_run"] for r in
                 document("history", "--config", str(project), "history", env=env)["revisions"]}
    quick, slow = revisions["a1"]["duration_ms"], revisions["b2"]["duration_ms"]
    assert slow >= 1000 > quick            # not the run's duration on both rows
