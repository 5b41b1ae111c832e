"""MLflow's real revision chain (issue 11, "done when"): vendored from mlflow-skinny 3.17.2 in
tests/real_chains/mlflow (see its NOTICE.md), upgraded the way MLflow itself does it — its
initial tables created empty, then every revision from base — but through the wrapper, without
`--allow-unsafe`. The live judge clears every row-dependent finding (its table is empty, created
by the plan or not there yet). `validate`, which judges each revision alone, keeps two hazards to
the running code; on this plan both touch tables an earlier revision of the same plan creates
(jobs, spans), which nothing outside the run can read yet (issue 22), so the upgrade from base is
not blocked by them and the whole chain is applied, after a backup."""
from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import sqlalchemy

from alembic_projects import make_project
from harness import backup_files, fingerprint, run_cli

VENDORED = Path(__file__).parent / "real_chains" / "mlflow"
HEAD = "dc11669786a5"
# The errors `validate` keeps on this chain (docs/validation.md, "Real revision chains"): both hazards to a
# server still running the previous release, neither depends on rows.
REMAINING_ERRORS = {("5d2d30f0abce", "rename-column"), ("75868b020152", "drop-column")}
ACCEPT = """
[migration_safety.accept]
5d2d30f0abce rename-column = MLflow 3.x renames jobs.function_fullname; upgrade the server with the schema
75868b020152 drop-column = MLflow moved spans.dimension_attributes into analytics columns; old servers are stopped first
"""
# Tables of MLflow's schema at HEAD: the initial ones and ones the chain creates early and late.
EXPECTED_TABLES = {"experiments", "runs", "metrics", "params", "tags", "latest_metrics", "registered_models",
                   "model_versions", "trace_info", "spans", "jobs", "webhooks", "scorers", "issues",
                   "sql_trace_metric_daily_rollups"}


def mlflow_project(root: Path) -> Path:
    """A project made by `alembic init` (Alembic's own env.py) holding MLflow's revisions; the
    stand-ins for MLflow's imports sit in the script directory, which alembic.ini puts on sys.path."""
    ini = make_project(root, {})
    script_directory = root / "alembic"
    for revision_file in (VENDORED / "versions").glob("*.py"):
        shutil.copy(revision_file, script_directory / "versions")
    for helper in ("mlflow_stand_ins.py", "trace_analytics_backfill_75868b020152.py",
                   "trace_analytics_schema_75868b020152.py"):
        shutil.copy(VENDORED / helper, script_directory)
    text = ini.read_text()
    assert "\nprepend_sys_path = .\n" in text, "alembic's ini template changed"
    ini.write_text(text.replace("\nprepend_sys_path = .\n", "\nprepend_sys_path = %(here)s/alembic\n"))
    return ini


def create_initial_tables(database) -> None:
    """What MLflow does on a new database before it runs the chain: create_all of its 0.9.1 models."""
    spec = importlib.util.spec_from_file_location("mlflow_initial_models", VENDORED / "initial_models.py")
    initial_models = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(initial_models)
    engine = sqlalchemy.create_engine(database.url.replace("postgresql://", "postgresql+psycopg2://", 1))
    try:
        initial_models.Base.metadata.create_all(engine)
    finally:
        engine.dispose()


def tables_of(database) -> set:
    return {name for (name,) in database.sql("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}


def errors_of(report: dict) -> set:
    return {(f["revision"], f["rule"]) for f in report["findings"] if f["severity"] == "error"}


def test_validate_keeps_exactly_the_errors_the_readme_lists_and_the_accept_config_clears_them(tmp_path):
    ini = mlflow_project(tmp_path / "mlflow")
    result = run_cli("--config", str(ini), "--format", "json", "validate")
    assert result.returncode == 3, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["files_checked"] == 67
    assert report["errors"] == 2 and errors_of(report) == REMAINING_ERRORS

    ini.write_text(ini.read_text() + ACCEPT)
    accepted = run_cli("--config", str(ini), "--format", "json", "validate")
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    report = json.loads(accepted.stdout)
    # An entry accepts its rule in the whole revision: each also covers the downgrade's reverse
    # (the rename back, the analytics columns dropped again), reported as info before.
    assert report["errors"] == 0 and report["accepted"] == 4


def test_upgrade_onto_fresh_empty_tables_is_not_blocked_by_what_the_plan_itself_creates(database, env, tmp_path):
    ini = mlflow_project(tmp_path / "mlflow")
    create_initial_tables(database)
    assert {"experiments", "runs", "metrics", "params", "tags"} <= tables_of(database)
    before = fingerprint(database)

    # A dry run of the whole chain prints every revision's SQL it can render offline and names
    # the revisions that need a live connection (they reflect tables or read rows).
    dry = run_cli("--config", str(ini), "--format", "json", "upgrade", "--dry-run", env=env)
    assert dry.returncode == 0, dry.stdout + dry.stderr
    plan = json.loads(dry.stdout)
    assert plan["status"] == "dry-run" and len(plan["steps"]) == 67
    assert "ALTER TABLE metrics ADD COLUMN step BIGINT" in plan["sql"] and "not renderable offline: " in plan["sql"]
    findings = plan["findings"]
    assert not [f for f in findings if f["severity"] == "error"]
    # The findings were judged against the empty tables and the plan, not dropped: the two that
    # `validate` keeps are shown as info, with the reason.
    judged = {(f["revision"], f["rule"]): f["message"] for f in findings if "(harmless here: " in f["message"]}
    assert any("metrics is empty" in message for message in judged.values()), judged
    assert REMAINING_ERRORS <= set(judged)
    assert "jobs created by this plan" in judged[("5d2d30f0abce", "rename-column")]
    assert "dimension_attributes created by this plan" in judged[("75868b020152", "drop-column")]
    assert fingerprint(database) == before

    applied = run_cli("--config", str(ini), "--format", "json", "upgrade", env=env)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    result = json.loads(applied.stdout)
    assert result["status"] == "applied" and result["unsafe_allowed"] is False and result["accepted"] == []
    assert len(result["steps"]) == 67
    assert database.sql("SELECT version_num FROM alembic_version") == [(HEAD,)]
    assert EXPECTED_TABLES <= tables_of(database)
    assert "job_name" in columns_of(database, "jobs") and "function_fullname" not in columns_of(database, "jobs")
    assert "dimension_attributes" not in columns_of(database, "spans")
    assert backup_files(tmp_path / "backups") == [Path(result["backup"])]


def test_the_rename_is_still_refused_once_the_jobs_table_exists(database, env, tmp_path):
    ini = mlflow_project(tmp_path / "mlflow")
    create_initial_tables(database)
    done = run_cli("--config", str(ini), "upgrade", "--revision", "5d2d30f0abce-1", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    before = fingerprint(database)
    blocked = run_cli("--config", str(ini), "--format", "json", "upgrade", "--revision", "5d2d30f0abce", env=env)
    assert blocked.returncode == 3, blocked.stdout + blocked.stderr
    findings = json.loads(blocked.stdout)["validation"]["findings"]
    assert {(f["revision"], f["rule"]) for f in findings if f["severity"] == "error"} == {
        ("5d2d30f0abce", "rename-column")}
    assert fingerprint(database) == before

    ini.write_text(ini.read_text() + ACCEPT)
    applied = run_cli("--config", str(ini), "--format", "json", "upgrade", "--revision", "5d2d30f0abce", env=env)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    result = json.loads(applied.stdout)
    # what passed only because it was accepted is still shown, with the reason the project gave
    assert ("5d2d30f0abce", "rename-column") in {(f["revision"], f["rule"]) for f in result["accepted"]}
    assert all(f["reason"] for f in result["accepted"])
    assert "job_name" in columns_of(database, "jobs")


def columns_of(database, table: str) -> set:
    return {name for (name,) in database.sql(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = %s",
        (table,))}
