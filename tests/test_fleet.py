"""Fleets: one protected command over many databases or tenant schemas. Each target is a real
database of the suite's cluster; its end state is read from the database itself."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap

import pytest

from alembic_projects import make_project, revision
from harness import APP_PASSWORD, REPO_ROOT, fingerprint, new_database, run_cli, wait_for
from test_service import start_service, tokens_env  # noqa: F401  (start_service: the fixture)

ORDERS = revision("a1", None, """
    op.execute("CREATE TABLE orders (id int PRIMARY KEY, note text)")
    op.execute("INSERT INTO orders VALUES (1, 'first')")
    op.execute("SELECT pg_sleep(0.3)")
""", 'op.execute("DROP TABLE orders")')
# fails only on a database holding a table named poison, after a1 committed (transaction per migration)
POISONED = revision("b2", "a1", """
    op.execute("DO $$ BEGIN IF to_regclass('poison') IS NOT NULL THEN RAISE EXCEPTION 'poisoned target'; "
               "END IF; END $$")
    op.execute("INSERT INTO orders VALUES (2, 'second')")
""", 'op.execute("DELETE FROM orders WHERE id = 2")')


@pytest.fixture
def fleet(pg_cluster, tmp_path):
    databases = []

    def make(count: int):
        for _ in range(count):
            databases.append(new_database(pg_cluster))
        return databases
    yield make
    for database in databases:
        pg_cluster.drop_database(database.name)


def targets_file(tmp_path, databases) -> str:
    entries = [{"name": f"db{number:02d}", "host": db.host, "port": db.port, "database": db.name, "user": db.user,
                "password_env": "FLEET_PASSWORD"} for number, db in enumerate(databases, 1)]
    path = tmp_path / "targets.yaml"
    path.write_text(json.dumps({"targets": entries}))           # JSON is YAML
    return str(path)


def fleet_env(env) -> dict:
    environment = dict(env, FLEET_PASSWORD=APP_PASSWORD)
    environment.pop("POSTGRES_PASSWORD", None)                  # the targets' passwords come from password_env
    return environment


def revision_of(database) -> list:
    exists = database.sql("SELECT to_regclass('alembic_version') IS NOT NULL")[0][0]
    return [row[0] for row in database.sql("SELECT version_num FROM alembic_version")] if exists else []


def test_a_failing_target_stops_the_rollout_or_not_and_is_restored(fleet, env, tmp_path):
    databases = fleet(12)
    poisoned = databases[4]                                      # db05
    poisoned.sql("CREATE TABLE poison (id int)")
    before = fingerprint(poisoned)
    ini = make_project(tmp_path / "p", {"a1.py": ORDERS, "b2.py": POISONED}, transaction_per_migration=True)
    targets = targets_file(tmp_path, databases)
    environment = fleet_env(env)

    stopped = run_cli("--config", str(ini), "--format", "json", "upgrade", "--targets", targets, env=environment)
    assert stopped.returncode == 1, stopped.stdout + stopped.stderr
    document = json.loads(stopped.stdout)
    outcome = {t["name"]: t["status"] for t in document["targets"]}
    assert [outcome[f"db{n:02d}"] for n in range(1, 5)] == ["applied"] * 4
    assert outcome["db05"] == "failed-restored"
    assert [outcome[f"db{n:02d}"] for n in range(6, 13)] == ["not-started"] * 7
    assert document["stopped"] == "db05 failed (--on-failure stop)" and document["exit_code"] == 1
    assert fingerprint(poisoned) == before                       # restored exactly
    assert all(revision_of(db) == ["b2"] for db in databases[:4])
    assert all(revision_of(db) == [] for db in databases[5:])     # never touched
    assert APP_PASSWORD not in stopped.stdout + stopped.stderr

    carried_on = run_cli("--config", str(ini), "upgrade", "--targets", targets, "--on-failure", "continue",
                         "--concurrency", "2", env=environment)
    assert carried_on.returncode == 1, carried_on.stdout + carried_on.stderr
    assert "db05" in carried_on.stdout and "failed-restored" in carried_on.stdout
    assert fingerprint(poisoned) == before
    others = databases[:4] + databases[5:]
    assert all(revision_of(db) == ["b2"] for db in others)
    assert all(db.sql("SELECT count(*) FROM orders")[0][0] == 2 for db in others)


def test_canary_failure_starts_nothing_else(fleet, env, tmp_path):
    databases = fleet(4)
    databases[0].sql("CREATE TABLE poison (id int)")
    ini = make_project(tmp_path / "p", {"a1.py": ORDERS, "b2.py": POISONED}, transaction_per_migration=True)
    result = run_cli("--config", str(ini), "--format", "json", "upgrade", "--targets",
                     targets_file(tmp_path, databases), "--canary", "1", "--on-failure", "continue",
                     env=fleet_env(env))
    document = json.loads(result.stdout)
    assert result.returncode == 1 and document["stopped"] == "canary db01 failed"
    assert [t["status"] for t in document["targets"]] == ["failed-restored"] + ["not-started"] * 3
    assert all(revision_of(db) == [] for db in databases)


TENANT_ENV_PY = '''
from logging.config import fileConfig

from sqlalchemy import engine_from_config, pool, text

from alembic import context

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name)
target_metadata = None


def run_migrations_online() -> None:
    # Alembic's cookbook, "Rudimental Schema-Level Multi Tenancy for PostgreSQL Databases"
    tenant = context.get_x_argument(as_dictionary=True).get("tenant")
    connectable = engine_from_config(config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.",
                                     poolclass=pool.NullPool)
    with connectable.connect() as connection:
        connection.execute(text('SET search_path TO "%s"' % tenant))
        connection.commit()
        connection.dialect.default_schema_name = tenant
        context.configure(connection=connection, target_metadata=target_metadata, version_table_schema=tenant)
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
'''


def test_schema_per_tenant(database, env, tmp_path):
    tenants = [f"tenant_{n}" for n in range(1, 6)]
    for tenant in tenants:
        database.sql(f"CREATE SCHEMA {tenant}")
    ini = make_project(tmp_path / "p", {"a1.py": ORDERS, "b2.py": POISONED})
    (ini.parent / "alembic" / "env.py").write_text(TENANT_ENV_PY)
    query = "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'tenant\\_%' ORDER BY 1"
    result = run_cli("--config", str(ini), "--format", "json", "upgrade", "--tenant-schemas", query, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    document = json.loads(result.stdout)
    assert [(t["name"], t["status"], t["revision_after"]) for t in document["targets"]] == \
        [(tenant, "applied", ["b2"]) for tenant in tenants]
    for tenant in tenants:
        assert database.sql(f"SELECT version_num FROM {tenant}.alembic_version") == [("b2",)]
        assert database.sql(f"SELECT count(*) FROM {tenant}.orders") == [(2,)]
    assert database.sql("SELECT to_regclass('public.orders')") == [(None,)]

    status = run_cli("--config", str(ini), "--format", "json", "status", "--tenant-schemas", "tenant_2,tenant_4",
                     env=env)
    assert status.returncode == 0, status.stderr
    documents = {t["name"]: t["document"] for t in json.loads(status.stdout)["targets"]}
    assert sorted(documents) == ["tenant_2", "tenant_4"]
    assert all(doc["current"] == ["b2"] and doc["pending"] == [] for doc in documents.values()), documents


def test_an_interrupted_fleet_run_resumes_where_it_stopped(fleet, env, tmp_path):
    databases = fleet(6)
    ini = make_project(tmp_path / "p", {"a1.py": ORDERS, "b2.py": POISONED})
    targets = targets_file(tmp_path, databases)
    environment = fleet_env(env)
    state = tmp_path / "state.json"
    process = subprocess.Popen([sys.executable, str(REPO_ROOT / "migrations" / "migration_utils.py"), "--config",
                                str(ini), "--format", "json", "upgrade", "--targets", targets, "--fleet-state",
                                str(state)], env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    wait_for(lambda: state.exists() and json.loads(state.read_text())["targets"], "a first target to finish")
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 1, stdout + stderr
    interrupted = json.loads(stdout)
    assert interrupted["stopped"] == "interrupted"
    done = {t["name"] for t in interrupted["targets"] if t["status"] == "applied"}
    left = {t["name"] for t in interrupted["targets"] if t["status"] == "not-started"}
    assert done and left and len(done | left) == 6
    # a target running when the signal came finished its own run (none half-done)
    assert all(revision_of(db) in ([], ["b2"]) for db in databases)

    resumed = run_cli("--config", str(ini), "--format", "json", "upgrade", "--targets", targets, "--fleet-state",
                      str(state), "--resume", env=environment)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    statuses = {t["name"]: t["status"] for t in json.loads(resumed.stdout)["targets"]}
    assert {name for name, status in statuses.items() if status == "skipped"} == done
    assert {name for name, status in statuses.items() if status == "applied"} == left
    assert all(revision_of(db) == ["b2"] for db in databases)


def test_shards_in_parallel_cover_every_target_once(fleet, env, tmp_path):
    databases = fleet(9)
    ini = make_project(tmp_path / "p", {"a1.py": ORDERS, "b2.py": POISONED})
    targets = targets_file(tmp_path, databases)
    environment = fleet_env(env)
    shards = [subprocess.Popen([sys.executable, str(REPO_ROOT / "migrations" / "migration_utils.py"), "--config",
                                str(ini), "--format", "json", "upgrade", "--targets", targets, "--shard", f"{i}/3"],
                               env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
              for i in range(3)]
    ran = []
    for shard in shards:
        stdout, stderr = shard.communicate(timeout=300)
        assert shard.returncode == 0, stdout + stderr
        ran.append([t["name"] for t in json.loads(stdout)["targets"]])
    names = [name for shard in ran for name in shard]
    assert sorted(names) == [f"db{n:02d}" for n in range(1, 10)]          # each exactly once
    assert all(revision_of(db) == ["b2"] for db in databases)

    # a Kubernetes Indexed Job gives the index
    indexed = run_cli("--config", str(ini), "--format", "json", "status", "--targets", targets, "--shard", "3",
                      env=dict(environment, JOB_COMPLETION_INDEX="1"))
    assert [t["name"] for t in json.loads(indexed.stdout)["targets"]] == ran[1]


def test_targets_files_that_would_leak_or_explode_are_refused(env, tmp_path):
    ini = make_project(tmp_path / "p", {"a1.py": ORDERS})
    inline = tmp_path / "inline.yaml"
    inline.write_text("targets:\n  - url: postgresql://app:hunter2@db.example/app\n")
    result = run_cli("--config", str(ini), "status", "--targets", str(inline), env=env)
    assert result.returncode == 2 and "password_env" in result.stderr and "hunter2" not in result.stderr
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(textwrap.dedent("""\
        a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x"]
        b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
        targets: [*b, *b, *b, *b, *b, *b, *b, *b, *b]
        """))
    result = run_cli("--config", str(ini), "status", "--targets", str(bomb), env=env)
    assert result.returncode == 2 and "aliases" in result.stderr
    result = run_cli("--config", str(ini), "status", "--targets", str(bomb), "--shard", "3/3", env=env)
    assert result.returncode == 2


@pytest.mark.parametrize("abbreviated", [["--targ"], ["--conc", "2", "--targets"]], ids=["targets", "concurrency"])
def test_an_abbreviated_option_is_refused_not_handed_to_every_target(fleet, env, tmp_path, abbreviated):
    """Each target's own run gets the fleet's command line without the fleet's options. Accepted
    abbreviated (argparse's default), `--targ FILE` would reach every target's run as `--targets`
    (each starting the whole fleet again) and `--conc 2` as a concurrency it ignores: options are
    spelled in full, and anything else is a usage error before anything runs."""
    databases = fleet(2)
    targets = targets_file(tmp_path, databases)
    ini = make_project(tmp_path / "app", {"a1.py": ORDERS})
    result = run_cli("--config", str(ini), "--format", "json", "upgrade", *abbreviated, targets, env=fleet_env(env))
    assert result.returncode == 2, result.stdout + result.stderr
    error = json.loads(result.stdout)["error"]
    assert error["kind"] == "usage" and abbreviated[0] in error["message"], error
    assert [revision_of(database) for database in databases] == [[], []]


def test_shard_selection_is_deterministic():
    from migration_safety.fleet.targets import Target, parse_shard, select_shard

    targets = [Target(f"t{n:02d}") for n in range(10)]
    shards = [select_shard(list(reversed(targets)), parse_shard(f"{i}/3")) for i in range(3)]
    assert sorted(t.name for shard in shards for t in shard) == [t.name for t in targets]
    assert parse_shard("4", {"JOB_COMPLETION_INDEX": "2"}) == (2, 4)


def test_downgrade_validate_and_backups_list_take_the_same_targets(fleet, env, tmp_path):
    databases = fleet(3)
    ini = make_project(tmp_path / "p", {"a1.py": ORDERS, "b2.py": POISONED})
    targets = targets_file(tmp_path, databases)
    environment = fleet_env(env)
    upgraded = run_cli("--config", str(ini), "upgrade", "--targets", targets, "--concurrency", "3", env=environment)
    assert upgraded.returncode == 0, upgraded.stdout + upgraded.stderr
    assert "3 applied" in upgraded.stdout and "[3 done, 0 failed, 0 running of 3]" in upgraded.stderr

    listed = json.loads(run_cli("--config", str(ini), "--format", "json", "backups", "list", "--targets", targets,
                                env=environment).stdout)
    for target, database in zip(listed["targets"], databases):
        [backup] = target["document"]["backups"]                        # each target's own directory
        assert backup["database"] == database.name

    validated = run_cli("--config", str(ini), "--format", "json", "validate", "--database", "--targets", targets,
                        env=environment)
    assert validated.returncode == 0, validated.stdout + validated.stderr
    assert [t["status"] for t in json.loads(validated.stdout)["targets"]] == ["ok"] * 3

    down = run_cli("--config", str(ini), "downgrade", "--revision", "a1", "--targets", targets, env=environment)
    assert down.returncode == 0, down.stdout + down.stderr
    assert all(revision_of(db) == ["a1"] for db in databases)


def test_the_service_runs_a_fleet_like_a_single_run(fleet, env, tmp_path, start_service):  # noqa: F811
    """POST /api/v1/fleet/migrate over the server's targets file (never one the caller names):
    202, then the run shows the fleet's document; tenant schemas from the caller are names only."""

    databases = fleet(3)
    databases[2].sql("CREATE TABLE poison (id int)")
    ini = make_project(tmp_path / "p", {"a1.py": ORDERS, "b2.py": POISONED}, transaction_per_migration=True)
    environment, read, write = tokens_env(fleet_env(env), tmp_path)
    environment.update(MIGRATION_FLEET_TARGETS=targets_file(tmp_path, databases),
                       POSTGRES_PASSWORD=APP_PASSWORD)            # the service's own database
    service = start_service(environment, ini, [read, write])
    assert service.call("POST", "/api/v1/fleet/migrate", read, {}).status == 403
    answer = service.call("POST", "/api/v1/fleet/migrate", write, {"on_failure": "continue", "concurrency": 2})
    assert answer.status == 202, answer.text
    run = service.wait_for_run(answer.body["url"], read, timeout=240)
    assert run["state"] == "finished" and run["exit_code"] == 1, run
    statuses = {t["name"]: t["status"] for t in run["result"]["targets"]}
    assert statuses == {"db01": "applied", "db02": "applied", "db03": "failed-restored"}
    assert any("db02: applied" in step["text"] for step in run["steps"]), run["steps"]
    refused = service.call("POST", "/api/v1/fleet/migrate", write, {"tenant_schemas": ["x; DROP TABLE orders"]})
    assert refused.status == 422, refused.text


def test_a_targets_run_sees_its_own_password_and_no_other_targets():
    from migration_safety.fleet.targets import Target

    target = Target("acme", {"POSTGRES_DB": "acme", "POSTGRES_HOST": "db"}, "ACME_PASSWORD")
    environment = target.child_environment(
        {"ACME_PASSWORD": "a" * 12, "GLOBEX_PASSWORD": "g" * 12, "POSTGRES_DB": "fleet", "DATABASE_URL": "x",
         "PATH": "/bin"}, other_secrets={"GLOBEX_PASSWORD"})
    assert environment["POSTGRES_PASSWORD"] == "a" * 12 and environment["POSTGRES_DB"] == "acme"
    assert "GLOBEX_PASSWORD" not in environment and "DATABASE_URL" not in environment
    assert environment["PATH"] == "/bin"
