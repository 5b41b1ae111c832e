"""The plan is the one env.py makes. A project made by Alembic's own template whose env.py points
Alembic at a revision folder alembic.ini does not name: status, current, history, validate and
upgrade (dry run and real) find the revisions Alembic would run, and the schema the wrapper builds
is the one plain `alembic upgrade head` builds. An env.py that cannot run means "cannot learn the
plan" (exit 2), never "up to date"."""
from __future__ import annotations

import json
from pathlib import Path

from alembic import command
from alembic.config import Config

from alembic_projects import make_project, revision
import harness
from harness import fingerprint, new_database, run_cli
from migration_safety.migration_files.env_file import read_env_file

CHAIN = {
    "a1_farms.py": revision("a1", None, """
        op.create_table("farms", sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
                        sa.Column("name", sa.Text, nullable=False))
    """, 'op.drop_table("farms")'),
    "b2_fields.py": revision("b2", "a1", """
        op.create_table("fields", sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
                        sa.Column("farm_id", sa.BigInteger, sa.ForeignKey("farms.id"), nullable=False))
    """, 'op.drop_table("fields")'),
    "c3_hectares.py": revision("c3", "b2", 'op.add_column("fields", sa.Column("hectares", sa.Numeric))',
                               'op.drop_column("fields", "hectares")'),
}

# env.py picks its own folder at run time, as real projects do (one folder per service, a
# folder chosen by a setting): alembic.ini's versions/ stays empty.
CHOOSE_FOLDER = ('import os as _os\n'
                 'context.script.version_locations = '
                 '[_os.path.join(_os.path.dirname(__file__), "chain")]\n')


def env_py_chooses_folder(tmp_path: Path, *, extra: str = "") -> Path:
    ini = make_project(tmp_path / "project", {})
    root = ini.parent / "alembic"
    (root / "chain").mkdir()
    for name, source in CHAIN.items():
        (root / "chain" / name).write_text(source)
    env_py = root / "env.py"
    text = env_py.read_text()
    marker = "config = context.config\n"
    assert marker in text, "alembic's env.py template changed"
    env_py.write_text(text.replace(marker, marker + CHOOSE_FOLDER + extra))
    return ini


def cli_json(ini, env, *args, expect=0):
    return harness.cli_json("--config", str(ini), *args, env=env, expect=expect)


def test_env_py_version_locations_decide_status_validate_dry_run_and_upgrade(database, env, tmp_path, pg_cluster):
    ini = env_py_chooses_folder(tmp_path)

    status = cli_json(ini, env, "status")
    assert [label.split(":")[0] for label in status["pending"]] == ["base -> a1", "a1 -> b2", "b2 -> c3"]
    assert status["up_to_date"] is False and status["heads"] == ["c3"]

    report = cli_json(ini, env, "validate")
    assert report["files_checked"] == 3
    no_database = {k: v for k, v in env.items() if not k.startswith("POSTGRES_")}    # validate in CI
    assert cli_json(ini, no_database, "validate")["files_checked"] == 3

    dry = cli_json(ini, env, "upgrade", "--dry-run")
    assert len(dry["steps"]) == 3
    assert "CREATE TABLE farms" in dry["sql"] and "ALTER TABLE fields ADD COLUMN hectares" in dry["sql"]

    applied = cli_json(ini, env, "upgrade")
    assert applied["status"] == "applied", applied
    assert database.sql("SELECT version_num FROM alembic_version") == [("c3",)]
    assert cli_json(ini, env, "current")["current"] == ["c3"]
    history = cli_json(ini, env, "history")
    assert {row["revision"]: row["applied"] for row in history["revisions"]} == {"a1": True, "b2": True, "c3": True}
    assert cli_json(ini, env, "status")["up_to_date"] is True

    # plain Alembic on another database builds exactly the same schema
    plain = new_database(pg_cluster)
    try:
        config = Config(str(ini))
        config.set_main_option("sqlalchemy.url", plain.url.replace("postgresql://", "postgresql+psycopg2://", 1)
                                .replace("%", "%%"))
        command.upgrade(config, "head")
        ours, theirs = fingerprint(database), fingerprint(plain)
        assert ours["schema"] == theirs["schema"]
        assert ours["tables"]["public.alembic_version"] == theirs["tables"]["public.alembic_version"]
    finally:
        pg_cluster.drop_database(plain.name)


def test_env_py_that_cannot_run_is_never_up_to_date(database, env, tmp_path):
    """The folder is chosen by env.py, which needs a setting this shell lacks: the tool cannot
    learn the plan, and says so with exit 2 instead of "0 pending"."""
    ini = env_py_chooses_folder(tmp_path, extra='_os.environ["FARM_APP_SETTINGS"]\n')
    for command_args in (("status",), ("upgrade", "--dry-run"), ("upgrade",), ("validate",), ("history",)):
        result = run_cli("--config", str(ini), *command_args, env=env)
        assert result.returncode == 2, (command_args, result.stdout + result.stderr)
        assert "cannot learn the plan from env.py" in result.stderr and "FARM_APP_SETTINGS" in result.stderr
    assert database.sql("SELECT to_regclass('alembic_version')") == [(None,)]


def upgrade_findings(result) -> list:
    return [(f["rule"], f["severity"]) for f in json.loads(result.stdout)["findings"] if f["phase"] == "upgrade"]


def test_validate_reads_a_type_decorator_from_the_projects_own_module(database, env, tmp_path):
    """Types are judged by what they are on PostgreSQL: the project's JSON TypeDecorator is jsonb
    there (impl = JSONB), so no prefer-jsonb warning; a type whose module cannot be found is
    "unverified" at info. Then the plan runs and the column really is jsonb."""
    ini = make_project(tmp_path / "project", {
        "a1_events.py": revision("a1", None, """
            op.create_table("events", sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
                            sa.Column("body", JSON(), nullable=False))
        """, 'op.drop_table("events")').replace("import sqlalchemy as sa\n",
                                                 "import sqlalchemy as sa\nfrom farm_types.columns import JSON\n")})
    package = ini.parent / "farm_types"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "columns.py").write_text(
        "import sqlalchemy as sa\nfrom sqlalchemy.dialects import postgresql\n\n\n"
        "class JSON(sa.types.TypeDecorator):\n    impl = sa.JSON\n    cache_ok = True\n\n"
        "    def load_dialect_impl(self, dialect):\n"
        "        if dialect.name == 'postgresql':\n"
        "            return dialect.type_descriptor(postgresql.JSONB())\n"
        "        return dialect.type_descriptor(sa.JSON())\n")
    result = run_cli("--format", "json", "validate", env=env, cwd=ini.parent)     # prepend_sys_path = .
    assert result.returncode == 0, result.stdout + result.stderr
    assert upgrade_findings(result) == []

    (package / "columns.py").rename(package / "elsewhere.py")
    result = run_cli("--format", "json", "validate", env=env, cwd=ini.parent)
    assert upgrade_findings(result) == [("column-type-unverified", "info")]

    (package / "elsewhere.py").rename(package / "columns.py")
    assert run_cli("upgrade", env=env, cwd=ini.parent).returncode == 0
    assert database.sql("SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
                        "WHERE attrelid = 'events'::regclass AND attname = 'body'") == [("jsonb",)]


# -- transaction mode read from env.py -----------------------------------------------------------

AUTOCOMMIT_CHAIN = {
    "a1_items.py": revision("a1", None, """
        op.execute("CREATE TABLE items (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL)")
        op.execute("INSERT INTO items (name) VALUES ('spade'), ('rake')")
    """, 'op.execute("DROP TABLE items")'),
    "b2_index.py": revision("b2", "a1", 'op.execute("CREATE INDEX CONCURRENTLY items_name ON items (name)")',
                            'op.execute("DROP INDEX CONCURRENTLY items_name")'),
    "c3_fails.py": revision("c3", "b2", """
        op.execute("CREATE TABLE doomed (id int)")
        op.execute("INSERT INTO items (name) VALUES (NULL)")
    """, 'op.execute("DROP TABLE doomed")'),
}


def autocommit_project(root: Path, revisions: dict) -> Path:
    """Alembic's generic template with the engine in AUTOCOMMIT, as projects that run
    CREATE INDEX CONCURRENTLY without autocommit_block() configure it."""
    ini = make_project(root, revisions)
    env_py = ini.parent / "alembic" / "env.py"
    text = env_py.read_text()
    marker = "poolclass=pool.NullPool,\n"
    assert marker in text, "alembic's env.py template changed"
    env_py.write_text(text.replace(marker, marker + '        isolation_level="AUTOCOMMIT",\n'))
    return ini


def test_autocommit_env_py_concurrently_is_fine_and_a_failure_is_restored(database, env, tmp_path):
    ini = autocommit_project(tmp_path / "project", {"a1_items.py": AUTOCOMMIT_CHAIN["a1_items.py"]})
    assert cli_json(ini, env, "upgrade")["status"] == "applied"
    for name in ("b2_index.py", "c3_fails.py"):
        (ini.parent / "alembic" / "versions" / name).write_text(AUTOCOMMIT_CHAIN[name])

    report = cli_json(ini, env, "validate")
    assert "concurrently-in-transaction" not in {f["rule"] for f in report["findings"]}

    before = fingerprint(database)
    failed = cli_json(ini, env, "upgrade", expect=1)
    assert failed["status"] == "failed-restored", failed
    assert failed["committed_before_failure"] is True
    after = fingerprint(database)
    assert after == before
    assert database.sql("SELECT to_regclass('items_name'), to_regclass('doomed')") == [(None, None)]


def test_concurrently_without_autocommit_is_still_an_error(database, env, tmp_path):
    """The same revision under Alembic's default transaction is refused: the finding depends on
    env.py, not on the file alone."""
    ini = make_project(tmp_path / "project", {name: AUTOCOMMIT_CHAIN[name] for name in ("a1_items.py", "b2_index.py")})
    report = cli_json(ini, env, "validate", expect=3)
    assert "concurrently-in-transaction" in {f["rule"] for f in report["findings"]}


# -- an env.py that needs its own runner -----------------------------------------------------------

# A project whose env.py runs only under its own command: settings from its own environment
# variable, migrations inside the event loop that command starts.
RUNNER_ENV_PY = '''
import asyncio
import os

from alembic import context
from sqlalchemy.ext.asyncio import create_async_engine

config = context.config
DATABASE_URL = os.environ["FARM_DATABASE_URL"]


def do_run_migrations(connection):
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()


async def run_in_the_apps_loop():
    engine = create_async_engine(DATABASE_URL)
    async with engine.connect() as connection:
        await connection.run_sync(do_run_migrations)
    await engine.dispose()


# the project's CLI awaits this inside its own loop; plain Python has none running
asyncio.get_running_loop().create_task(run_in_the_apps_loop())
'''


def docs_section(title: str) -> str:
    text = (Path(__file__).resolve().parent.parent / "docs" / "own-project.md").read_text()
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end > 0 else None]


def fenced(section: str, language: str) -> str:
    start = section.index(f"```{language}\n") + len(f"```{language}\n")
    return section[start:section.index("```", start)]


def test_env_py_that_needs_its_own_runner_says_what_and_the_documented_adapter_runs_it(database, env, tmp_path):
    ini = make_project(tmp_path / "project", {name: CHAIN[name] for name in CHAIN})
    project = ini.parent
    (project / "alembic" / "env.py").write_text(RUNNER_ENV_PY)
    (project / "alembic").rename(project / "migrations")
    ini.write_text(ini.read_text().replace(f"script_location = {project / 'alembic'}\n",
                                           f"script_location = {project / 'migrations'}\n"))

    missing_setting = run_cli("--config", str(ini), "upgrade", env=env)
    assert missing_setting.returncode == 2, missing_setting.stdout + missing_setting.stderr
    assert "environment variable FARM_DATABASE_URL" in missing_setting.stderr
    assert 'docs/own-project.md, "An env.py that needs its own runner"' in missing_setting.stderr

    no_loop = run_cli("--config", str(ini), "upgrade", env={**env, "FARM_DATABASE_URL": "postgresql+asyncpg://x/y"})
    assert no_loop.returncode == 2, no_loop.stdout + no_loop.stderr
    assert "env.py needs an event loop that the project's own runner provides" in no_loop.stderr
    assert "An env.py that needs its own runner" in no_loop.stderr
    assert database.sql("SELECT to_regclass('alembic_version'), to_regclass('farms')") == [(None, None)]

    # the recipe, exactly as documented
    section = docs_section("An env.py that needs its own runner")
    (project / "safety").mkdir()
    (project / "safety" / "alembic.ini").write_text(fenced(section, "ini"))
    (project / "safety" / "env.py").write_text(fenced(section, "python"))
    adapter = project / "safety" / "alembic.ini"
    del env["MIGRATION_BACKUP_DIR"]          # the recipe's own backup_dir
    assert [label.split(":")[0] for label in cli_json(adapter, env, "status")["pending"]] == \
        ["base -> a1", "a1 -> b2", "b2 -> c3"]
    applied = cli_json(adapter, env, "upgrade")
    assert applied["status"] == "applied", applied
    assert database.sql("SELECT version_num FROM alembic_version") == [("c3",)]
    assert database.sql("SELECT count(*) FROM information_schema.columns WHERE table_name = 'fields'") == [(3,)]
    assert Path(applied["backup"]).resolve().parent == (project / "backups").resolve()
    assert cli_json(adapter, env, "status")["up_to_date"] is True


def test_a_config_inside_an_installed_package_keeps_its_backups_in_the_current_directory(database, env, tmp_path):
    """A project whose migrations ship inside its installed package: a reinstall replaces that
    folder, so the default backup directory is the current directory's backups/."""
    installed = tmp_path / "venv" / "lib" / "python3.11" / "site-packages" / "farm_app"
    ini = make_project(installed, {"a1_farms.py": CHAIN["a1_farms.py"]})
    here = tmp_path / "work"
    here.mkdir()
    del env["MIGRATION_BACKUP_DIR"]
    result = run_cli("--config", str(ini), "--format", "json", "upgrade", env=env, cwd=here)
    assert result.returncode == 0, result.stdout + result.stderr
    applied = json.loads(result.stdout)
    assert Path(applied["backup"]).parent == (here / "backups").resolve()
    assert not (installed / "backups").exists()


DELEGATED_RUNTIME = '''
import os

from alembic import context
from sqlalchemy import engine_from_config, pool


def run():
    """The project's migration runtime: its own folder of revisions and its own version table."""
    config = context.config
    context.script.version_locations = [os.path.join(os.path.dirname(__file__), "revisions")]
    if context.is_offline_mode():
        context.configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True,
                          version_table="farm_version")
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = engine_from_config(config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.",
                                poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, version_table="farm_version")
        with context.begin_transaction():
            context.run_migrations()
'''


def test_env_py_that_hands_everything_to_the_projects_module(database, env, tmp_path):
    """env.py only calls the project's runtime, which picks the revision folder and the version
    table: reading env.py vouches for nothing, so env.py is run and the answers are Alembic's."""
    ini = make_project(tmp_path / "project", {})
    project = ini.parent
    ini.write_text(ini.read_text().replace("prepend_sys_path = .\n", "prepend_sys_path = %(here)s\n"))
    runtime = project / "farm_migrations"
    (runtime / "revisions").mkdir(parents=True)
    (runtime / "__init__.py").write_text("")
    (runtime / "runtime.py").write_text(DELEGATED_RUNTIME)
    for name, source in CHAIN.items():
        (runtime / "revisions" / name).write_text(source)
    (project / "alembic" / "env.py").write_text("from farm_migrations.runtime import run\n\nrun()\n")

    status = cli_json(ini, env, "status")
    assert len(status["pending"]) == 3 and status["up_to_date"] is False
    assert cli_json(ini, env, "validate")["files_checked"] == 3
    assert cli_json(ini, env, "upgrade")["status"] == "applied"
    assert database.sql("SELECT version_num FROM farm_version") == [("c3",)]
    assert database.sql("SELECT to_regclass('alembic_version')") == [(None,)]
    assert cli_json(ini, env, "current")["current"] == ["c3"]
    assert cli_json(ini, env, "status")["up_to_date"] is True
    assert cli_json(ini, env, "upgrade")["status"] == "up-to-date"


def test_what_env_py_says_read_without_running_it(tmp_path):
    ini = make_project(tmp_path / "project", {})
    env_py = ini.parent / "alembic" / "env.py"
    template = env_py.read_text()
    stock = read_env_file(env_py)
    assert (stock.decides_plan, stock.transaction_mode) == (None, "single")

    cases = {
        template + CHOOSE_FOLDER: "env.py sets context.script, version_locations itself",
        "from farm.runtime import run\nrun()\n": "env.py configures Alembic through code elsewhere (it calls no configure())",
    }
    for text, why in cases.items():
        env_py.write_text(text)
        assert read_env_file(env_py).decides_plan == why, text
    for change, mode in (('poolclass=pool.NullPool,\n', 'poolclass=pool.NullPool, isolation_level="AUTOCOMMIT",\n'),
                         ('target_metadata=target_metadata\n',
                          'target_metadata=target_metadata, transaction_per_migration=True\n')):
        env_py.write_text(template.replace(change, mode, 1))
        assert change in template
        assert read_env_file(env_py).transaction_mode == ("autocommit" if "AUTOCOMMIT" in mode else "per-migration")
    env_py.write_text(template + '\nengine_options = {"isolation_level": "autocommit"}\n')
    assert read_env_file(env_py).transaction_mode == "autocommit"
