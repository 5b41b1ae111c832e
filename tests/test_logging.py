"""MIGRATION_LOG_LEVEL (how much the wrapper and Alembic say on stderr) and MIGRATION_LOG_FILE (a
JSON line per step of every run, no secret in it), against real runs."""
from __future__ import annotations

import json
import re
import stat
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from alembic_projects import make_project, revision
from harness import Database, new_database, run_cli

SECRET_PASSWORD = "pa\"ss\\wörd@%:/ '$&+#"
API_TOKEN = "tok/+=%\"\\én&$(x)<>;"

CREATE_FARMS = revision("a1", None, 'op.execute("CREATE TABLE farms (id int PRIMARY KEY)")',
                        'op.execute("DROP TABLE farms")')
# Fails after a1 was committed (transaction per migration): a restore runs. Its error quotes the
# password and the token in several spellings, as a careless env.py or revision might.
LEAKY_FAILURE = revision("b2", "a1", """
    import json, os
    from urllib.parse import quote, quote_plus
    password, token = os.environ["POSTGRES_PASSWORD"], os.environ["MIGRATION_API_TOKEN"]
    op.execute("CREATE TABLE plots (id int)")
    raise RuntimeError(f"{password} {quote(password, safe='')} {token} {quote_plus(token)} {json.dumps(token)}")
""")


def spellings(secret: str) -> set:
    """Every encoded form of ``secret`` that could end up in a text file."""
    forms = {secret, quote(secret, safe=""), quote(secret), quote_plus(secret), json.dumps(secret)[1:-1],
             json.dumps(secret, ensure_ascii=False)[1:-1], secret.encode("unicode_escape").decode("ascii"),
             repr(secret)[1:-1]}
    forms |= {form.replace("%", "%%") for form in forms}
    return forms


@pytest.fixture
def secret_database(pg_cluster):
    """A database owned by a role whose password has quotes, a backslash, non-ASCII and URL characters."""
    role = "log_secret_role"
    pg_cluster.create_role(role, SECRET_PASSWORD)
    db = new_database(pg_cluster)
    pg_cluster.execute(f'ALTER DATABASE "{db.name}" OWNER TO {role}')
    db = Database(pg_cluster, db.name, user=role, password=SECRET_PASSWORD)
    try:
        yield db
    finally:
        pg_cluster.drop_database(db.name)


def env_for(database, tmp_path, **variables) -> dict:
    environment = database.env()
    environment["MIGRATION_BACKUP_DIR"] = str(tmp_path / "backups")
    environment.update(variables)
    return environment


def read_log(path: Path) -> list:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]   # every line parses


def test_a_failing_run_leaves_one_json_line_per_step_with_no_secret(secret_database, tmp_path):
    ini = make_project(tmp_path / "project", {"a1_farms.py": CREATE_FARMS, "b2_leaky.py": LEAKY_FAILURE},
                       transaction_per_migration=True)
    log_file = tmp_path / "logs" / "migrations.jsonl"
    log_file.parent.mkdir()
    env = env_for(secret_database, tmp_path, MIGRATION_API_TOKEN=API_TOKEN, MIGRATION_LOG_FILE=str(log_file))

    result = run_cli("--config", str(ini), "upgrade", env=env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert secret_database.sql("SELECT to_regclass('farms') IS NULL") == [(True,)]     # restored

    assert stat.S_IMODE(log_file.stat().st_mode) == 0o600
    lines = read_log(log_file)
    assert len({line["run_id"] for line in lines}) == 1 and re.fullmatch(r"[0-9a-f]{32}", lines[0]["run_id"])
    for line in lines:
        assert {"time", "run_id", "command", "database", "event", "level", "message", "elapsed_seconds"} <= set(line)
        assert line["database"] == secret_database.name and line["command"] == "upgrade"

    # one line per step, as the terminal showed them, numbered in order; the same for warnings
    printed_steps = [text[2:] for text in result.stderr.splitlines() if text.startswith("- ")]
    steps = [line for line in lines if line["event"] == "step"]
    assert len(steps) >= 4 and [s["message"] for s in steps] == printed_steps
    assert [s["step"] for s in steps] == list(range(1, len(steps) + 1))
    printed_warnings = [text[2:] for text in result.stderr.splitlines() if text.startswith("! ")]
    assert [w["message"] for w in lines if w["event"] == "warning"] == printed_warnings != []
    spans = {line["label"]: line for line in lines if line["event"] == "progress"}
    assert set(spans) == {"Backup", "Restore"} and spans["Backup"]["bytes"] > 0
    assert all(span["duration_seconds"] >= 0 for span in spans.values())

    outcome = lines[-1]
    assert [line["event"] for line in lines].count("outcome") == 1 and outcome["event"] == "outcome"
    assert outcome["outcome"] == "failed-restored" and outcome["exit_code"] == 1 and outcome["level"] == "ERROR"
    assert outcome["failed_step"] and outcome["backup"] and outcome["duration_seconds"] > 0
    assert outcome["restore_seconds"] is not None and outcome["backup_seconds"] is not None
    assert "RuntimeError: ***" in outcome["error"]          # the secrets reached the log's text, masked

    text = log_file.read_text(encoding="utf-8")
    for secret in (SECRET_PASSWORD, API_TOKEN):
        for form in spellings(secret):
            assert form not in text, f"{form!r} of a secret is in the log"

    # the next command appends its own run: a new run id, its own outcome line
    status = run_cli("--config", str(ini), "status", env=env)
    assert status.returncode == 0, status.stderr
    appended = read_log(log_file)[len(lines):]
    assert appended and appended[-1]["event"] == "outcome" and appended[-1]["outcome"] == "ok"
    assert {line["run_id"] for line in appended} != {outcome["run_id"]} and len({l["run_id"] for l in appended}) == 1


def test_log_file_from_alembic_ini_and_an_unusable_one(database, tmp_path):
    ini = make_project(tmp_path / "project", {"a1_farms.py": CREATE_FARMS})
    text = ini.read_text()
    ini.write_text(text + "\n[migration_safety]\nlog_file = runs.jsonl\n")
    result = run_cli("--config", str(ini), "upgrade", env=env_for(database, tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    lines = read_log(ini.parent / "runs.jsonl")                       # relative to alembic.ini
    assert lines[-1]["outcome"] == "applied" and lines[-1]["revision_after"] == ["a1"]

    database.sql("DROP TABLE farms; DROP TABLE alembic_version")
    missing = tmp_path / "no" / "such" / "dir" / "runs.jsonl"
    result = run_cli("--config", str(ini), "upgrade", env=env_for(database, tmp_path, MIGRATION_LOG_FILE=str(missing)))
    assert result.returncode == 2 and f"cannot open the log file {missing}" in result.stderr, result.stderr
    assert database.sql("SELECT to_regclass('farms') IS NULL") == [(True,)]                 # nothing ran


def test_an_invalid_log_level_is_a_usage_error_naming_the_valid_ones(database, tmp_path):
    ini = make_project(tmp_path / "project", {"a1_farms.py": CREATE_FARMS})
    result = run_cli("--config", str(ini), "upgrade", env=env_for(database, tmp_path, MIGRATION_LOG_LEVEL="verbose"))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "MIGRATION_LOG_LEVEL must be one of ERROR, WARNING, INFO, DEBUG, got 'verbose'" in result.stderr
    assert database.sql("SELECT to_regclass('farms') IS NULL") == [(True,)]


def _upgrade_at(level, pg_cluster, tmp_path, project: dict, **variables):
    """An upgrade of a fresh database with MIGRATION_LOG_LEVEL=level (None: unset)."""
    database = new_database(pg_cluster)
    try:
        ini = make_project(tmp_path / f"project_{level}", project, transaction_per_migration=True)
        env = env_for(database, tmp_path / f"run_{level}", **variables)
        if level:
            env["MIGRATION_LOG_LEVEL"] = level
        result = run_cli("--config", str(ini), "upgrade", env=env)
        tables = database.sql("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
        return result, [name for (name,) in tables]
    finally:
        pg_cluster.drop_database(database.name)


def test_debug_says_more_than_the_default(pg_cluster, tmp_path):
    default, _ = _upgrade_at(None, pg_cluster, tmp_path, {"a1_farms.py": CREATE_FARMS})
    debug, tables = _upgrade_at("DEBUG", pg_cluster, tmp_path, {"a1_farms.py": CREATE_FARMS})
    assert default.returncode == 0 and debug.returncode == 0, debug.stderr
    assert "farms" in tables
    # Alembic's per-revision lines: off the terminal by default (the summary counts them), shown at DEBUG
    assert "Running upgrade  -> a1" not in default.stderr and "Running upgrade  -> a1" in debug.stderr
    assert "\n  sql: CREATE TABLE farms (id int PRIMARY KEY)\n" in debug.stderr     # every statement
    assert "\n  sql: " not in default.stderr
    assert re.search(r"^- \[ *\d+\.\d\ds\] Connecting to ", debug.stderr, re.MULTILINE)   # time of each step
    assert len(debug.stderr.splitlines()) > len(default.stderr.splitlines())


def test_error_hides_progress_and_alembic_info_but_the_log_file_keeps_every_step(pg_cluster, tmp_path):
    log_file = tmp_path / "runs.jsonl"
    quiet, tables = _upgrade_at("ERROR", pg_cluster, tmp_path, {"a1_farms.py": CREATE_FARMS},
                                MIGRATION_LOG_FILE=str(log_file))
    assert quiet.returncode == 0 and "farms" in tables
    assert quiet.stderr == ""                                             # no step, no Alembic INFO line
    assert "applied" in quiet.stdout                                      # the result is still shown
    assert [line["event"] for line in read_log(log_file)].count("step") >= 4


def test_warning_shows_warnings_but_not_steps(pg_cluster, tmp_path):
    result, tables = _upgrade_at("WARNING", pg_cluster, tmp_path,
                                 {"a1_farms.py": CREATE_FARMS, "b2_leaky.py": LEAKY_FAILURE},
                                 MIGRATION_API_TOKEN=API_TOKEN)
    assert result.returncode == 1 and tables == []                         # failed, restored
    lines = result.stderr.splitlines()
    assert any(line.startswith("! upgrade failed in ") for line in lines), result.stderr
    assert not any(line.startswith("- ") or line.startswith("INFO ") for line in lines), result.stderr
