"""The Alembic projects teams actually have, made by Alembic's own templates: an async env.py
(asyncpg), a pyproject.toml configuration, and a project found the way Alembic finds it (current
directory, ALEMBIC_CONFIG). Each is driven through the CLI against a real database and the end
state proven (tables, alembic_version, fingerprint)."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config

from alembic_projects import revision, write_revision
from harness import EXAMPLE_REVISIONS, REPO_ROOT, example_project, fingerprint, run_cli

from migration_safety.config.settings import valid_safety_keys

CREATE_ITEMS = revision("a1", None, """
    op.execute("CREATE TABLE items (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL)")
    op.execute("INSERT INTO items (name) VALUES ('spade')")
""", 'op.execute("DROP TABLE items")')
# What the migration connection's session looks like from inside: proves the timeouts and the
# run's application_name reached it, whatever the driver.
RECORD_SESSION = revision("b2", "a1", """
    op.execute("CREATE TABLE seen AS SELECT current_setting('lock_timeout') AS lock_timeout,"
               " current_setting('statement_timeout') AS statement_timeout,"
               " current_setting('application_name') AS application_name")
""", 'op.execute("DROP TABLE seen")')
FAILING = revision("c3", "b2", """
    op.execute("CREATE TABLE doomed (id int)")
    op.execute("INSERT INTO items (name) VALUES (NULL)")
""", 'op.execute("DROP TABLE doomed")')


@pytest.fixture
def env(database, tmp_path):
    environment = database.env()
    environment["MIGRATION_BACKUP_DIR"] = str(tmp_path / "backups")
    environment["MIGRATION_LOCK_TIMEOUT"] = "3s"
    environment["MIGRATION_STATEMENT_TIMEOUT"] = "7min"
    return environment


def init_project(root: Path, template: str, revisions: dict, *, ini_url: str | None = None) -> Path:
    """``alembic init -t TEMPLATE`` in ``root`` (as run from there), then the revisions."""
    root.mkdir(parents=True)
    config = Config(str(root / "alembic.ini"), toml_file=str(root / "pyproject.toml"))
    command.init(config, str(root / "alembic"), template=template)
    if ini_url is not None:
        ini = root / "alembic.ini"
        ini.write_text(ini.read_text().replace("sqlalchemy.url = driver://user:pass@localhost/dbname",
                                               f"sqlalchemy.url = {ini_url}"))
    for name, source in revisions.items():
        write_revision(root, name, source)
    return root


def cli(*args, env, cwd=None, expect=0):
    result = run_cli(*args, env=env, cwd=cwd)
    assert result.returncode == expect, result.stdout + result.stderr
    return result


def versions(database) -> list:
    return [row[0] for row in database.sql("SELECT version_num FROM alembic_version")]


# -- 1. async env.py ---------------------------------------------------------------------------
def test_async_project_driver_named_by_its_sqlalchemy_url(database, env, tmp_path):
    """The project's ini names asyncpg; the server comes from POSTGRES_*: Alembic gets asyncpg."""
    root = init_project(tmp_path / "app", "async", {"a1.py": CREATE_ITEMS, "b2.py": RECORD_SESSION},
                        ini_url="postgresql+asyncpg://someone@elsewhere/app")
    result = cli("--config", str(root / "alembic.ini"), "upgrade", env=env)
    assert "driver postgresql+asyncpg, named in sqlalchemy.url" in result.stderr
    assert versions(database) == ["b2"]
    assert database.sql("SELECT name FROM items") == [("spade",)]
    # asyncpg ignores PGOPTIONS: the wrapper's settings reached the session all the same
    assert database.sql("SELECT * FROM seen") == [("3s", "7min", "migration_safety_run")]


def test_async_project_driver_named_by_database_url_and_failure_rolls_back(database, env, tmp_path):
    root = init_project(tmp_path / "app", "async", {"a1.py": CREATE_ITEMS, "b2.py": RECORD_SESSION,
                                                    "c3.py": FAILING})
    url_env = {k: v for k, v in env.items() if not k.startswith("POSTGRES_")}
    url_env["DATABASE_URL"] = database.url.replace("postgresql://", "postgresql+asyncpg://") + "?sslmode=disable"
    ini = str(root / "alembic.ini")
    cli("--config", ini, "upgrade", "--revision", "b2", env=url_env)
    before = fingerprint(database)

    failed = cli("--config", ini, "--format", "json", "upgrade", env=url_env, expect=1)
    payload = json.loads(failed.stdout)
    assert payload["status"] == "failed-rolled-back", payload
    acting_on = payload["acting_on"]
    assert (acting_on["server"], acting_on["database"]) == (f"{database.host}:{database.port}", database.name)
    assert (acting_on["settings_from"], acting_on["driver"], acting_on["driver_from"]) == \
        ("DATABASE_URL", "postgresql+asyncpg", "named in DATABASE_URL")
    assert fingerprint(database) == before
    assert versions(database) == ["b2"]
    assert database.password not in failed.stdout + failed.stderr


def test_an_async_drivers_commits_are_the_runs_own_and_a_failure_on_an_idle_database_is_exit_1(
        database, env, tmp_path):
    """Two revisions committed through asyncpg (one transaction each), then a failure, on a database
    nobody else uses. The run's commits through a driver other than psycopg2 were not read, so the
    rows its own revisions had inserted were taken for other sessions': exit 4, "failed-restored-rows-
    aside", "Other sessions wrote rows ... Re-insert the ones still wanted" (the failed run's own
    rows), and the reason said once per commit. Langflow's env.py (psycopg 3, async) got the same.
    Each commit is now read through the driver's adapter like psycopg2's."""
    root = init_project(tmp_path / "app", "async", {"a1.py": CREATE_ITEMS, "b2.py": RECORD_SESSION,
                                                    "c3.py": FAILING},
                        ini_url="postgresql+asyncpg://someone@elsewhere/app")
    env_py = root / "alembic" / "env.py"
    text = env_py.read_text()
    assert "context.configure(connection=connection, target_metadata=target_metadata)" in text
    env_py.write_text(text.replace("context.configure(connection=connection, target_metadata=target_metadata)",
                                   "context.configure(connection=connection, target_metadata=target_metadata,"
                                   " transaction_per_migration=True)"))
    before = fingerprint(database)
    failed = cli("--config", str(root / "alembic.ini"), "--format", "json", "upgrade", env=env, expect=1)
    payload = json.loads(failed.stdout)
    assert payload["status"] == "failed-restored", payload
    assert "Other sessions wrote rows" not in payload["message"]
    assert not [n for n in payload["notes"] if "cannot all be told" in n], payload["notes"]
    assert fingerprint(database) == before
    assert database.sql("SELECT count(*) FROM migration_safety.preserved_rows") == [(0,)]


def test_plain_postgresql_url_means_psycopg2(database, env, tmp_path):
    """SQLAlchemy 2.1 maps a bare postgresql:// to psycopg 3, which a psycopg2 project need not have installed."""
    root = init_project(tmp_path / "app", "generic", {"a1.py": CREATE_ITEMS})
    url_env = {k: v for k, v in env.items() if not k.startswith("POSTGRES_")}
    url_env["DATABASE_URL"] = database.url
    result = cli("--config", str(root / "alembic.ini"), "upgrade", env=url_env)
    assert "driver postgresql+psycopg2, the default" in result.stderr
    assert versions(database) == ["a1"]


def test_asyncpg_refuses_libpq_parameters_it_cannot_take(env, tmp_path):
    root = init_project(tmp_path / "app", "async", {"a1.py": CREATE_ITEMS})
    url_env = {k: v for k, v in env.items() if not k.startswith("POSTGRES_")}
    url_env["DATABASE_URL"] = "postgresql+asyncpg://u@localhost/app?sslrootcert=/etc/ca.pem"
    result = cli("--config", str(root / "alembic.ini"), "upgrade", env=url_env, expect=2)
    assert "asyncpg driver takes no libpq parameter 'sslrootcert'" in result.stderr
    assert not (tmp_path / "backups").exists()


# -- 2. pyproject.toml -------------------------------------------------------------------------
def test_pyproject_project_run_from_its_directory(database, env, tmp_path):
    """`alembic init -t pyproject`: [tool.alembic] in pyproject.toml, logging and sqlalchemy.url
    in alembic.ini. Run from the project's folder without --config, as `alembic upgrade head` is."""
    root = init_project(tmp_path / "app", "pyproject", {"a1.py": CREATE_ITEMS, "b2.py": RECORD_SESSION})
    assert "script_location" not in (root / "alembic.ini").read_text().split("[alembic]")[1].split("[")[0]
    result = cli("upgrade", env=env, cwd=root)
    assert f"config: {root / 'alembic.ini'} + {root / 'pyproject.toml'} (found by alembic.ini in the current " \
           "directory)" in result.stderr
    assert versions(database) == ["b2"]
    assert database.sql("SELECT lock_timeout FROM seen") == [("3s",)]
    status = json.loads(cli("--format", "json", "status", env=env, cwd=root).stdout)
    assert status["acting_on"]["config_found_by"] == "alembic.ini in the current directory"


def test_pyproject_only_project_with_its_own_safety_settings(database, env, tmp_path):
    """No alembic.ini at all; the wrapper's settings in [tool.migration_safety]."""
    root = init_project(tmp_path / "app", "pyproject", {"a1.py": CREATE_ITEMS, "b2.py": RECORD_SESSION})
    (root / "alembic.ini").unlink()
    env = {k: v for k, v in env.items() if k not in ("MIGRATION_BACKUP_DIR", "MIGRATION_LOCK_TIMEOUT")}
    with open(root / "pyproject.toml", "a") as toml:
        toml.write('\n[tool.migration_safety]\nbackup_dir = "dumps"\nlock_timeout = "4s"\n')
    result = cli("--config", str(root / "pyproject.toml"), "upgrade", env=env, cwd=tmp_path)
    assert "(found by --config)" in result.stderr
    assert versions(database) == ["b2"]
    assert database.sql("SELECT lock_timeout FROM seen") == [("4s",)]
    assert len(list((root / "dumps").glob("backup_*"))) >= 1
    checked = cli("--config", str(root / "pyproject.toml"), "validate", env=env, cwd=tmp_path)
    assert "2 file(s) checked" in checked.stdout


def test_pyproject_without_tool_alembic_is_a_configuration_error(env, tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    result = cli("--config", str(tmp_path / "pyproject.toml"), "status", env=env, expect=2)
    assert "has no [tool.alembic] table" in result.stderr


# -- 3. which project, which database ---------------------------------------------------------
def test_alembic_config_variable_then_config_option(database, env, tmp_path):
    first = init_project(tmp_path / "first", "generic", {"a1.py": CREATE_ITEMS})
    second = init_project(tmp_path / "second", "generic", {"b2.py": RECORD_SESSION.replace("'a1'", "None")})
    env["ALEMBIC_CONFIG"] = str(first / "alembic.ini")
    result = cli("upgrade", env=env, cwd=tmp_path)
    assert "(found by ALEMBIC_CONFIG)" in result.stderr and versions(database) == ["a1"]
    # --config wins over the variable, as in Alembic
    shown = json.loads(cli("--format", "json", "--config", str(second / "alembic.ini"), "info", env=env).stdout)
    assert shown["acting_on"]["config"] == str(second / "alembic.ini")
    assert shown["acting_on"]["config_found_by"] == "--config"


def test_relative_script_location_resolves_as_alembic_resolves_it(database, env, tmp_path):
    """Relative to the current directory: works from the project's folder, and from elsewhere is
    refused before anything runs (Alembic would not find the scripts either)."""
    root = init_project(tmp_path / "app", "generic", {"a1.py": CREATE_ITEMS})
    ini = root / "alembic.ini"
    ini.write_text(re.sub(r"(?m)^script_location = .*$", "script_location = alembic", ini.read_text()))
    elsewhere = cli("--config", str(ini), "upgrade", env=env, cwd=tmp_path, expect=2)
    assert "script_location 'alembic' is relative to the current directory" in elsewhere.stderr
    assert versions_table_absent(database) and not (tmp_path / "backups").exists()
    assert "1 file(s) checked" in cli("validate", env=env, cwd=root).stdout
    cli("upgrade", env=env, cwd=root)
    assert versions(database) == ["a1"]


def versions_table_absent(database) -> bool:
    return database.sql("SELECT to_regclass('alembic_version') IS NULL")[0][0]


def test_connection_error_says_what_was_tried_and_where_the_settings_came_from(env, tmp_path):
    root = init_project(tmp_path / "app", "generic", {"a1.py": CREATE_ITEMS})
    env["POSTGRES_HOST"], env["POSTGRES_PORT"] = "127.0.0.1", "1"
    result = cli("--config", str(root / "alembic.ini"), "upgrade", env=env, expect=2)
    error = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(error) == 1 and "cannot connect to 127.0.0.1:1/" in error[0]
    assert "server unreachable" in error[0] and "settings from POSTGRES_* environment (POSTGRES_HOST" in error[0]
    assert env["POSTGRES_PASSWORD"] not in result.stderr


# -- 11. [migration_safety] keys ----------------------------------------------------------------
def test_unknown_safety_key_is_refused_before_any_backup(database, env, tmp_path):
    root = init_project(tmp_path / "app", "generic", {"a1.py": CREATE_ITEMS})
    with open(root / "alembic.ini", "a") as ini:
        ini.write("\n[migration_safety]\nlock_timout = 2s\n")
    result = cli("--config", str(root / "alembic.ini"), "upgrade", env=env, expect=2)
    assert "unknown key(s) lock_timout" in result.stderr
    assert "valid keys: " + ", ".join(valid_safety_keys()) in result.stderr
    assert versions_table_absent(database) and not (tmp_path / "backups").exists()


def test_configuration_page_lists_exactly_the_safety_keys_the_code_accepts():
    page = (REPO_ROOT / "docs" / "configuration.md").read_text()
    match = re.search(r"`\[migration_safety\]` keys: (.*)", page)
    assert match, "docs/configuration.md must list the [migration_safety] keys"
    listed = re.findall(r"`([a-z_]+)`", match.group(1))
    assert listed == valid_safety_keys()


# -- 14. the suite never depends on the example project's working tree --------------------------
def test_cli_without_a_named_project_runs_on_a_copy_of_the_example(tmp_path):
    copy = example_project()
    assert copy.parent != REPO_ROOT / "migrations"
    assert sorted(p.name for p in (copy.parent / "versions").glob("*.py")) == sorted(EXAMPLE_REVISIONS)
    shown = json.loads(run_cli("--format", "json", "info").stdout)
    assert shown["acting_on"] == {**shown["acting_on"], "config": str(copy), "config_found_by": "ALEMBIC_CONFIG"}


def test_driver_precedence_database_url_then_sqlalchemy_url_then_psycopg2():
    from migration_safety.config.settings import database_settings

    ini_url = "postgresql+asyncpg://u@h/app"
    assert database_settings({"DATABASE_URL": "postgresql+psycopg2://u@h/db"}, ini_url).driver == "postgresql+psycopg2"
    assert database_settings({"DATABASE_URL": "postgresql://u@h/db"}, ini_url).driver == "postgresql+asyncpg"
    assert database_settings({"POSTGRES_DB": "db"}, ini_url).driver == "postgresql+asyncpg"
    plain = database_settings({"DATABASE_URL": "postgres://u@h/db"})
    assert plain.driver == "postgresql+psycopg2" and plain.sqlalchemy_url().startswith("postgresql+psycopg2://")
    tls = database_settings({"DATABASE_URL": "postgresql+asyncpg://u@h/db?sslmode=require&connect_timeout=5"})
    assert tls.sqlalchemy_url() == "postgresql+asyncpg://u@h:5432/db?ssl=require"     # asyncpg's names
    assert tls.libpq_keywords()["sslmode"] == "require" and tls.libpq_keywords()["connect_timeout"] == "5"
