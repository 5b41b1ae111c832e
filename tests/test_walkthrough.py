"""The README's walk-through as a user follows it: change a model of the example application, create
a revision with autogenerate, apply it — and the project's own tests still pass, because they run
on a copy of the example's original revisions, never on the checkout's migrations/versions. And
the CLI started by a Python without the requirements says to activate the virtualenv."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

from harness import REPO_ROOT

# The tests that use the example project, run again inside the changed copy of the repository
EXAMPLE_TESTS = ["tests/test_projects.py::test_cli_without_a_named_project_runs_on_a_copy_of_the_example",
                 "tests/test_recovery.py::test_restore_latest_gives_back_the_backup_state_and_can_be_undone",
                 "tests/test_recovery.py::test_restore_asks_for_the_database_name_on_a_terminal",
                 "tests/test_safe_upgrade.py::test_downgrade_of_the_example_project",
                 "tests/test_backup_security.py::test_a_second_run_leaves_a_backup_in_progress_alone"]
NEW_FIELD = "    notes: Mapped[Optional[str]] = mapped_column(Text)\n"


def copy_of_the_repository(root):
    """What a user's checkout holds that the walk-through and the tests above touch."""
    ignore = shutil.ignore_patterns("__pycache__", "backups", ".pytest_cache", "real_chains")
    for name in ("migrations", "infrastructure", "scripts", "tests"):
        shutil.copytree(REPO_ROOT / name, root / name, ignore=ignore)
    return root


def cli(root, *args, env):
    return subprocess.run([sys.executable, str(root / "migrations" / "migration_utils.py"), *args], cwd=root,
                          env=env, capture_output=True, text=True, timeout=300)


def test_a_new_model_field_and_its_revision_leave_the_project_tests_passing(database, env, tmp_path):
    root = copy_of_the_repository(tmp_path / "checkout")
    models = root / "infrastructure" / "db" / "models.py"
    text = models.read_text()
    anchor = "    region: Mapped[Optional[str]] = mapped_column(Text)\n"
    assert text.count(anchor) == 1, "the example's Farm model changed"
    models.write_text(text.replace(anchor, anchor + NEW_FIELD))
    versions_before = {p.name for p in (root / "migrations" / "versions").glob("*.py")}

    # as the README says: bring the database to head, then let autogenerate write the revision
    upgraded = cli(root, "upgrade", env=env)
    assert upgraded.returncode == 0, upgraded.stdout + upgraded.stderr
    made = cli(root, "--format", "json", "create", "--autogenerate", "--message", "add farm notes", env=env)
    assert made.returncode == 0, made.stdout + made.stderr
    created = json.loads(made.stdout)["created"]
    assert created and "add_column('farms', sa.Column('notes'" in open(created).read()
    assert {p.name for p in (root / "migrations" / "versions").glob("*.py")} - versions_before
    applied = cli(root, "upgrade", env=env)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert ("notes",) in database.sql("SELECT column_name FROM information_schema.columns"
                                      " WHERE table_name = 'farms'")

    # the project's own tests of the example, in the changed checkout
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *EXAMPLE_TESTS],
                           cwd=root, env={**os.environ}, capture_output=True, text=True, timeout=900)
    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-2000:]
    assert f"{len(EXAMPLE_TESTS)} passed" in tests.stdout


def test_outside_the_virtualenv_the_cli_says_to_activate_it(tmp_path):
    # -S: no site-packages, as a system python3 without the requirements; -I: no PYTHONPATH either
    result = subprocess.run([sys.executable, "-I", "-S", str(REPO_ROOT / "migrations" / "migration_utils.py"),
                             "status"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == "" and len(result.stderr.splitlines()) == 1, result.stderr
    assert "alembic" in result.stderr and ("activate" in result.stderr or "bootstrap.sh" in result.stderr)
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
