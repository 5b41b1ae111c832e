"""Findings judged against the live database (issue 11, items 8 and 10): a row-dependent hazard on
an empty table, or on one the same plan creates, does not block; on a table with rows it blocks
with the table's rows and size; hazards to running code block regardless. And a dry run shows
every revision's SQL it can render offline, naming the ones it cannot."""
from __future__ import annotations

import json

import pytest

from alembic_projects import make_project, revision
from harness import fingerprint, run_cli

CREATE_DRAFTS = revision("a1", None, """
    op.create_table("drafts", sa.Column("id", sa.BigInteger(), primary_key=True), sa.Column("body", sa.Text()))
""", 'op.drop_table("drafts")')
ADD_NOT_NULL = revision("b2", "a1", """
    op.add_column("drafts", sa.Column("title", sa.Text(), nullable=False))
""", 'op.drop_column("drafts", "title")')
RENAME = revision("b2", "a1", """
    op.alter_column("drafts", "body", new_column_name="content")
""", 'op.alter_column("drafts", "content", new_column_name="body")')


@pytest.fixture
def env(database, tmp_path):
    environment = database.env()
    environment["MIGRATION_BACKUP_DIR"] = str(tmp_path / "backups")
    return environment


def project_at_a1(tmp_path, env, second: str) -> str:
    ini = make_project(tmp_path / "project", {"a1_drafts.py": CREATE_DRAFTS, "b2_change.py": second})
    done = run_cli("--config", str(ini), "upgrade", "--revision", "a1", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    return str(ini)


def fill_drafts(database, rows: int) -> None:
    database.sql(f"INSERT INTO drafts (id, body) SELECT g, repeat('x', 200) FROM generate_series(1, {rows}) g")
    database.sql("ANALYZE drafts")


def findings_of(result) -> dict:
    return {f["rule"]: f for f in json.loads(result.stdout)["findings"]}


def columns_of(database, table: str) -> set:
    return {row[0] for row in database.sql(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s", (table,))}


def test_not_null_column_on_an_empty_table_upgrades_without_allow_unsafe(database, env, tmp_path):
    ini = project_at_a1(tmp_path, env, ADD_NOT_NULL)
    result = run_cli("--config", ini, "--format", "json", "upgrade", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    finding = findings_of(result)["add-not-null-column-without-default"]
    assert finding["severity"] == "info" and "drafts is empty" in finding["message"]
    assert "title" in columns_of(database, "drafts")
    assert database.sql("SELECT version_num FROM alembic_version") == [("b2",)]


def test_a_table_the_same_plan_creates_does_not_block(database, env, tmp_path):
    ini = make_project(tmp_path / "project", {"a1_drafts.py": CREATE_DRAFTS, "b2_change.py": ADD_NOT_NULL})
    result = run_cli("--config", str(ini), "--format", "json", "upgrade", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    finding = findings_of(result)["add-not-null-column-without-default"]
    assert finding["severity"] == "info" and "drafts created by this plan" in finding["message"]
    assert "title" in columns_of(database, "drafts")


def test_not_null_column_on_a_table_with_rows_blocks_naming_rows_and_size(database, env, tmp_path):
    ini = project_at_a1(tmp_path, env, ADD_NOT_NULL)
    fill_drafts(database, 5000)
    before = fingerprint(database)
    result = run_cli("--config", ini, "upgrade", env=env)
    assert result.returncode == 3, result.stdout + result.stderr
    text = result.stdout + result.stderr
    assert "~5,000 rows" in text and (" MB" in text or " kB" in text)
    assert "an estimate at 50 MB/s" in text
    assert fingerprint(database) == before


def test_the_threshold_setting_lets_a_small_table_pass(database, env, tmp_path):
    ini = project_at_a1(tmp_path, env, ADD_NOT_NULL)
    fill_drafts(database, 3)
    database.sql("DELETE FROM drafts")      # a NOT NULL column needs an empty table to succeed at all
    blocked_env = dict(env, MIGRATION_VALIDATION_MAX_HARMLESS_ROWS="0")
    assert run_cli("--config", ini, "upgrade", "--dry-run", env=blocked_env).returncode == 0   # empty really
    fill_drafts(database, 3)
    assert run_cli("--config", ini, "upgrade", "--dry-run", env=blocked_env).returncode == 3
    allowed = run_cli("--config", ini, "--format", "json", "upgrade", "--dry-run",
                      env=dict(env, MIGRATION_VALIDATION_MAX_HARMLESS_ROWS="10"))
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
    assert "drafts has 3 rows" in findings_of(allowed)["add-not-null-column-without-default"]["message"]


def test_a_rename_blocks_even_on_an_empty_table(database, env, tmp_path):
    ini = project_at_a1(tmp_path, env, RENAME)
    before = fingerprint(database)
    result = run_cli("--config", ini, "upgrade", env=env)
    assert result.returncode == 3, result.stdout + result.stderr
    assert "rename" in (result.stdout + result.stderr).lower()
    assert fingerprint(database) == before


def test_validate_judges_only_with_database(database, env, tmp_path):
    ini = project_at_a1(tmp_path, env, ADD_NOT_NULL)
    # static: the hazard stays an error, and nothing connects (an unreachable server changes nothing)
    unreachable = dict(env, DATABASE_URL="postgresql://nobody@127.0.0.1:1/none")
    static = run_cli("--config", ini, "validate", env=unreachable)
    assert static.returncode == 3, static.stdout + static.stderr
    judged = run_cli("--config", ini, "--format", "json", "validate", "--database", env=env)
    assert judged.returncode == 0, judged.stdout + judged.stderr
    assert "drafts is empty" in judged.stdout
    fill_drafts(database, 2000)
    populated = run_cli("--config", ini, "validate", "--database", env=env)
    assert populated.returncode == 3, populated.stdout + populated.stderr
    assert "~2,000 rows" in populated.stdout + populated.stderr


READS_DATA = revision("b2", "a1", """
    count = op.get_bind().execute(sa.text("SELECT count(*) FROM drafts")).scalar()
    op.execute(sa.text(f"COMMENT ON TABLE drafts IS 'had {count} rows'"))
""")
AFTER = revision("c3", "b2", """
    op.create_table("archive", sa.Column("id", sa.BigInteger(), primary_key=True))
""", 'op.drop_table("archive")')


def test_dry_run_renders_what_it_can_and_names_what_it_cannot(database, env, tmp_path):
    ini = make_project(tmp_path / "project", {"a1_drafts.py": CREATE_DRAFTS, "b2_reads.py": READS_DATA,
                                              "c3_after.py": AFTER})
    before = fingerprint(database)
    result = run_cli("--config", str(ini), "--format", "json", "upgrade", "--dry-run", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads(result.stdout)
    sql = data["sql"]
    assert "CREATE TABLE drafts" in sql and "CREATE TABLE archive" in sql
    b2 = sql[sql.index("-> b2"):sql.index("-> c3")]
    assert "not renderable offline: " in b2
    assert "UPDATE alembic_version SET version_num='c3' WHERE alembic_version.version_num = 'b2'" in sql
    assert len(data["steps"]) == 3
    assert fingerprint(database) == before
    assert not (tmp_path / "backups").exists() or not any((tmp_path / "backups").iterdir())
