"""Which revision failed and how long each took come from Alembic's own step loop, not from its log:
an env.py that never configures logging (the "Running upgrade ..." line is then silent) still
gets the failed revision named and each revision timed in the run record."""
from __future__ import annotations

import json

from alembic_projects import make_project, revision, write_revision
from harness import fingerprint, run_cli

REVISIONS = {
    "a1_farms.py": revision("a1", None, 'op.execute("CREATE TABLE farms (id bigint PRIMARY KEY, name text)")',
                            'op.execute("DROP TABLE farms")'),
    "b2_fields.py": revision("b2", "a1", 'op.execute("CREATE TABLE fields (id bigint PRIMARY KEY)")',
                             'op.execute("DROP TABLE fields")'),
    "c3_failing.py": revision("c3", "b2", """
        op.execute("CREATE TABLE crops (id bigint PRIMARY KEY)")
        op.execute("INSERT INTO farms (id, name) VALUES (NULL, 'x')")
    """, 'op.execute("DROP TABLE crops")'),
    "d4_last.py": revision("d4", "c3", 'op.execute("CREATE TABLE yields (id bigint PRIMARY KEY)")',
                           'op.execute("DROP TABLE yields")'),
}
FIXED_C3 = revision("c3", "b2", 'op.execute("CREATE TABLE crops (id bigint PRIMARY KEY)")',
                    'op.execute("DROP TABLE crops")')


def silent_project(tmp_path, *, per_migration: bool):
    """Alembic's own template, with env.py's logging set-up removed and the alembic logger at WARNING."""
    ini = make_project(tmp_path / "project", REVISIONS, transaction_per_migration=per_migration)
    env_py = ini.parent / "alembic" / "env.py"
    text = env_py.read_text()
    assert "fileConfig(config.config_file_name)" in text, "alembic's env.py template changed"
    text = text.replace("    fileConfig(config.config_file_name)",
                        "    pass\nimport logging\nlogging.getLogger('alembic').setLevel(logging.WARNING)")
    env_py.write_text(text)
    return ini


def recorded_steps(database, direction="upgrade"):
    """The newest run's rows: revision -> duration_ms."""
    rows = database.sql("SELECT revision, duration_ms FROM migration_safety.migration_history"
                        " WHERE run_id = (SELECT run_id FROM migration_safety.migration_history"
                        f"  WHERE direction = '{direction}' ORDER BY id DESC LIMIT 1) ORDER BY id")
    return dict(rows)


def test_the_failing_revision_is_named_without_alembic_logging(database, env, tmp_path):
    ini = silent_project(tmp_path, per_migration=True)
    before = fingerprint(database)
    failed = run_cli("--config", str(ini), "--format", "json", "upgrade", env=env)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    payload = json.loads(failed.stdout)
    assert payload["status"] == "failed-restored", payload
    assert payload["failed_step"] and "b2 -> c3" in payload["failed_step"], payload
    assert "Running upgrade" not in failed.stderr            # the log really was silent
    assert fingerprint(database) == before
    steps = recorded_steps(database)
    run_ms = payload["duration_seconds"] * 1000
    # the steps that ran have their own time; the one that never started (d4) gets the run's
    assert sorted(steps) == ["a1", "b2", "c3", "d4"]
    assert all(steps[revision] < run_ms for revision in ("a1", "b2", "c3"))
    assert steps["a1"] + steps["b2"] + steps["c3"] <= run_ms

    text = run_cli("--config", str(ini), "upgrade", env=env)
    assert text.returncode == 1
    assert "failed in upgrade b2 -> c3" in text.stdout, text.stdout


def test_each_revision_is_timed_without_alembic_logging(database, env, tmp_path):
    ini = silent_project(tmp_path, per_migration=False)
    write_revision(ini.parent, "c3_failing.py", FIXED_C3)
    done = run_cli("--config", str(ini), "--format", "json", "upgrade", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    payload = json.loads(done.stdout)
    steps = recorded_steps(database)
    assert sorted(steps) == ["a1", "b2", "c3", "d4"]
    assert sum(steps.values()) <= payload["migrate_seconds"] * 1000 + len(steps)   # rounding of each to 1 ms
    assert all(duration < payload["duration_seconds"] * 1000 for duration in steps.values())
    history = json.loads(run_cli("--config", str(ini), "--format", "json", "history", env=env).stdout)
    shown = {r["revision"]: r["last_run"]["duration_ms"] for r in history["revisions"]}
    assert shown == steps


def test_a_downgrade_names_the_revision_it_was_removing(database, env, tmp_path):
    ini = silent_project(tmp_path, per_migration=True)
    write_revision(ini.parent, "c3_failing.py", FIXED_C3)
    assert run_cli("--config", str(ini), "upgrade", env=env).returncode == 0
    write_revision(ini.parent, "c3_failing.py", revision("c3", "b2", 'op.execute("CREATE TABLE crops (id bigint)")',
                                                         'op.execute("DROP TABLE no_such_table")'))
    before = fingerprint(database)
    failed = run_cli("--config", str(ini), "--format", "json", "downgrade", "--revision", "b2", env=env)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    payload = json.loads(failed.stdout)
    assert "c3 -> b2" in payload["failed_step"], payload
    assert fingerprint(database) == before
    steps = recorded_steps(database, "downgrade")
    assert list(steps) == ["d4", "c3"]
