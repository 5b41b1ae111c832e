"""The Makefile's shortcuts: listed by `make help`, each the right thin call of the CLI or a
script, a revision message passed as one literal argument, and real runs against the test database
through POSTGRES_* from the environment."""
from __future__ import annotations

import ast
import json
import re
import shlex
import shutil
import subprocess

import pytest

from alembic_projects import make_project, revision
from harness import REPO_ROOT

MAKE = shutil.which("make")
pytestmark = pytest.mark.skipif(MAKE is None, reason="make is not installed (scripts/bootstrap.sh installs it as root)")

PYTHON = str(REPO_ROOT / ".venv" / "bin" / "python")
CLI = [PYTHON, str(REPO_ROOT / "migrations" / "migration_utils.py")]
TARGETS = {"help", "migrate", "migration", "migration-empty", "migrate-rollback", "migrate-current",
           "migrate-history", "validate", "backup", "db-up", "db-down", "db-env", "test"}


def make(*args, env=None, timeout: float = 180) -> subprocess.CompletedProcess:
    result = subprocess.run([MAKE, "--no-print-directory", "-C", str(REPO_ROOT), *args], env=env,
                            capture_output=True, text=True, timeout=timeout)
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr
    return result


def test_make_help_lists_every_target_and_is_the_default():
    defined = set(re.findall(r"^([a-z][a-z-]*):", (REPO_ROOT / "Makefile").read_text(), re.MULTILINE))
    assert defined == TARGETS
    for args in (["help"], []):
        result = make(*args)
        assert result.returncode == 0, result.stderr
        listed = {line.split()[0] for line in result.stdout.splitlines() if line.strip()}
        assert listed == TARGETS, result.stdout
        assert all(len(line.split(None, 1)) == 2 for line in result.stdout.splitlines())   # each has its text


@pytest.mark.parametrize("args, command", [
    (["migrate"], CLI + ["upgrade"]),
    (["migrate", "rev=ab12", "ARGS=--dry-run"], CLI + ["upgrade", "--revision", "ab12", "--dry-run"]),
    (["migration", "msg=add users"], CLI + ["create", "--autogenerate", "--message", "add users"]),
    (["migration-empty", "msg=add users"], CLI + ["create", "--message", "add users"]),
    (["migrate-rollback"], CLI + ["downgrade", "--revision", "-1"]),
    (["migrate-current"], CLI + ["current"]),
    (["migrate-history", "CONFIG=/srv/app/alembic.ini"], CLI + ["--config", "/srv/app/alembic.ini", "history"]),
    (["validate", "ARGS=--format json"], CLI + ["validate", "--format", "json"]),
    (["backup"], CLI + ["backups", "create"]),
    (["db-up"], [PYTHON, str(REPO_ROOT / "scripts" / "local_postgres.py"), "start"]),
    (["db-down"], [PYTHON, str(REPO_ROOT / "scripts" / "local_postgres.py"), "stop"]),
    (["test", "ARGS=tests/test_makefile.py -q"], [str(REPO_ROOT / "scripts" / "run_tests.sh"),
                                                 "tests/test_makefile.py", "-q"]),
])
def test_each_target_is_one_call_of_the_cli_or_a_script(args, command):
    result = make("-n", *args)
    assert result.returncode == 0, result.stderr
    assert [shlex.split(line) for line in result.stdout.splitlines()] == [command]


NASTY = """it's "quoted" $HOME $(touch {m}/dollar) `touch {m}/backtick`; touch {m}/semicolon # 100% & | \\ $$"""


def test_a_message_reaches_the_cli_as_one_literal_argument(database, tmp_path):
    ini = make_project(tmp_path / "project", {})
    markers = tmp_path / "markers"
    markers.mkdir()
    message = NASTY.format(m=markers)
    assert shlex.split(make("-n", "migration-empty", f"msg={message}").stdout)[-1] == message

    result = make("migration-empty", f"msg={message}", f"CONFIG={ini}", env=database.env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert list(markers.iterdir()) == []                          # nothing in it was run by a shell
    [created] = (tmp_path / "project" / "alembic" / "versions").glob("*.py")
    assert ast.get_docstring(ast.parse(created.read_text())).splitlines()[0] == message


@pytest.mark.parametrize("value, error", [(None, "msg is required"), ("   ", "msg is required"),
                                          ("two\nlines", "msg must be one line")])
def test_a_missing_or_multiline_message_is_refused(database, tmp_path, value, error):
    ini = make_project(tmp_path / "project", {})
    result = make("migration-empty", *([] if value is None else [f"msg={value}"]), f"CONFIG={ini}",
                  env=database.env())
    assert result.returncode == 2 and error in result.stderr, result.stderr
    assert list((tmp_path / "project" / "alembic" / "versions").glob("*.py")) == []


def test_migrate_current_and_rollback_against_the_test_database(database, tmp_path):
    ini = make_project(tmp_path / "project", {
        "a1_farms.py": revision("a1", None, 'op.execute("CREATE TABLE farms (id int PRIMARY KEY)")',
                                'op.execute("DROP TABLE farms")'),
        "b2_plots.py": revision("b2", "a1", 'op.execute("CREATE TABLE plots (id int PRIMARY KEY)")',
                                'op.execute("DROP TABLE plots")')})
    env = database.env()                                           # POSTGRES_* of the test database
    env["MIGRATION_BACKUP_DIR"] = str(tmp_path / "backups")

    current = make("migrate-current", f"CONFIG={ini}", env=env)
    assert current.returncode == 0 and "base (no revision applied)" in current.stdout, current.stderr

    migrated = make("migrate", f"CONFIG={ini}", env=env)
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    assert database.sql("SELECT count(*) FROM farms, plots") == [(0,)]
    assert database.sql("SELECT version_num FROM alembic_version") == [("b2",)]
    assert list((tmp_path / "backups").glob("backup_*")), "migrate took no backup"

    current = make("migrate-current", f"CONFIG={ini}", "ARGS=--format json", env=env)
    assert current.returncode == 0, current.stderr
    assert json.loads(current.stdout.split("\n", 1)[1])["current"] == ["b2"]   # after make's echo of the command

    rolled_back = make("migrate-rollback", f"CONFIG={ini}", env=env)
    assert rolled_back.returncode == 0, rolled_back.stdout + rolled_back.stderr
    assert database.sql("SELECT version_num FROM alembic_version") == [("a1",)]
    assert database.sql("SELECT to_regclass('plots') IS NULL") == [(True,)]


def test_a_failing_command_fails_make(database, tmp_path):
    """make fails when the CLI does (make's own exit code is 2 for any failed recipe; the CLI's code
    is in its message), so a script or CI step that runs make stops."""
    ini = make_project(tmp_path / "project", {})
    env = database.env()
    env["POSTGRES_PASSWORD"] = "wrong"
    result = make("migrate-current", f"CONFIG={ini}", env=env)
    assert result.returncode == 2 and "Error 2" in result.stderr, result.stderr
