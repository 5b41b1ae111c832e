"""Installable as a tool: `pip install` of pyproject.toml gives a `migration-safety` command that
runs the same CLI without this repository on sys.path (issue 10, item 15).

The package is built and installed offline, exactly as pip does it (pyproject.toml, setuptools,
no build isolation), into a new virtualenv; the shared virtualenv's site-packages are visible to it
through a .pth file for the dependencies only (so no network is needed), after its own."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from alembic_projects import make_project, revision
from harness import REPO_ROOT, example_project

PACKAGE_DIR = REPO_ROOT / "migrations" / "migration_safety"


def _clean_environment(base=None) -> dict:
    """No PYTHONPATH: whatever the command imports comes from its own virtualenv."""
    environment = dict(os.environ if base is None else base)
    environment.pop("PYTHONPATH", None)
    return environment


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A virtualenv with the package installed by pip from a copy of the repository's sources
    (a build writes build/ and *.egg-info beside the sources: not into the working tree)."""
    root = tmp_path_factory.mktemp("packaging")
    source = root / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO_ROOT / name, source / name)
    shutil.copytree(PACKAGE_DIR, source / "migrations" / "migration_safety",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site_packages = Path(subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True).stdout.strip())
    shared = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site_packages / "shared_dependencies.pth").write_text("".join(f"{path}\n" for path in sorted(shared)))
    pip = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--no-deps", "--no-build-isolation",
                          "--no-index", "--disable-pip-version-check", "--quiet", str(source)],
                         cwd=root, env=_clean_environment(), capture_output=True, text=True, timeout=300)
    assert pip.returncode == 0, pip.stdout + pip.stderr
    return venv


def run_installed(venv: Path, *args, cwd: Path, env=None) -> subprocess.CompletedProcess:
    result = subprocess.run([str(venv / "bin" / "migration-safety"), *args], cwd=cwd,
                            env=_clean_environment(env), capture_output=True, text=True, timeout=120)
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr
    return result


def test_installed_command_runs_from_its_own_virtualenv_and_finds_no_project_by_itself(installed, tmp_path):
    probe = subprocess.run(
        [str(installed / "bin" / "python"), "-c",
         "import importlib.util, migration_safety\n"
         "from importlib.resources import files\n"
         "print(migration_safety.__file__)\n"
         "print(files('migration_safety.service').joinpath('static', 'index.html').is_file())\n"
         "print(importlib.util.find_spec('infrastructure'))"],
        cwd=tmp_path, env=_clean_environment(), capture_output=True, text=True, check=True).stdout.splitlines()
    assert Path(probe[0]).is_relative_to(installed), probe          # the installed copy, not the repository's
    assert probe[1:] == ["True", "None"], probe                       # the dashboard's files; no example app

    shown = run_installed(installed, "--help", cwd=tmp_path)
    assert shown.returncode == 0 and shown.stdout.startswith("usage: migration-safety"), shown.stdout

    # No config anywhere: a usage error naming what was looked for, not the site-packages folder.
    for arguments in (("status",), ("--format", "json", "validate")):
        result = run_installed(installed, *arguments, cwd=tmp_path)
        assert result.returncode == 2, result.stderr
        assert "no Alembic config found" in result.stderr and "site-packages" not in result.stderr, result.stderr
    document = json.loads(result.stdout)
    assert document["error"]["exit_code"] == 2 and "no Alembic config found" in document["error"]["message"]


def test_installed_command_upgrades_a_stock_alembic_project_behind_a_backup(installed, database, tmp_path):
    project = tmp_path / "app"
    ini = make_project(project, {"a1_items.py": revision("a1", None, """
        op.execute("CREATE TABLE items (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text)")
        op.execute("INSERT INTO items (name) VALUES ('spade')")
        """, "op.execute('DROP TABLE items')")})
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = database.env()      # POSTGRES_* of the test database; no MIGRATION_BACKUP_DIR: the default

    validated = run_installed(installed, "--config", str(ini), "validate", cwd=elsewhere, env=env)
    assert validated.returncode == 0, validated.stdout + validated.stderr

    # Found as Alembic finds it: alembic.ini in the current directory.
    upgraded = run_installed(installed, "--format", "json", "upgrade", cwd=project, env=env)
    assert upgraded.returncode == 0, upgraded.stdout + upgraded.stderr
    document = json.loads(upgraded.stdout)
    assert document["acting_on"]["config"] == str(ini.resolve())
    assert database.sql("SELECT name FROM items") == [("spade",)]
    assert database.sql("SELECT version_num FROM alembic_version") == [("a1",)]
    # The backup sits beside the user's project, never inside the installed package.
    backups = sorted(p.name for p in (project / "backups").iterdir())
    assert any(re.fullmatch(r"backup_\d{8}_\d{6}\.dump(\.zst)?", name) for name in backups), backups
    assert not any(installed.rglob("backup_2*")) and not any(installed.rglob("backups")), "written into the venv"

    current = run_installed(installed, "--config", str(ini), "--format", "json", "current", cwd=elsewhere, env=env)
    assert current.returncode == 0 and "a1" in current.stdout, current.stdout + current.stderr


def test_a_project_shipped_inside_an_installed_package_backs_up_into_the_current_directory(installed, database,
                                                                                            tmp_path):
    """A wheel that carries its migrations (alembic.ini in site-packages): a reinstall replaces
    that folder, so the backup goes to backups/ in the current directory."""
    site_packages = Path(subprocess.run(
        [str(installed / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True).stdout.strip())
    shipped = site_packages / "farm_app_migrations"
    ini = make_project(shipped, {"a1_items.py": revision("a1", None, "op.execute('CREATE TABLE items (id int)')",
                                                         "op.execute('DROP TABLE items')")})
    here = tmp_path / "deploy"
    here.mkdir()
    try:
        upgraded = run_installed(installed, "--config", str(ini), "--format", "json", "upgrade", cwd=here,
                                 env=database.env())
        assert upgraded.returncode == 0, upgraded.stdout + upgraded.stderr
        assert Path(json.loads(upgraded.stdout)["backup"]).parent == (here / "backups").resolve()
        assert not (shipped / "backups").exists()
    finally:
        shutil.rmtree(shipped)


# sys.path changed in place or replaced (mentioning it in a docstring is fine)
PATH_PATCH = re.compile(r"sys\.path\s*(\.\s*(insert|append|extend|remove)\b|\[[^\]]*\]\s*=|\+?=(?!=))")


def test_package_sources_patch_no_sys_path_and_import_nothing_outside_the_package():
    patches, outside = [], []
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        where = path.relative_to(REPO_ROOT)
        patches += [f"{where}:{n}" for n, line in enumerate(text.splitlines(), 1) if PATH_PATCH.search(line)]
        outside += [f"{where}:{n}" for n, line in enumerate(text.splitlines(), 1)
                    if re.match(r"\s*(from|import)\s+(infrastructure|migration_utils)\b", line)]
    assert patches == [] and outside == [], (patches, outside)


def test_example_project_under_plain_alembic_still_reads_its_settings(database, tmp_path):
    """The example application's env.py imports infrastructure/docker/config_management.py, which
    now takes the settings rules from the package: plain `alembic` (repository root on sys.path
    through prepend_sys_path, migrations/ not) still connects where POSTGRES_* say."""
    database.sql("CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY)")
    database.sql("INSERT INTO alembic_version VALUES ('002')")     # only this database says 002
    alembic = Path(sys.executable).parent / "alembic"
    result = subprocess.run([str(alembic), "-c", str(example_project()), "current"], cwd=tmp_path,
                            env=_clean_environment(database.env()), capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["002"], result.stdout + result.stderr


def test_serve_without_the_service_extra_says_which_extra_to_install(installed, tmp_path):
    """`pip install migration-safety` without `[service]`: uvicorn is missing (made unimportable
    here, as it would be), and serve says what to install instead of failing on an import."""
    (tmp_path / "alembic.ini").write_text(example_project().read_text())
    result = subprocess.run(
        [str(installed / "bin" / "python"), "-c",
         "import sys; sys.modules['uvicorn'] = None\n"
         "from migration_safety.face.cli import main; raise SystemExit(main(['serve']))"],
        cwd=tmp_path, env=_clean_environment(), capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert "pip install 'migration-safety[service]'" in result.stderr and "Traceback" not in result.stderr


def test_the_set_up_command_compiles_the_package_so_no_run_compiles_it(env, tmp_path):
    """Where PYTHONDONTWRITEBYTECODE is set (CI images, containers) Python never caches bytecode:
    without the set-up compiling it, as pip does for an installed package, every run would compile
    the package's modules before the backup could start. A copy of the checkout with no bytecode
    yet (its virtualenv the shared one) is set up with PYTHONDONTWRITEBYTECODE set; then a run
    free to write bytecode finds none to write."""
    checkout = tmp_path / "checkout"
    shutil.copytree(REPO_ROOT / "migrations", checkout / "migrations",
                    ignore=shutil.ignore_patterns("__pycache__", "backups"))
    shutil.copytree(REPO_ROOT / "scripts", checkout / "scripts", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO_ROOT / "requirements.txt", checkout / "requirements.txt")
    (checkout / ".venv").symlink_to(REPO_ROOT / ".venv")
    no_bytecode = dict(env, PYTHONDONTWRITEBYTECODE="1")
    set_up = subprocess.run(["bash", str(checkout / "scripts" / "bootstrap.sh")], env=no_bytecode,
                            capture_output=True, text=True, timeout=300)
    assert set_up.returncode == 0, set_up.stderr

    package = checkout / "migrations" / "migration_safety"
    bytecode = {path: path.stat().st_mtime_ns for path in package.rglob("*.pyc")}
    assert len(bytecode) > 100, len(bytecode)

    # A run free to write bytecode writes none: the set-up left nothing for it to compile.
    ini = make_project(tmp_path / "app", {"a1_items.py": revision("a1", None, "op.execute('CREATE TABLE items (id int)')",
                                                                  "op.execute('DROP TABLE items')")})
    free_to_write = {key: value for key, value in env.items() if key != "PYTHONDONTWRITEBYTECODE"}
    upgraded = subprocess.run([sys.executable, str(checkout / "migrations" / "migration_utils.py"), "--config", str(ini),
                               "upgrade"], env=free_to_write, capture_output=True, text=True, timeout=120)
    assert upgraded.returncode == 0, upgraded.stdout + upgraded.stderr
    assert {path: path.stat().st_mtime_ns for path in package.rglob("*.pyc")} == bytecode
