"""Folders of plain-SQL migrations (`--sql-dir`) under the same pipeline as Alembic projects:
real PostgreSQL, the CLI as a user runs it, the end state proven with fingerprint() and the
`schema_migrations` rows. The example folder is tests/sql_folders/fluxion."""
from __future__ import annotations

import hashlib
import json
import shutil
import threading
import time
from pathlib import Path

import jsonschema
import pytest

from harness import REPO_ROOT, backup_files, fingerprint, run_cli

EXAMPLE = REPO_ROOT / "tests" / "sql_folders" / "fluxion"


@pytest.fixture
def fluxion(database):
    """The tables the example folder's foreign keys point at, with rows."""
    database.sql("""
        CREATE TABLE warehouses (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL);
        CREATE TABLE products (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, sku text NOT NULL);
        INSERT INTO warehouses (name) VALUES ('Nairobi'), ('Kisumu');
        INSERT INTO products (sku) VALUES ('MAIZE-50KG'), ('BEANS-25KG'), ('RICE-10KG');
    """)
    return database


@pytest.fixture
def folder(tmp_path) -> Path:
    copy = tmp_path / "sql"
    shutil.copytree(EXAMPLE, copy)
    return copy


def backups_in(env) -> list:
    directory = Path(env["MIGRATION_BACKUP_DIR"])
    return backup_files(directory)


def cli_json(folder, *args, env):
    result = run_cli("--sql-dir", str(folder), "--format", "json", *args, env=env)
    return result, (json.loads(result.stdout) if result.stdout.strip() else None)


def valid(schema: str, data: dict) -> None:
    """``data`` is a document of docs/schemas/``schema``.schema.json."""
    jsonschema.validate(data, json.loads((REPO_ROOT / "docs" / "schemas" / f"{schema}.schema.json").read_text()))


def bookkeeping(database) -> dict:
    return {version: (name, ms, checksum) for version, name, ms, checksum in database.sql(
        "SELECT version, name, execution_time_ms, checksum FROM schema_migrations ORDER BY version")}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_apply_all_behind_a_backup(fluxion, env, folder):
    result, data = cli_json(folder, "upgrade", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert data["status"] == "applied" and data["revision_after"] == ["001", "002"]
    assert len(backups_in(env)) == 1 and data["backup"] == str(backups_in(env)[0])
    rows = bookkeeping(fluxion)
    # one row per version, written by the wrapper (the files' own INSERTs were left out)
    assert set(rows) == {"001", "002"}
    assert rows["001"][0] == "add_historical_inventory" and rows["001"][2] == sha256(
        folder / "001_add_historical_inventory_UP.sql")
    assert rows["002"][2] == sha256(folder / "002_reorder_points_UP.sql") and rows["002"][1] is not None
    assert fluxion.sql("SELECT count(*) FROM reorder_points") == [(6,)]
    assert len(fluxion.sql("SELECT indexname FROM pg_indexes WHERE tablename = 'historical_inventory'")) == 5
    assert fluxion.sql("SELECT obj_description('historical_inventory'::regclass)")[0][0].startswith("Stock level")
    # the bootstrap file was not run as a migration; the run is recorded in the audit trail
    assert fluxion.sql("SELECT revision, outcome FROM migration_safety.migration_history ORDER BY revision") == [
        ("001", "applied"), ("002", "applied")]
    again, data = cli_json(folder, "upgrade", env=env)
    assert again.returncode == 0 and data["status"] == "up-to-date" and len(backups_in(env)) == 1
    history, data = cli_json(folder, "history", env=env)
    assert history.returncode == 0
    assert [(r["revision"], r["applied"], r["checksum"]) for r in data["revisions"]] == [
        ("001", True, "ok"), ("002", True, "ok")]
    assert all(r["applied_at"] and r["duration_ms"] is not None for r in data["revisions"])
    current = run_cli("--sql-dir", str(folder), "current", env=env)
    assert current.returncode == 0 and current.stdout.strip() == "001, 002"


def test_a_commit_inside_a_file_does_not_commit_half_of_it(fluxion, env, folder):
    """The file's own BEGIN/COMMIT are the wrapper's: a failure after the file's COMMIT still
    rolls the whole file back (nothing committed, no restore needed)."""
    (folder / "002_reorder_points_UP.sql").write_text(
        "BEGIN;\nCREATE TABLE reorder_points (id int);\nCOMMIT;\nINSERT INTO reorder_points VALUES ('x');\n")
    assert run_cli("--sql-dir", str(folder), "upgrade", "--revision", "001", env=env).returncode == 0
    before = fingerprint(fluxion)
    result, data = cli_json(folder, "upgrade", env=env)
    assert result.returncode == 1 and data["status"] == "failed-rolled-back", result.stdout
    assert "invalid input syntax" in data["error"]
    assert fingerprint(fluxion) == before


def test_failing_later_file_after_a_committed_one_is_restored(fluxion, env, folder):
    assert run_cli("--sql-dir", str(folder), "upgrade", "--revision", "001", env=env).returncode == 0
    fluxion.sql("INSERT INTO historical_inventory (warehouse_id, product_id, quantity) VALUES (1, 1, 40)")
    (folder / "003_broken_UP.sql").write_text(
        "CREATE TABLE doomed (id int);\nINSERT INTO products (sku) VALUES (NULL);\n")
    (folder / "003_broken_DOWN.sql").write_text("DROP TABLE doomed;\n")
    before = fingerprint(fluxion)
    result, data = cli_json(folder, "upgrade", env=env)
    assert result.returncode == 1, result.stderr
    assert data["status"] == "failed-restored" and data["committed_before_failure"] is True
    assert data["failed_step"].startswith("upgrade 002 -> 003")
    assert "null value" in data["error"]
    assert fingerprint(fluxion) == before          # 002's committed table and row are gone again
    assert set(bookkeeping(fluxion)) == {"001"}


def test_downgrade_minus_one_runs_the_down_file_behind_a_backup(fluxion, env, folder):
    assert run_cli("--sql-dir", str(folder), "upgrade", "--revision", "001", env=env).returncode == 0
    at_001 = fingerprint(fluxion)
    assert run_cli("--sql-dir", str(folder), "upgrade", env=env).returncode == 0
    result, data = cli_json(folder, "downgrade", "--revision", "-1", env=env)
    assert result.returncode == 0, result.stderr
    assert data["status"] == "applied" and data["revision_after"] == ["001"]
    assert len(backups_in(env)) == 3 and data["backup"] == str(backups_in(env)[-1])
    assert fingerprint(fluxion) == at_001
    # a single upgrade-only file refuses a downgrade through it, with nothing changed
    (folder / "003_seed_products.sql").write_text("INSERT INTO products (sku) VALUES ('SORGHUM-5KG');\n")
    assert run_cli("--sql-dir", str(folder), "upgrade", env=env).returncode == 0
    after_upgrade = fingerprint(fluxion)
    refused = run_cli("--sql-dir", str(folder), "downgrade", "--revision", "001", env=env)
    assert refused.returncode == 2 and "003 (seed_products) has no DOWN file" in refused.stderr
    assert fingerprint(fluxion) == after_upgrade


def old_runner_applies(database, path: Path, version: str, name: str) -> None:
    """What the home-made runner did: run the file as it is, then record its checksum."""
    database.sql(path.read_text())
    database.sql("UPDATE schema_migrations SET checksum = %s, execution_time_ms = 12 WHERE version = %s",
                 (sha256(path), version))


def test_init_creates_the_tracking_table_once(database, env, folder):
    assert database.sql("SELECT to_regclass('schema_migrations')") == [(None,)]
    result, data = cli_json(folder, "init", env=env)
    assert result.returncode == 0 and data["created"] is True
    assert [c for (c,) in database.sql("SELECT column_name FROM information_schema.columns WHERE table_name = "
                                      "'schema_migrations' ORDER BY ordinal_position")] == [
        "version", "name", "applied_at", "execution_time_ms", "checksum"]
    result, data = cli_json(folder, "init", env=env)
    assert result.returncode == 0 and data["created"] is False
    refused = run_cli("init", env=env)
    assert refused.returncode == 2 and "--sql-dir" in refused.stderr


def test_a_database_kept_by_the_old_runner_is_recognised(fluxion, env, folder):
    fluxion.sql((folder / "000_create_schema_migrations.sql").read_text())
    old_runner_applies(fluxion, folder / "001_add_historical_inventory_UP.sql", "001", "add_historical_inventory")
    status, data = cli_json(folder, "status", env=env)
    assert status.returncode == 0
    assert data["current"] == ["001"] and data["pending"] == ["001 -> 002: reorder points"] and data["drift"] == []
    # the versions as the old runner's --list showed them, with the bookkeeping it wrote
    valid("status", data)
    assert [(v["revision"], v["name"], v["applied"], v["duration_ms"], v["checksum"]) for v in data["versions"]] == [
        ("001", "add_historical_inventory", True, 12, "ok"), ("002", "reorder_points", False, None, "pending")]
    assert data["versions"][0]["applied_at"]
    text = run_cli("--sql-dir", str(folder), "status", env=env).stdout
    first, second = [line.split() for line in text.splitlines() if line.startswith("00")]
    assert first[:3] + first[-2:] == ["001", "add_historical_inventory", "applied", "12", "ok"]
    assert second == ["002", "reorder_points", "pending", "pending"]
    result, data = cli_json(folder, "upgrade", env=env)
    assert result.returncode == 0 and [s.split(":")[0] for s in data["steps"]] == ["001 -> 002"]
    rows = bookkeeping(fluxion)
    assert rows["001"][1] == 12 and rows["002"][2] == sha256(folder / "002_reorder_points_UP.sql")


def test_an_edited_applied_file_is_drift(fluxion, env, folder):
    assert run_cli("--sql-dir", str(folder), "upgrade", env=env).returncode == 0
    assert run_cli("--sql-dir", str(folder), "health", env=env).returncode == 0
    up = folder / "001_add_historical_inventory_UP.sql"
    up.write_text(up.read_text() + "\n-- edited after it was applied\n")
    status, data = cli_json(folder, "status", env=env)
    assert [(d["revision"], d["problem"]) for d in data["drift"]] == [("001", "changed")]
    health, data = cli_json(folder, "health", env=env)
    assert health.returncode == 1
    assert [c["status"] for c in data["checks"] if c["check"] == "drift"] == ["fail"]
    _, data = cli_json(folder, "history", env=env)
    assert [r["checksum"] for r in data["revisions"]] == ["CHANGED", "ok"]


def test_golang_migrate_naming(database, env, tmp_path):
    folder = tmp_path / "golang"
    folder.mkdir()
    (folder / "1_create_users.up.sql").write_text("CREATE TABLE users (id bigint PRIMARY KEY, name text);\n")
    (folder / "1_create_users.down.sql").write_text("DROP TABLE users;\n")
    (folder / "2_add_email.up.sql").write_text("ALTER TABLE users ADD COLUMN email text;\n")
    (folder / "2_add_email.down.sql").write_text("ALTER TABLE users DROP COLUMN email;\n")
    result, data = cli_json(folder, "upgrade", env=env)
    assert result.returncode == 0 and data["revision_after"] == ["1", "2"], result.stdout + result.stderr
    assert database.sql("SELECT column_name FROM information_schema.columns WHERE table_name = 'users' "
                        "ORDER BY ordinal_position") == [("id",), ("name",), ("email",)]
    # the same folder named by the setting instead of the option
    current = run_cli("current", env=dict(env, MIGRATION_SQL_DIR=str(folder)))
    assert current.returncode == 0 and current.stdout.strip() == "1, 2"
    # a settings file that only names the folder (relative to it): no [alembic] section needed
    (tmp_path / "alembic.ini").write_text("[migration_safety]\nsql_dir = golang\n")
    current = run_cli("--config", str(tmp_path / "alembic.ini"), "current", env=env)
    assert current.returncode == 0 and current.stdout.strip() == "1, 2", current.stdout + current.stderr
    result, data = cli_json(folder, "downgrade", "--revision", "base", env=env)
    assert result.returncode == 0 and data["revision_after"] == []
    assert database.sql("SELECT to_regclass('users')") == [(None,)]
    assert database.sql("SELECT count(*) FROM schema_migrations") == [(0,)]


def test_a_database_kept_by_golang_migrate_keeps_its_one_row_table(database, env, tmp_path):
    folder = tmp_path / "golang"
    folder.mkdir()
    (folder / "1_create_users.up.sql").write_text("CREATE TABLE users (id bigint PRIMARY KEY, name text);\n")
    (folder / "1_create_users.down.sql").write_text("DROP TABLE users;\n")
    (folder / "2_add_email.up.sql").write_text("ALTER TABLE users ADD COLUMN email text;\n")
    (folder / "2_add_email.down.sql").write_text("ALTER TABLE users DROP COLUMN email;\n")
    # what `migrate up 1` leaves behind
    database.sql("CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL)")
    database.sql((folder / "1_create_users.up.sql").read_text())
    database.sql("INSERT INTO schema_migrations VALUES (1, false)")
    result, data = cli_json(folder, "upgrade", env=env)
    assert result.returncode == 0 and [s.split(":")[0] for s in data["steps"]] == ["1 -> 2"], result.stdout
    assert database.sql("SELECT version, dirty FROM schema_migrations") == [(2, False)]
    result, data = cli_json(folder, "downgrade", "--revision", "-1", env=env)
    assert result.returncode == 0 and database.sql("SELECT version, dirty FROM schema_migrations") == [(1, False)]
    # a run golang-migrate left dirty is refused before anything happens
    database.sql("UPDATE schema_migrations SET dirty = true")
    before = fingerprint(database)
    refused = run_cli("--sql-dir", str(folder), "upgrade", env=env)
    assert refused.returncode == 2 and "dirty" in refused.stderr
    assert fingerprint(database) == before and len(backups_in(env)) == 2


def test_no_transaction_file_with_create_index_concurrently(fluxion, env, folder):
    index = "CREATE INDEX CONCURRENTLY idx_products_sku ON products (sku);\n"
    (folder / "003_products_sku_index_UP.sql").write_text(index)
    (folder / "003_products_sku_index_DOWN.sql").write_text("DROP INDEX CONCURRENTLY idx_products_sku;\n")
    # without the header the validator says it cannot run in the file's transaction
    refused = run_cli("--sql-dir", str(folder), "validate", env=env)
    assert refused.returncode == 3 and "concurrently-in-transaction" in refused.stdout
    # ... and the recipe is the SQL file's (the header), not Alembic's autocommit_block
    assert "do instead: Head the file with `-- migration-safety: no-transaction`" in refused.stdout
    assert "autocommit_block" not in refused.stdout
    header = "-- migration-safety: no-transaction\n"
    (folder / "003_products_sku_index_UP.sql").write_text(header + index)
    (folder / "003_products_sku_index_DOWN.sql").write_text(header + "DROP INDEX CONCURRENTLY idx_products_sku;\n")
    assert run_cli("--sql-dir", str(folder), "validate", env=env).returncode == 0
    result, data = cli_json(folder, "upgrade", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert fluxion.sql("SELECT indisvalid FROM pg_index WHERE indexrelid = 'idx_products_sku'::regclass") == [(True,)]
    assert set(bookkeeping(fluxion)) == {"001", "002", "003"}
    result, data = cli_json(folder, "downgrade", "--revision", "-1", env=env)
    assert result.returncode == 0 and fluxion.sql("SELECT to_regclass('idx_products_sku')") == [(None,)]


NO_TRANSACTION = "-- migration-safety: no-transaction\n"


@pytest.mark.parametrize("content, line", [
    (NO_TRANSACTION + "ALTER TABLE warehouses ADD COLUMN region text;\n", 1),
    ("-- Migration 003: regions\n" + NO_TRANSACTION + "-- not CREATE INDEX CONCURRENTLY, only a comment\n"
     "ALTER TABLE warehouses ADD COLUMN region text;\nCOMMENT ON COLUMN warehouses.region IS 'county';\n", 2),
    (NO_TRANSACTION, 1),
    (NO_TRANSACTION + "CREATE UNIQUE INDEX CONCURRENTLY idx_sku ON products (sku);\n", None),
    (NO_TRANSACTION + "DROP INDEX CONCURRENTLY IF EXISTS idx_sku;\n", None),
    (NO_TRANSACTION + "REINDEX (VERBOSE) TABLE CONCURRENTLY products;\n", None),
    (NO_TRANSACTION + "ALTER TYPE stock_state ADD VALUE 'reserved';\n", None),
    (NO_TRANSACTION + "ALTER TABLE readings DETACH PARTITION readings_2020 CONCURRENTLY;\n", None),
    (NO_TRANSACTION + "VACUUM (ANALYZE) products;\n", None),
    (NO_TRANSACTION + "CALL archive_old_rows();\n", None),
    ("ALTER TABLE warehouses ADD COLUMN region text;\n", None),
    ("-- migration-safety: ignore[no-transaction-without-need] kept while the runner is replaced\n"
     + NO_TRANSACTION + "ALTER TABLE warehouses ADD COLUMN region text;\n", None),
])
def test_a_no_transaction_header_without_need_is_a_warning(tmp_path, content, line):
    from migration_safety.validation import ValidationConfig
    from migration_safety.validation.sql_files import validate_sql_files

    path = tmp_path / "003_regions_UP.sql"
    path.write_text(content)
    report = validate_sql_files([path], ValidationConfig())
    found = [(f.line, f.severity) for f in report.findings if f.rule == "no-transaction-without-need"]
    assert found == ([] if line is None else [(line, "warning")])


def test_the_rule_hints_for_sql_files_name_the_header_not_autocommit_block():
    from migration_safety.validation import RULES

    alembic_only = {rule.id for rule in RULES.values() if "autocommit_block" in rule.do_instead}
    assert "concurrently-in-transaction" in alembic_only
    for rule_id in alembic_only:
        sql = RULES[rule_id].do_instead_for("sql")
        assert "-- migration-safety: no-transaction" in sql and "op." not in sql, rule_id


def test_validate_and_dry_run_say_what_runs_in_a_sql_folder(fluxion, env, folder):
    (folder / "003_regions_UP.sql").write_text(NO_TRANSACTION + "ALTER TABLE warehouses ADD COLUMN region text;\n")
    (folder / "003_regions_DOWN.sql").write_text("ALTER TABLE warehouses DROP COLUMN region;\n")
    validate = run_cli("--sql-dir", str(folder), "validate", env=env)
    assert validate.returncode == 0 and "003_regions_UP.sql" in validate.stdout
    assert "1: warning[no-transaction-without-need]" in validate.stdout
    assert "do instead: Remove the header" in validate.stdout
    assert run_cli("--sql-dir", str(folder), "upgrade", "--revision", "002", env=env).returncode == 0
    before = fingerprint(fluxion)
    dry = run_cli("--sql-dir", str(folder), "upgrade", "--dry-run", env=env)
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert "-- SQL the wrapper would run, file by file" in dry.stdout and "Alembic" not in dry.stdout
    assert "-- 003_regions_UP.sql (no transaction)" in dry.stdout and "no-transaction-without-need" in dry.stdout
    # exactly the pending file: the applied ones' SQL is not shown
    assert "-- 001_" not in dry.stdout and "-- 002_" not in dry.stdout and "reorder_points" not in dry.stdout
    _, data = cli_json(folder, "upgrade", "--dry-run", env=env)
    assert data["source"] == "sql" and data["status"] == "dry-run"
    assert fingerprint(fluxion) == before and len(backups_in(env)) == 1      # the upgrade to 002's only


def write_config(folder: Path, entries: str, settings: str = "") -> None:
    (folder / "migration_config.yaml").write_text(f"migrations:\n{entries}\n{settings}")


def test_yaml_dependencies_order_the_plan(fluxion, env, folder):
    """003 needs the table 004 creates: in file order it would fail; the yaml runs 004 first."""
    (folder / "003_supplier_products_UP.sql").write_text(
        "CREATE TABLE supplier_products (supplier_id bigint REFERENCES suppliers, product_id bigint REFERENCES products);\n")
    (folder / "003_supplier_products_DOWN.sql").write_text("DROP TABLE supplier_products;\n")
    (folder / "004_suppliers_UP.sql").write_text("CREATE TABLE suppliers (id bigint PRIMARY KEY, name text);\n")
    (folder / "004_suppliers_DOWN.sql").write_text("DROP TABLE suppliers;\n")
    write_config(folder, """
  - version: "001"
    filename: 001_add_historical_inventory_UP.sql
    description: Historical inventory
    dependencies: []
  - version: "003"
    filename: 003_supplier_products_UP.sql
    dependencies: ["004"]
  - version: "004"
    filename: 004_suppliers_UP.sql
    dependencies: ["001"]
""")
    result, data = cli_json(folder, "upgrade", "--dry-run", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert [s.split(":")[0].split(" -> ")[1] for s in data["steps"]] == ["001", "002", "004", "003"]
    assert data["sql"].index("-- 004_") < data["sql"].index("-- 003_")
    result, data = cli_json(folder, "upgrade", env=env)
    assert result.returncode == 0 and data["revision_after"] == ["001", "002", "004", "003"], result.stdout
    assert fluxion.sql("SELECT to_regclass('supplier_products') IS NOT NULL") == [(True,)]
    # downgrades undo them in the reverse of that order
    result, data = cli_json(folder, "downgrade", "--revision", "-2", env=env)
    assert result.returncode == 0 and data["revision_after"] == ["001", "002"], result.stdout


@pytest.mark.parametrize("entries, message", [
    ('  - version: "002"\n    dependencies: ["007"]\n', "002 depends on 007, which is not in the folder"),
    ('  - version: "001"\n    dependencies: ["002"]\n  - version: "002"\n    dependencies: ["001"]\n',
     "dependency cycle among versions 001, 002"),
])
def test_yaml_missing_dependency_and_cycle_are_validation_errors(fluxion, env, folder, entries, message):
    write_config(folder, entries)
    validate = run_cli("--sql-dir", str(folder), "validate", env=env)
    assert validate.returncode == 3 and message in validate.stdout and "sql-migration-folder" in validate.stdout
    before = fingerprint(fluxion)
    upgrade = run_cli("--sql-dir", str(folder), "upgrade", env=env)
    assert upgrade.returncode == 3 and message in upgrade.stdout + upgrade.stderr
    assert fingerprint(fluxion) == before and backups_in(env) == []


def test_yaml_timeout_retention_and_rollback_supported(fluxion, env, folder):
    write_config(folder, '  - version: "001"\n    rollback_supported: false\n',
                 "settings:\n  execution:\n    timeout_seconds: 1\n  backup:\n    backup_retention_days: 0\n")
    assert run_cli("--sql-dir", str(folder), "upgrade", env=env).returncode == 0
    # the timeout is the statement timeout of the run
    (folder / "003_slow_UP.sql").write_text("CREATE TABLE slow (id int);\nSELECT pg_sleep(3);\n")
    (folder / "003_slow_DOWN.sql").write_text("DROP TABLE slow;\n")
    before = fingerprint(fluxion)
    result, data = cli_json(folder, "upgrade", env=env)
    assert result.returncode == 1 and data["status"] == "failed-rolled-back"
    assert "statement timeout" in data["error"] and fingerprint(fluxion) == before
    # retention 0 days: after each successful run only the newest backup of the database is kept
    (folder / "003_slow_UP.sql").write_text("CREATE TABLE slow (id int);\n")
    result, data = cli_json(folder, "upgrade", env=env)
    assert result.returncode == 0 and [Path(b).name for b in [data["backup"]]] == [b.name for b in backups_in(env)]
    # rollback_supported: false refuses a downgrade through 001, nothing changed
    refused = run_cli("--sql-dir", str(folder), "downgrade", "--revision", "base", env=env)
    assert refused.returncode == 2 and "rollback_supported: false" in refused.stderr
    assert run_cli("--sql-dir", str(folder), "downgrade", "--revision", "001", env=env).returncode == 0


def test_a_reset_in_a_file_returns_to_the_folders_statement_timeout(fluxion, env, folder):
    """A file that needs a longer statement_timeout sets and resets it (rule timeout-override): the
    RESET returns to the folder's timeout_seconds, not to no timeout."""
    write_config(folder, "", "settings:\n  execution:\n    timeout_seconds: 7\n")
    (folder / "003_long_UP.sql").write_text("-- migration-safety: no-transaction\nSET statement_timeout = '1h';\n"
                                            "CREATE INDEX CONCURRENTLY ix_products_sku ON products (sku);\n"
                                            "RESET statement_timeout;\n")
    (folder / "003_long_DOWN.sql").write_text("DROP INDEX ix_products_sku;\n")
    (folder / "004_seen_UP.sql").write_text("CREATE TABLE seen AS SELECT current_setting('statement_timeout') AS value;\n")
    (folder / "004_seen_DOWN.sql").write_text("DROP TABLE seen;\n")
    _, data = cli_json(folder, "validate", env=env)
    assert not [f for f in data["findings"] if f["rule"] == "timeout-override"], data
    result, _ = cli_json(folder, "upgrade", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert fluxion.sql("SELECT value FROM seen") == [("7s",)]


def test_malformed_yaml_is_a_configuration_error_with_its_line(fluxion, env, folder):
    (folder / "migration_config.yaml").write_text("migrations:\n  - version: \"001\"\n    dependencies: [001\n")
    result = run_cli("--sql-dir", str(folder), "upgrade", env=env)
    assert result.returncode == 2 and "migration_config.yaml:4" in result.stderr and "malformed yaml" in result.stderr


def test_folder_findings_gap_duplicate_and_lonely_down(env, folder, database):
    (folder / "004_late_UP.sql").write_text("SELECT 1;\n")
    (folder / "004_late_DOWN.sql").write_text("SELECT 1;\n")
    (folder / "4_again.up.sql").write_text("SELECT 2;\n")
    (folder / "005_orphan_DOWN.sql").write_text("SELECT 1;\n")
    result, data = cli_json(folder, "validate", env=env)
    assert result.returncode == 3
    messages = {(f["rule"], f["message"]) for f in data["findings"]}
    assert ("sql-migration-gap", "version 004 follows 002: 1 version number(s) missing") in messages
    assert any(rule == "sql-migration-folder" and "duplicate version 4" in text for rule, text in messages)
    assert ("sql-migration-folder", "005_orphan_DOWN.sql has no UP file for version 005") in messages
    (folder / "002_reorder_points_DOWN.sql").unlink()          # an UP without its DOWN
    _, data = cli_json(folder, "validate", env=env)
    assert ("sql-migration-gap", "002_reorder_points_UP.sql has no DOWN file: a downgrade through 002 will be "
                                 "refused") in {(f["rule"], f["message"]) for f in data["findings"]}


class TableHeldForAMoment:
    """Another session takes an ACCESS EXCLUSIVE lock on ``table`` once the run's connection is in
    its pg_sleep (so the backup is done and the first attempt is under way), holds it past the
    first attempt's lock timeout, and lets go before the second attempt reaches the table."""

    def __init__(self, database, table: str, seconds: float = 1.5) -> None:
        self.database, self.table, self.seconds = database, table, seconds
        self.held = threading.Event()
        self.thread = threading.Thread(target=self._hold)

    def _hold(self) -> None:
        locker = self.database.connect()
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not self.database.sql(
                    "SELECT 1 FROM pg_stat_activity WHERE application_name = 'migration_safety_run' "
                    "AND query LIKE '%pg_sleep%'"):
                time.sleep(0.05)
            cursor = locker.cursor()
            cursor.execute(f"BEGIN; LOCK TABLE {self.table} IN ACCESS EXCLUSIVE MODE")
            self.held.set()
            time.sleep(self.seconds)
            cursor.execute("COMMIT")
        finally:
            locker.close()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.thread.join()


def test_a_lock_timeout_is_retried_and_the_second_attempt_succeeds(fluxion, env, folder):
    """Another session holds warehouses for a moment: the first attempt of 003 times out waiting
    (rolled back, nothing committed), the second one, after the configured delay, succeeds."""
    (folder / "003_warehouse_region_UP.sql").write_text(
        "SELECT pg_sleep(1);\nALTER TABLE warehouses ADD COLUMN region text;\n")
    (folder / "003_warehouse_region_DOWN.sql").write_text("ALTER TABLE warehouses DROP COLUMN region;\n")
    write_config(folder, "", "settings:\n  execution:\n    retry_attempts: 2\n    retry_delay_seconds: 1\n")
    assert run_cli("--sql-dir", str(folder), "upgrade", "--revision", "002", env=env).returncode == 0
    with TableHeldForAMoment(fluxion, "warehouses") as holder:
        result, data = cli_json(folder, "upgrade", env=dict(env, MIGRATION_LOCK_TIMEOUT="300ms"))
    assert holder.held.is_set()
    assert result.returncode == 0, result.stdout + result.stderr
    assert any("003: attempt 1 of 3 failed (lock timeout)" in note for note in data["notes"])
    assert any("003: applied on attempt 2 of 3" in note for note in data["notes"])
    assert fluxion.sql("SELECT count(*) FROM information_schema.columns WHERE table_name = 'warehouses' "
                       "AND column_name = 'region'") == [(1,)]


def test_the_same_retry_settings_for_an_alembic_run(database, env, tmp_path):
    from alembic_projects import make_project, revision

    ini = make_project(tmp_path / "project", {
        "a1_base.py": revision("a1", None, 'op.execute("CREATE TABLE crops (id bigint PRIMARY KEY)")'),
        "b2_column.py": revision("b2", "a1", """
            op.execute("SELECT pg_sleep(1)")
            op.execute("ALTER TABLE crops ADD COLUMN name text")
        """, 'op.execute("ALTER TABLE crops DROP COLUMN name")')})
    assert run_cli("--config", str(ini), "upgrade", "--revision", "a1", env=env).returncode == 0
    dry = run_cli("--config", str(ini), "upgrade", "--dry-run", env=env)     # its dry run's SQL is Alembic's
    assert dry.returncode == 0 and "-- SQL Alembic would run (offline mode):" in dry.stdout, dry.stdout + dry.stderr
    retrying = dict(env, MIGRATION_LOCK_TIMEOUT="300ms", MIGRATION_RETRY_ATTEMPTS="1", MIGRATION_RETRY_DELAY="1")
    with TableHeldForAMoment(database, "crops") as holder:
        result = run_cli("--config", str(ini), "--format", "json", "upgrade", env=retrying)
    data = json.loads(result.stdout)
    assert holder.held.is_set()
    assert result.returncode == 0 and data["revision_after"] == ["b2"], result.stdout + result.stderr
    assert any("upgrade head: applied on attempt 2 of 2" in note for note in data["notes"])
    # without retries the same lock fails the run, rolled back
    assert run_cli("--config", str(ini), "downgrade", "--revision", "a1", env=env).returncode == 0
    with TableHeldForAMoment(database, "crops"):
        result = run_cli("--config", str(ini), "--format", "json", "upgrade",
                         env=dict(env, MIGRATION_LOCK_TIMEOUT="300ms"))
    data = json.loads(result.stdout)
    assert result.returncode == 1 and data["status"] == "failed-rolled-back"
    assert "lock timeout" in data["error"] and not any("attempt" in note for note in data["notes"])


class BackendTerminatedOnce:
    """Another session ends the run's migration backend (pg_terminate_backend, as an operator or a
    failover would) once it is in the file's pg_sleep, and only that once."""

    def __init__(self, database) -> None:
        self.database = database
        self.terminated: list = []
        self.thread = threading.Thread(target=self._terminate)

    def _terminate(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not self.terminated:
            self.terminated = [pid for (pid,) in self.database.sql(
                "SELECT pid FROM pg_stat_activity WHERE application_name = 'migration_safety_run' "
                "AND state = 'active' AND query LIKE '%pg_sleep%'")]
            time.sleep(0.05)
        for pid in self.terminated:
            assert self.database.sql("SELECT pg_terminate_backend(%s)", (pid,)) == [(True,)]

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.thread.join()


def runs_of(database, revision: str) -> list:
    return database.sql("SELECT direction, outcome, attempts FROM migration_safety.migration_history "
                        "WHERE revision = %s ORDER BY id", (revision,))


def test_a_lost_connection_before_the_commit_is_retried_on_a_new_one(fluxion, env, folder):
    """The server ends the migration's session in the middle of 003 (nothing of it committed):
    the second attempt, on a new connection, applies it once; the attempts are recorded."""
    (folder / "003_stock_alerts_UP.sql").write_text(
        "CREATE TABLE stock_alerts (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
        "    product_id bigint NOT NULL REFERENCES products (id));\n"
        "INSERT INTO stock_alerts (product_id) SELECT id FROM products ORDER BY id;\n"
        "SELECT pg_sleep(2);\n")
    (folder / "003_stock_alerts_DOWN.sql").write_text("DROP TABLE stock_alerts;\n")
    write_config(folder, "", "settings:\n  execution:\n    retry_attempts: 1\n    retry_delay_seconds: 0.5\n")
    assert run_cli("--sql-dir", str(folder), "upgrade", "--revision", "002", env=env).returncode == 0
    at_002 = fingerprint(fluxion)
    with BackendTerminatedOnce(fluxion) as terminator:
        result, data = cli_json(folder, "upgrade", env=env)
    assert len(terminator.terminated) == 1
    assert result.returncode == 0 and data["status"] == "applied", result.stdout + result.stderr
    assert any(note.startswith("003: attempt 1 of 2 failed (connection lost") for note in data["notes"]), data
    assert "003: applied on attempt 2 of 2" in data["notes"]
    # once: one bookkeeping row, the rows inserted once, numbered by the table attempt 2 created
    assert set(bookkeeping(fluxion)) == {"001", "002", "003"}
    assert bookkeeping(fluxion)["003"][2] == sha256(folder / "003_stock_alerts_UP.sql")
    assert fluxion.sql("SELECT id, product_id FROM stock_alerts ORDER BY id") == [(1, 1), (2, 2), (3, 3)]
    # recorded and shown: the run record, history's JSON and its table
    assert runs_of(fluxion, "003") == [("upgrade", "applied", 2)]
    _, history = cli_json(folder, "history", env=env)
    valid("history", history)
    [row] = [r for r in history["revisions"] if r["revision"] == "003"]
    assert row["last_run"]["attempts"] == 2 and row["last_run"]["outcome"] == "applied"
    assert [r["attempts"] for r in history["runs"] if r["revision"] == "003"] == [2]
    table = run_cli("--sql-dir", str(folder), "history", env=env)
    assert "2 attempts" in [line for line in table.stdout.splitlines() if line.startswith("003")][0]
    # nothing of the lost attempt is left: undoing 003 gives back the database before the run
    assert run_cli("--sql-dir", str(folder), "downgrade", "--revision", "-1", env=env).returncode == 0
    assert fingerprint(fluxion) == at_002


def test_a_lost_connection_after_a_commit_is_never_retried(fluxion, env, folder):
    """A no-transaction file has committed its index when the session ends: not tried again
    (whatever the retry settings), the run is restored from the backup."""
    header = "-- migration-safety: no-transaction\n"
    (folder / "003_products_sku_index_UP.sql").write_text(
        header + "CREATE INDEX CONCURRENTLY idx_products_sku ON products (sku);\nSELECT pg_sleep(2);\n")
    (folder / "003_products_sku_index_DOWN.sql").write_text(header + "DROP INDEX CONCURRENTLY idx_products_sku;\n")
    write_config(folder, "", "settings:\n  execution:\n    retry_attempts: 2\n    retry_delay_seconds: 0\n")
    assert run_cli("--sql-dir", str(folder), "upgrade", "--revision", "002", env=env).returncode == 0
    before = fingerprint(fluxion)
    with BackendTerminatedOnce(fluxion) as terminator:
        result, data = cli_json(folder, "upgrade", env=env)
    assert len(terminator.terminated) == 1
    assert result.returncode == 1 and data["status"] == "failed-restored", result.stdout + result.stderr
    assert any("003: failed (connection lost" in note and "not tried again" in note for note in data["notes"])
    assert not any("attempt 2" in note for note in data["notes"])
    assert fingerprint(fluxion) == before and set(bookkeeping(fluxion)) == {"001", "002"}
    assert runs_of(fluxion, "003") == [("upgrade", "failed-restored", 1)]


def test_a_run_record_table_of_an_older_version_gains_the_attempts_column(fluxion, env, folder):
    """The table as versions before the actor and attempts columns made it: upgraded in place
    by the next run, its old rows kept (attempts unknown: null)."""
    fluxion.sql("""
        CREATE SCHEMA migration_safety;
        CREATE TABLE migration_safety.migration_history (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, run_id uuid NOT NULL, revision text,
            direction text NOT NULL, started_at timestamptz NOT NULL, duration_ms bigint NOT NULL,
            os_user text NOT NULL, hostname text NOT NULL, backup_file text, outcome text NOT NULL,
            checksum text, error text);
        INSERT INTO migration_safety.migration_history (run_id, revision, direction, started_at, duration_ms,
            os_user, hostname, outcome) VALUES (gen_random_uuid(), 'x1', 'upgrade', now(), 5, 'old', 'host', 'applied');
    """)
    _, before = cli_json(folder, "history", env=env)          # reading changes nothing
    valid("history", before)
    assert [(r["revision"], r["attempts"]) for r in before["runs"]] == [("x1", None)]
    assert run_cli("--sql-dir", str(folder), "upgrade", env=env).returncode == 0
    assert fluxion.sql("SELECT revision, attempts FROM migration_safety.migration_history ORDER BY id") == [
        ("x1", None), ("001", 1), ("002", 1)]
    _, after = cli_json(folder, "history", env=env)
    assert [r["last_run"]["attempts"] for r in after["revisions"]] == [1, 1]


def test_a_lost_connection_in_an_alembic_run_is_retried_the_same_way(database, env, tmp_path):
    from alembic_projects import make_project, revision

    ini = make_project(tmp_path / "project", {
        "a1_base.py": revision("a1", None, 'op.execute("CREATE TABLE crops (id bigint PRIMARY KEY)")'),
        "b2_column.py": revision("b2", "a1", """
            op.execute("ALTER TABLE crops ADD COLUMN name text")
            op.execute("SELECT pg_sleep(2)")
        """, 'op.execute("ALTER TABLE crops DROP COLUMN name")')})
    assert run_cli("--config", str(ini), "upgrade", "--revision", "a1", env=env).returncode == 0
    retrying = dict(env, MIGRATION_RETRY_ATTEMPTS="1", MIGRATION_RETRY_DELAY="0.5")
    with BackendTerminatedOnce(database) as terminator:
        result = run_cli("--config", str(ini), "--format", "json", "upgrade", env=retrying)
    data = json.loads(result.stdout)
    assert len(terminator.terminated) == 1
    assert result.returncode == 0 and data["revision_after"] == ["b2"], result.stdout + result.stderr
    assert any("attempt 1 of 2 failed (connection lost" in note for note in data["notes"]), data["notes"]
    assert runs_of(database, "b2") == [("upgrade", "applied", 2)]
    history = json.loads(run_cli("--config", str(ini), "--format", "json", "history", env=env).stdout)
    assert [r["last_run"]["attempts"] for r in history["revisions"] if r["revision"] == "b2"] == [2]


def test_day_two_commands_on_a_sql_folder(fluxion, env, folder):
    """backups list and restore act on the folder's database as for an Alembic project: the
    backup taken before the upgrade brings back the database as it was, bookkeeping included."""
    before = fingerprint(fluxion)
    assert run_cli("--sql-dir", str(folder), "upgrade", "--revision", "001", env=env).returncode == 0
    at_001 = fingerprint(fluxion)
    assert run_cli("--sql-dir", str(folder), "upgrade", env=env).returncode == 0
    _, listed = cli_json(folder, "backups", "list", env=env)
    assert [b["revision"] for b in listed["backups"]] == [["001"], []], listed
    restored, data = cli_json(folder, "restore", "--yes", env=env)
    assert restored.returncode == 0 and data["schema_verified"] is True, restored.stdout + restored.stderr
    assert fingerprint(fluxion) == at_001 and set(bookkeeping(fluxion)) == {"001"}
    current = run_cli("--sql-dir", str(folder), "current", env=env)
    assert current.returncode == 0 and current.stdout.strip() == "001"
    oldest = sorted(backups_in(env))[0]
    assert run_cli("--sql-dir", str(folder), "restore", "--backup", str(oldest), "--yes", env=env).returncode == 0
    assert fingerprint(fluxion) == before


@pytest.mark.parametrize("body", [
    # a ROLLBACK mid-file ends the wrapper's transaction: what follows commits statement by statement
    "INSERT INTO products (sku) VALUES ('ROLLED-BACK');\nROLLBACK;\nDELETE FROM products WHERE sku = 'RICE-10KG';\n"
    "INSERT INTO products (sku) VALUES (NULL);\n",
    # a file's own BEGIN with options is not the plain BEGIN the wrapper leaves out
    "BEGIN ISOLATION LEVEL SERIALIZABLE;\nDELETE FROM products WHERE sku = 'RICE-10KG';\nCOMMIT AND NO CHAIN;\n"
    "INSERT INTO products (sku) VALUES (NULL);\n",
], ids=["rollback-mid-file", "begin-isolation-level"])
def test_a_file_with_its_own_transaction_control_is_restored_when_it_fails(fluxion, env, folder, body):
    """Transaction control the wrapper does not own: a failure after it may have left part of the
    file committed, so it is handled as committed — restored from the backup and verified."""
    (folder / "002_reorder_points_UP.sql").write_text(body)
    assert run_cli("--sql-dir", str(folder), "upgrade", "--revision", "001", env=env).returncode == 0
    before = fingerprint(fluxion)
    result, data = cli_json(folder, "upgrade", "--allow-unsafe", env=env)
    assert result.returncode == 1 and data["status"] == "failed-restored", result.stdout + result.stderr
    assert data["committed_before_failure"] is True
    assert fingerprint(fluxion) == before
