"""Issue 21 item 8: inputs cannot exhaust or escape. A `.sql` link out of `--sql-dir` is not read,
a YAML bomb or an oversized migration_config.yaml is refused at once, a deeply nested sidecar is
skipped as malformed instead of stopping every upgrade, and a newline in a file name cannot forge
a line of output. Each test performs the attack against the real CLI and database."""
from __future__ import annotations

from pathlib import Path

import pytest

from alembic_projects import make_project, revision
from harness import backup_files, fingerprint, run_cli, sidecar_of

SECRET_SQL = "CREATE TABLE escaped_the_folder (id int);\n"


@pytest.fixture
def sql_folder(tmp_path) -> Path:
    folder = tmp_path / "sql"
    folder.mkdir()
    (folder / "001_first.sql").write_text("CREATE TABLE first_table (id int);\n")
    return folder


def sql_cli(folder: Path, env: dict, *args):
    return run_cli("--sql-dir", str(folder), "--format", "json", *args, env=env)


def test_a_sql_link_out_of_the_folder_is_not_read(database, env, sql_folder, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "secret.sql").write_text(SECRET_SQL)
    (sql_folder / "002_linked.sql").symlink_to(elsewhere / "secret.sql")
    (sql_folder / "003_inside.sql").symlink_to(sql_folder / "001_first.sql")   # a link inside stays allowed

    validated = sql_cli(sql_folder, env, "validate")
    assert "002_linked.sql is a link to a file outside the folder; it is not read" in validated.stdout
    upgraded = sql_cli(sql_folder, env, "upgrade")
    assert upgraded.returncode == 3, upgraded.stdout + upgraded.stderr     # a finding that stops the run
    assert not database.sql("SELECT 1 FROM pg_tables WHERE tablename = 'escaped_the_folder'")
    assert "CREATE TABLE escaped_the_folder" not in upgraded.stdout + upgraded.stderr + validated.stdout


def test_a_yaml_bomb_and_an_oversized_config_are_refused_at_once(database, env, sql_folder):
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for number in range(1, 12):       # 9^12 values once expanded: MemoryError after 30-40 s before
        previous, current = chr(ord("a") + number - 1), chr(ord("a") + number)
        lines.append(f"{current}: &{current} [" + ", ".join([f"*{previous}"] * 9) + "]")
    config = sql_folder / "migration_config.yaml"
    before = fingerprint(database)
    for text, expected in (("\n".join(lines) + "\nmigrations: [*l]\n", "aliases expand to more than"),
                           ("migrations: []\n" + "# padding\n" * 200_000, "larger than 1024 KiB")):
        config.write_text(text)
        result = sql_cli(sql_folder, env, "upgrade")
        assert result.returncode == 2, result.stdout + result.stderr
        assert expected in result.stdout + result.stderr and "Traceback" not in result.stderr
    assert fingerprint(database) == before
    config.write_text("common: &common {description: shared}\nmigrations:\n  - <<: *common\n    version: 1\n")
    assert sql_cli(sql_folder, env, "upgrade").returncode == 0        # a modest alias is still fine


ITEMS = revision("a1", None, 'op.execute("CREATE TABLE items (id int)")', 'op.execute("DROP TABLE items")')
MORE = revision("b2", "a1", 'op.execute("CREATE TABLE more_items (id int)")', 'op.execute("DROP TABLE more_items")')


def test_a_deeply_nested_sidecar_is_skipped_as_malformed(database, env, tmp_path):
    ini = make_project(tmp_path / "project", {"a1.py": ITEMS, "b2.py": MORE})
    assert run_cli("--config", str(ini), "upgrade", "--revision", "a1", env=env).returncode == 0
    [archive] = backup_files(Path(env["MIGRATION_BACKUP_DIR"]))
    sidecar_of(archive).write_text("[" * 100_000 + "]" * 100_000)    # RecursionError in json before

    listed = run_cli("--config", str(ini), "backups", "list", env=env)
    assert listed.returncode == 0 and "Traceback" not in listed.stderr, listed.stdout + listed.stderr
    upgraded = run_cli("--config", str(ini), "--format", "json", "upgrade", env=env)
    assert upgraded.returncode == 0, upgraded.stdout + upgraded.stderr
    assert database.sql("SELECT version_num FROM alembic_version") == [("b2",)]


def test_a_newline_in_a_file_name_cannot_forge_an_output_line(database, env, tmp_path):
    forged = "ok\n2 a1 -> b2: all checks passed\nbackup_20990101_000000.dump"
    ini = make_project(tmp_path / "project", {"a1.py": ITEMS})
    versions = ini.parent / "alembic" / "versions"
    (versions / f"b2_{forged}.py").write_text(MORE.replace('op.execute("CREATE TABLE more_items (id int)")',
                                                            'op.drop_table("items")'))
    validated = run_cli("--config", str(ini), "validate", env=env)
    assert "all checks passed" in validated.stdout                    # the name is shown ...
    assert not any(line.startswith("2 a1 -> b2") for line in validated.stdout.splitlines())   # ... on its own line
    annotated = run_cli("--config", str(ini), "validate", "--format", "annotations", env=env)
    assert all(line.startswith(str(versions)) for line in annotated.stdout.splitlines() if line.strip())

    backups = Path(env["MIGRATION_BACKUP_DIR"])
    assert run_cli("--config", str(ini), "upgrade", "--revision", "a1", env=env).returncode == 0
    [archive] = backup_files(backups)
    planted = backups / f"backup_x\nbackup_20990101_000000{archive.suffix}"
    planted.write_bytes(archive.read_bytes())
    listed = run_cli("--config", str(ini), "backups", "list", env=env)
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert not any(line.startswith("backup_20990101") for line in (listed.stdout + listed.stderr).splitlines())
