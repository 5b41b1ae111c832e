"""run_cli forks each CLI run from tests/cli_zygote.py: what a test sees of a run (exit status,
stdout, stderr, files it writes) must be what a new interpreter gives for the same argv,
environment, working directory, stdin and umask (docs/testing.md, "How a test runs the CLI")."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

import harness
from alembic_projects import make_project
from harness import CLI_SCRIPT, REPO_ROOT, run_cli


def fresh(*args, env, cwd, input="") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(CLI_SCRIPT), *args], env=env, cwd=cwd, capture_output=True,
                          text=True, input=input, timeout=120)


def seen(result) -> tuple:
    return result.returncode, result.stdout, result.stderr


@pytest.fixture
def offline_env(tmp_path):
    """Settings that point at no server: the commands below never connect."""
    return {**os.environ, "POSTGRES_HOST": "127.0.0.1", "POSTGRES_PORT": "1", "POSTGRES_DB": "harness_db",
            "MIGRATION_BACKUP_DIR": str(tmp_path / "backups"), "ALEMBIC_CONFIG": str(harness.example_project())}


@pytest.mark.parametrize("args", [
    ("--help",),
    ("no-such-command",),                                                # usage error: exit 2 on stderr
    ("--format", "json", "validate", "--migration-file", "002_crops_and_harvests.py"),
    ("validate", "--migration-file", "nowhere.py"),                      # a user mistake: one line, exit 2
], ids=["help", "usage-error", "validate-json", "missing-file"])
def test_a_forked_run_is_seen_as_a_new_interpreter_sees_it(args, offline_env, tmp_path):
    assert harness._zygote_socket() is not None or os.environ.get("MIGRATION_TEST_FRESH_CLI") == "1"
    forked = run_cli(*args, env=offline_env, cwd=tmp_path)
    assert seen(forked) == seen(fresh(*args, env=offline_env, cwd=tmp_path))


def test_environment_working_directory_stdin_and_umask_reach_the_run(offline_env, tmp_path):
    project = tmp_path / "project"
    make_project(project, {})
    env = {k: v for k, v in offline_env.items() if k != "ALEMBIC_CONFIG"}
    previous = os.umask(0o077)
    try:
        result = run_cli("create", "--message", "from the harness", env=env, cwd=project, input="ignored\n")
    finally:
        os.umask(previous)
    assert result.returncode == 0, result.stderr
    [created] = (project / "alembic" / "versions").glob("*from_the_harness.py")
    assert created.stat().st_mode & 0o077 == 0                          # the caller's umask
    shown = run_cli("--format", "json", "info", env={**env, "POSTGRES_DB": "named_by_the_test"}, cwd=project)
    assert '"postgresql://' in shown.stdout and "named_by_the_test" in shown.stdout
    assert str(project / "alembic.ini") in shown.stdout                   # found from the working directory
    assert seen(shown)[0] == fresh("--format", "json", "info", env={**env, "POSTGRES_DB": "named_by_the_test"},
                                   cwd=project).returncode


def test_the_repository_copy_is_never_the_project(offline_env):
    """Without a project named, run_cli still runs on the example's copy, never on migrations/."""
    env = {k: v for k, v in offline_env.items() if k != "ALEMBIC_CONFIG"}
    result = run_cli("--format", "json", "info", env=env)
    assert str(REPO_ROOT / "migrations" / "alembic.ini") not in result.stdout


def test_a_forked_run_that_times_out_leaves_no_pipe_open(offline_env, tmp_path):
    """The run is killed and TimeoutExpired raised, as subprocess.run does; its pipes are closed."""
    if harness._zygote_socket() is None:
        pytest.skip("runs through the fork server only")
    env = {**offline_env, "MIGRATION_API_TOKEN": "a-read-token-for-this-test-only-0123456789"}    # serve runs until killed
    open_before = len(os.listdir("/proc/self/fd"))
    with pytest.raises(subprocess.TimeoutExpired):
        run_cli("serve", "--host", "127.0.0.1", "--port", "0", env=env, timeout=2)
    assert len(os.listdir("/proc/self/fd")) == open_before
