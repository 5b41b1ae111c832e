"""The wrapper plans from the revision files read with ``ast`` and leaves importing them to
Alembic, which does it while env.py runs: an env.py sees the same modules imported as under plain
``alembic upgrade``, the plans are Alembic's own (same steps, same errors), and a file ``ast``
cannot read is imported as before."""
from __future__ import annotations

import json
import logging
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from alembic_projects import make_project, revision
from harness import run_cli

# Each revision file leaves a trace in sys.modules when it is imported; env.py writes the traces
# it finds when it starts, one JSON line per run of env.py.
SEEN_PREFIX = "revision_seen_"
RECORDING_ENV_PY = (
    "import json as _json, os as _os, sys as _sys\n"
    "with open(_os.environ['ENV_PY_RECORD'], 'a') as _record:\n"
    f"    _record.write(_json.dumps(sorted(m for m in _sys.modules if m.startswith({SEEN_PREFIX!r}))) + '\\n')\n"
)


def traced(source: str) -> str:
    """A revision source that registers itself in sys.modules when imported."""
    marker = "depends_on = None\n"
    assert marker in source
    return source.replace(marker, marker + "import sys as _sys, types as _types\n"
                                           f"_sys.modules[{SEEN_PREFIX!r} + revision] = _types.ModuleType(revision)\n")


def table_revision(rev: str, down, table: str) -> str:
    return traced(revision(rev, down, f'op.execute("CREATE TABLE {table} (id int)")',
                           f'op.execute("DROP TABLE {table}")'))


def recording_project(root: Path, database) -> Path:
    """A stock `alembic init` project of three revisions whose env.py records what is imported,
    its sqlalchemy.url naming ``database`` so plain Alembic reaches it too."""
    ini = make_project(root, {"a1_first.py": table_revision("a1", None, "first"),
                              "b2_second.py": table_revision("b2", "a1", "second"),
                              "c3_third.py": table_revision("c3", "b2", "third")})
    env_py = root / "alembic" / "env.py"
    env_py.write_text(RECORDING_ENV_PY + env_py.read_text())
    return pointed_at(ini, database)


def pointed_at(ini: Path, database) -> Path:
    """``ini`` with its sqlalchemy.url naming ``database``, for plain Alembic."""
    text = ini.read_text()
    stock_url = "sqlalchemy.url = driver://user:pass@localhost/dbname"
    assert stock_url in text, "alembic's ini template changed"
    url = database.url.replace("postgresql://", "postgresql+psycopg2://", 1).replace("%", "%%")
    ini.write_text(text.replace(stock_url, "sqlalchemy.url = " + url))
    return ini


def records(path: Path) -> list:
    lines = path.read_text().splitlines()
    path.unlink()
    return [json.loads(line) for line in lines]


def plain_alembic(ini: Path, *args: str, env: dict) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "alembic", "-c", str(ini), *args], cwd=ini.parent, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def tables(database) -> set:
    return {row[0] for row in database.sql("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}


def test_env_py_sees_no_revision_imported_through_the_wrapper_as_under_plain_alembic(database, env, tmp_path):
    ini = recording_project(tmp_path / "project", database)
    record = tmp_path / "env_py_record.jsonl"
    env = {**env, "ENV_PY_RECORD": str(record)}

    plain_alembic(ini, "upgrade", "head", env=env)
    under_alembic = records(record)
    assert under_alembic == [[]]
    assert tables(database) == {"alembic_version", "first", "second", "third"}
    plain_alembic(ini, "downgrade", "base", env=env)
    assert tables(database) == {"alembic_version"}
    record.unlink()

    result = run_cli("--config", str(ini), "upgrade", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    through_wrapper = records(record)
    # env.py runs more than once through the wrapper (a probe before the backup, then the run)
    assert len(through_wrapper) >= 2 and all(entry == [] for entry in through_wrapper), through_wrapper
    assert database.sql("SELECT version_num FROM alembic_version") == [("c3",)]
    assert tables(database) == {"alembic_version", "first", "second", "third"}

    # downgrading plans the same way
    result = run_cli("--config", str(ini), "downgrade", "--revision", "-1", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert all(entry == [] for entry in records(record))
    assert database.sql("SELECT version_num FROM alembic_version") == [("b2",)]


# --- plans: Alembic's own, from the revisions read with ast and from the imported ones ---

def labelled(source: str, label: str) -> str:
    return source.replace("branch_labels = None", f"branch_labels = ({label!r},)")


def depending(source: str, on: str) -> str:
    return source.replace("depends_on = None", f"depends_on = {on!r}")


LINEAR = {"aa01.py": revision("aa01", None, "pass"), "bb02.py": revision("bb02", "aa01", "pass"),
          "cc03.py": revision("cc03", "bb02", "pass"), "dd04.py": revision("dd04", "cc03", "pass")}

# aa01 <- bb02 <- (merge ee05) ; aa01 <- cc03 [feature] <- dd04 <- (merge ee05);
# a second base ff06 [other], depending on bb02, <- 0a07
BRANCHED = {"aa01.py": revision("aa01", None, "pass"), "bb02.py": revision("bb02", "aa01", "pass"),
            "cc03.py": labelled(revision("cc03", "aa01", "pass"), "feature"),
            "dd04.py": revision("dd04", "cc03", "pass"), "ee05.py": revision("ee05", ("bb02", "dd04"), "pass"),
            "ff06.py": depending(labelled(revision("ff06", None, "pass"), "other"), "bb02"),
            "0a07.py": revision("0a07", "ff06", "pass")}

CASES = {
    "linear": (LINEAR, [
        ((), "upgrade", "head"), ((), "upgrade", "heads"), (("aa01",), "upgrade", "+2"), ((), "upgrade", "cc"),
        (("bb02",), "upgrade", "bb02"), (("dd04",), "downgrade", "-1"), (("dd04",), "downgrade", "-3"),
        (("dd04",), "downgrade", "base"), (("dd04",), "downgrade", "bb"), (("bb02",), "downgrade", "-5"),
        ((), "upgrade", "zz99"), (("bb02",), "upgrade", "aa01")]),
    "branched": (BRANCHED, [
        ((), "upgrade", "heads"), ((), "upgrade", "head"), ((), "upgrade", "ee05"), ((), "upgrade", "feature@head"),
        ((), "upgrade", "other@head"), ((), "upgrade", "0a07"), (("cc03",), "upgrade", "feature@+1"),
        (("bb02", "dd04"), "upgrade", "ee"), (("ee05", "0a07"), "downgrade", "base"),
        (("ee05", "0a07"), "downgrade", "other@base"), (("ee05", "0a07"), "downgrade", "-1"),
        (("ee05",), "downgrade", "dd04"), (("bb02", "dd04"), "downgrade", "feature@-1"),
        (("ee05", "0a07"), "downgrade", "aa01"), ((), "upgrade", "feature@-1")]),
}


def plan_or_error(script, current, direction, target):
    from migration_safety.sources.alembic_runner import make_plan
    from migration_safety.base.errors import ConfigurationError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")         # Alembic's deprecation of `-1` from several heads
            return make_plan(script, current, direction, target)
    except ConfigurationError as exc:
        return f"error: {exc}"


@pytest.mark.parametrize("graph", sorted(CASES))
def test_plans_from_the_files_read_with_ast_are_alembics_own(graph, tmp_path):
    from migration_safety.sources.alembic_runner import _load_scripts, alembic_config, load_script_directory, script_directory

    files, cases = CASES[graph]
    config = alembic_config(make_project(tmp_path / graph, files), "postgresql+psycopg2://nobody@localhost/none")
    declared = load_script_directory(config)
    assert all(not hasattr(rev, "longdoc") for rev in declared.walk_revisions()), "the files were imported"
    imported = script_directory(config)
    _load_scripts(imported)
    plans = 0
    for current, direction, target in cases:
        expected = plan_or_error(imported, current, direction, target)
        assert plan_or_error(declared, current, direction, target) == expected, (current, direction, target)
        plans += not isinstance(expected, str)
    assert plans >= len(cases) - 4             # most cases are plans, not errors


def test_revisions_written_by_alembics_own_template_are_read_without_import(tmp_path):
    """`alembic revision` files (annotated assignments, typing imports) plan from ast too."""
    from alembic import command
    from alembic.config import Config

    from migration_safety.sources.alembic_runner import _load_scripts, alembic_config, load_script_directory, script_directory

    ini = make_project(tmp_path / "project", {})
    command.revision(Config(str(ini)), "first", rev_id="aa01")
    command.revision(Config(str(ini)), "second", rev_id="bb02", head="aa01", branch_label="feature")
    command.revision(Config(str(ini)), "third", rev_id="cc03", head="aa01", splice=True, depends_on="feature")
    config = alembic_config(ini, "postgresql+psycopg2://nobody@localhost/none")
    declared = load_script_directory(config)
    assert all(not hasattr(rev, "longdoc") for rev in declared.walk_revisions()), "the files were imported"
    assert {rev.doc for rev in declared.walk_revisions()} == {"first", "second", "third"}
    imported = script_directory(config)
    _load_scripts(imported)
    for current, direction, target in [((), "upgrade", "heads"), ((), "upgrade", "cc03"), ((), "upgrade", "feature@head"),
                                       (("bb02", "cc03"), "downgrade", "feature@base"), (("cc03",), "downgrade", "base")]:
        assert plan_or_error(declared, current, direction, target) == plan_or_error(imported, current, direction, target)


def test_the_wrappers_dry_run_plans_the_order_of_alembics_sql_mode(database, env, tmp_path):
    ini = pointed_at(make_project(tmp_path / "project", BRANCHED), database)
    result = run_cli("--config", str(ini), "--format", "json", "upgrade", "--revision", "heads", "--dry-run", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    wrapper_order = [step.split(":")[0] for step in json.loads(result.stdout)["steps"]]
    offline = plain_alembic(ini, "upgrade", "heads", "--sql", env=env)
    # Alembic writes "-> aa01" where the wrapper says "base -> aa01"
    alembic_order = [line.removeprefix("-- Running upgrade").strip().replace(" ", "").replace("->", " -> ")
                     for line in offline.stdout.splitlines() if line.startswith("-- Running upgrade ")]
    alembic_order = [("base" + step) if step.startswith(" -> ") else step for step in alembic_order]
    assert len(wrapper_order) == len(BRANCHED) and wrapper_order == alembic_order


# --- a file ast cannot vouch for: imported, as before ---

COMPUTED = revision("b2", "a1", 'op.execute("CREATE TABLE computed (id int)")', 'op.execute("DROP TABLE computed")')
COMPUTED = COMPUTED.replace("revision = 'b2'", "revision = ''.join(['b', '2'])")


def test_a_revision_id_computed_at_run_time_is_imported_and_still_upgrades(database, env, tmp_path, caplog):
    from migration_safety.sources.alembic_runner import alembic_config, load_script_directory

    assert "revision = ''.join" in COMPUTED
    ini = make_project(tmp_path / "project", {
        "a1.py": revision("a1", None, 'op.execute("CREATE TABLE first (id int)")'), "b2.py": COMPUTED})
    with caplog.at_level(logging.DEBUG, logger="migration_safety.sources.alembic_runner"):
        script = load_script_directory(alembic_config(ini, database.url))
    assert [rev.revision for rev in script.walk_revisions()] == ["b2", "a1"]
    assert all(hasattr(rev, "longdoc") for rev in script.walk_revisions())          # Alembic's Scripts
    assert any("imports the revision files" in r.getMessage() and "b2.py" in r.getMessage() for r in caplog.records)

    # the validator's missing-revision-id error for such a file is accepted
    result = run_cli("--config", str(ini), "upgrade", "--allow-unsafe", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert database.sql("SELECT version_num FROM alembic_version") == [("b2",)]
    assert tables(database) == {"alembic_version", "first", "computed"}


@pytest.mark.parametrize("body, readable", [
    ("revision = 'x1'\ndown_revision = None\n", True),
    ("revision: str = 'x1'\ndown_revision: str | None = ('a', 'b')\nbranch_labels = ['l']\n", True),
    ("revision = 'x1'\ndown_revision = None\ndef upgrade():\n    revision = 'local'\n", True),
    ("revision = 'x1'\n", False),                                              # no down_revision
    ("revision = 'x' + '1'\ndown_revision = None\n", False),                   # computed
    ("revision = 'x1'\ndown_revision = None\nif True:\n    revision = 'x2'\n", False),
    ("revision = 'x1'\ndown_revision = None\nrevision = 'x2'\n", False),
    # Langflow's 58b28437a398: the same down_revision annotated, then plain (all 162 revisions were
    # imported for planning because of it)
    ("revision = 'x1'\ndown_revision: str | None = 'a'\nrevision = 'x1'\ndown_revision = 'a'\n", True),
    ("from ids import *\nrevision = 'x1'\ndown_revision = None\n", False),
    ("revision = 'x1'\ndown_revision = None\ndef f():\n    global revision\n    revision = 'x2'\nf()\n", False),
    ("from ids import down_revision\nrevision = 'x1'\n", False),
    ("revision = 'x1'\ndown_revision = None\ndepends_on = 3\n", False),
    ("revision = 'x1'\ndown_revision = None\ndef __getattr__(name):\n    return None\n", False),
    ("revision = 'x1'\ndown_revision = None\ndef upgrade(:\n    pass\n", False),  # syntax error
])
def test_ast_vouches_only_for_plain_literal_declarations(body, readable, tmp_path):
    from migration_safety.migration_files.revision_file import NotDeclarative, read_revision_file

    path = tmp_path / "x1.py"
    path.write_text('"""the message\n\nmore"""\n' + body)
    if readable:
        declared = read_revision_file(path)
        assert declared.revision == "x1" and declared.docstring.startswith("the message")
    else:
        with pytest.raises(NotDeclarative, match="x1.py"):
            read_revision_file(path)


@pytest.mark.parametrize("breakage, error, backup_kept", [
    # a module nothing provides: found by reading the imports, before any backup is taken
    ("import no_such_module_of_the_app\n", "ModuleNotFoundError: No module named 'no_such_module_of_the_app'", False),
    # a module that fails while it is imported: only Alembic's import finds it, before its first step
    ("raise RuntimeError('APP_SETTINGS is not set')\n", "RuntimeError: APP_SETTINGS is not set", True),
], ids=["missing-module", "fails-on-import"])
def test_a_revision_alembic_cannot_import_is_a_configuration_error_and_changes_nothing(database, env, tmp_path,
                                                                                        breakage, error, backup_kept):
    from harness import backup_files, fingerprint

    broken = revision("b2", "a1", 'op.execute("CREATE TABLE second (id int)")').replace(
        "import sqlalchemy as sa\n", "import sqlalchemy as sa\n" + breakage)
    ini = make_project(tmp_path / "project", {
        "a1_first.py": revision("a1", None, 'op.execute("CREATE TABLE first (id int)")'), "b2_second.py": broken})
    before = fingerprint(database)
    result = run_cli("--config", str(ini), "upgrade", env=env)
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"cannot import revision b2_second.py: {error}" in result.stderr
    assert "configuration problem" in result.stderr
    assert fingerprint(database) == before
    assert bool(backup_files(tmp_path / "backups")) is backup_kept


def test_a_revision_importing_what_env_py_puts_on_the_path_runs(database, env, tmp_path):
    """The import check runs after env.py: an application env.py adds to sys.path is found."""
    app = tmp_path / "app"
    app.mkdir()
    (app / "myapp_tables.py").write_text("TABLE = 'from_the_app'\n")
    uses_the_app = revision("a1", None, 'op.execute(f"CREATE TABLE {myapp_tables.TABLE} (id int)")').replace(
        "import sqlalchemy as sa\n", "import sqlalchemy as sa\nimport myapp_tables\n")
    ini = make_project(tmp_path / "project", {"a1_first.py": uses_the_app})
    env_py = tmp_path / "project" / "alembic" / "env.py"
    env_py.write_text(f"import sys\nsys.path.insert(0, {str(app)!r})\n" + env_py.read_text())
    result = run_cli("--config", str(ini), "upgrade", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert database.sql("SELECT to_regclass('from_the_app') IS NOT NULL") == [(True,)]
