"""A database at several heads (branch labels, `heads`, a merge, `label@-1`, `base`) works as with
plain Alembic, and a failed run that was rolled back leaves no sequence advanced, owned by a column
or not. The end state is read from the database itself: its alembic_version rows and fingerprint()."""
from __future__ import annotations

import json


from alembic_projects import make_project, revision, write_revision
from harness import fingerprint, run_cli


def labelled(source: str, label: str) -> str:
    """A revision source whose first revision of a branch carries ``label``."""
    marker = "branch_labels = None"
    assert marker in source
    return source.replace(marker, f"branch_labels = ({label!r},)")


# A common root r0, branch "fields" (f1 -> f2) and branch "crops" (c1), merged later by m1.
ROOT = revision("r0", None, 'op.execute("CREATE TABLE farms (id bigint PRIMARY KEY)")',
                'op.execute("DROP TABLE farms")')
FIELDS_1 = labelled(revision("f1", "r0", 'op.execute("CREATE TABLE fields (id bigint PRIMARY KEY)")',
                             'op.execute("DROP TABLE fields")'), "fields")
FIELDS_2 = revision("f2", "f1", 'op.execute("ALTER TABLE fields ADD COLUMN hectares numeric")',
                    'op.execute("ALTER TABLE fields DROP COLUMN hectares")')
CROPS_1 = labelled(revision("c1", "r0", 'op.execute("CREATE TABLE crops (id bigint PRIMARY KEY)")',
                            'op.execute("DROP TABLE crops")'), "crops")
MERGE = revision("m1", ("f2", "c1"), 'op.execute("CREATE TABLE plantings (id bigint PRIMARY KEY)")',
                 'op.execute("DROP TABLE plantings")')


def versions(database) -> set:
    return {row[0] for row in database.sql("SELECT version_num FROM alembic_version")}


def tables(database) -> set:
    return {row[0] for row in database.sql("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            if row[0] != "alembic_version"}


def cli(ini, env, *args, expect: int = 0):
    result = run_cli("--config", str(ini), *args, env=env)
    assert result.returncode == expect, result.stdout + result.stderr
    return result


def cli_json(ini, env, *args, expect: int = 0) -> dict:
    return json.loads(cli(ini, env, "--format", "json", *args, expect=expect).stdout)


def test_a_database_at_several_heads_upgrades_merges_and_downgrades_like_alembic(database, env, tmp_path):
    root = tmp_path / "project"
    ini = make_project(root, {"r0.py": ROOT, "f1.py": FIELDS_1, "f2.py": FIELDS_2, "c1.py": CROPS_1})

    cli(ini, env, "upgrade", "--revision", "fields@head")
    assert versions(database) == {"f2"}
    assert tables(database) == {"farms", "fields"}

    # The scripts have two heads: status lists what is pending towards both and says so.
    status = cli_json(ini, env, "status")
    assert sorted(status["heads"]) == ["c1", "f2"]
    assert [step.split(":")[0] for step in status["pending"]] == ["r0 -> c1"]
    assert status["several_heads"] is True and status["up_to_date"] is False
    assert "c1" in cli(ini, env, "status").stdout

    # Alembic's own default, `head`, refuses several heads: a usage error, nothing changed.
    before = fingerprint(database)
    refused = cli(ini, env, "upgrade", expect=2)
    assert "heads" in refused.stderr + refused.stdout
    assert fingerprint(database) == before

    # The dry run renders the SQL from both heads (the start is a tuple, not "f2,c1").
    dry = cli_json(ini, env, "upgrade", "--revision", "heads", "--dry-run")
    assert "CREATE TABLE crops" in dry["sql"] and "fields" not in dry["sql"]
    assert fingerprint(database) == before

    cli(ini, env, "upgrade", "--revision", "heads")
    assert versions(database) == {"f2", "c1"}
    assert tables(database) == {"farms", "fields", "crops"}

    status = cli_json(ini, env, "status")
    assert sorted(status["current"]) == ["c1", "f2"]
    assert status["pending"] == [] and status["up_to_date"] is True
    history = cli_json(ini, env, "history")
    assert {r["revision"] for r in history["revisions"] if r["applied"]} == {"r0", "f1", "f2", "c1"}
    assert {r["revision"] for r in history["revisions"] if r["current"]} == {"f2", "c1"}
    health = cli_json(ini, env, "health")          # several heads is a warning, not a failure
    assert {c["check"]: c["status"] for c in health["checks"]}["single head"] == "warn"
    assert health["healthy"] is True
    assert "0 revision(s) pending" in {c["check"]: c["detail"] for c in health["checks"]}["pending"]

    # A merge revision joins the branches: pending from two heads, then one row in alembic_version.
    write_revision(root, "m1.py", MERGE)
    status = cli_json(ini, env, "status")
    assert status["heads"] == ["m1"] and status["several_heads"] is False
    assert [step.split(":")[0] for step in status["pending"]] == ["f2,c1 -> m1"]
    cli(ini, env, "upgrade", "--revision", "m1")
    assert versions(database) == {"m1"}
    assert tables(database) == {"farms", "fields", "crops", "plantings"}

    # From a merge a relative step is ambiguous for Alembic too: a usage error, nothing changed.
    before = fingerprint(database)
    refused = cli(ini, env, "downgrade", "--revision", "fields@-1", expect=2)
    assert "Ambiguous walk" in refused.stderr + refused.stdout
    assert fingerprint(database) == before
    # Naming a parent unmerges: the database is at the two branch heads again.
    cli(ini, env, "downgrade", "--revision", "f2")
    assert versions(database) == {"f2", "c1"}
    assert tables(database) == {"farms", "fields", "crops"}
    # One branch by one step, by its label: first the SQL it would run, from both heads.
    before = fingerprint(database)
    dry = cli_json(ini, env, "downgrade", "--revision", "fields@-1", "--dry-run")
    assert "DROP COLUMN hectares" in dry["sql"] and "crops" not in dry["sql"]
    assert fingerprint(database) == before
    cli(ini, env, "downgrade", "--revision", "fields@-1")
    assert versions(database) == {"f1", "c1"}
    assert "hectares" not in {row[0] for row in database.sql(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'fields'")}
    cli(ini, env, "downgrade", "--revision", "crops@-1")
    assert versions(database) == {"f1"}
    assert tables(database) == {"farms", "fields"}

    cli(ini, env, "upgrade", "--revision", "heads")
    assert versions(database) == {"m1"}
    cli(ini, env, "downgrade", "--revision", "base")
    assert versions(database) == set()
    assert tables(database) == set()


# -- sequences not owned by a column ------------------------------------------------------------
# free_seq is created on its own and only named by a column DEFAULT; "Batch Counter" is used by no
# column and never called before the run; "Farm Ops"."Lot Seq" needs quoting everywhere.
SEQUENCES_BASE = revision("s1", None, """
    op.execute("CREATE SEQUENCE free_seq")
    op.execute("CREATE TABLE harvests (id bigint PRIMARY KEY DEFAULT nextval('free_seq'), kg numeric)")
    op.execute("INSERT INTO harvests (kg) VALUES (1), (2), (3)")
    op.execute('CREATE SEQUENCE "Batch Counter"')
    op.execute('CREATE SCHEMA "Farm Ops"')
    op.execute('CREATE SEQUENCE "Farm Ops"."Lot Seq" START 10 INCREMENT 5')
    op.execute('CREATE TABLE "Farm Ops"."Lots" ("Lot Id" bigint DEFAULT nextval(\\'"Farm Ops"."Lot Seq"\\'))')
    op.execute('INSERT INTO "Farm Ops"."Lots" DEFAULT VALUES')
""")
INSERTS_THEN_FAILS = revision("s2", "s1", """
    op.execute("INSERT INTO harvests (kg) SELECT g FROM generate_series(1, 50) g")
    op.execute('SELECT nextval(\\'"Batch Counter"\\')')
    op.execute('INSERT INTO "Farm Ops"."Lots" SELECT FROM generate_series(1, 7)')
    op.execute("INSERT INTO harvests (id) VALUES (NULL)")
""")


def sequences_project(tmp_path, env):
    ini = make_project(tmp_path / "project", {"s1.py": SEQUENCES_BASE, "s2.py": INSERTS_THEN_FAILS})
    cli(ini, env, "upgrade", "--revision", "s1")
    return ini


def test_sequences_not_owned_by_a_column_are_rewound_after_a_rolled_back_failure(database, env, tmp_path):
    ini = sequences_project(tmp_path, env)
    before = fingerprint(database)
    assert before["sequences"]['public."Batch Counter"'] == (1, False)

    result = cli_json(ini, env, "upgrade", expect=1)
    assert result["status"] == "failed-rolled-back", result
    assert fingerprint(database) == before
    assert database.sql("SELECT nextval('free_seq')") == [(4,)]     # no gap either


def test_a_sequence_whose_column_holds_a_newer_value_stays_advanced(database, env, tmp_path):
    ini = sequences_project(tmp_path, env)
    # A row already holds an id past the sequence: putting the sequence back could not make the
    # collision worse, but the rewind cannot tell that row from one of the failed run, so it leaves
    # the sequence where the run left it (a gap, never a duplicate key).
    database.sql("INSERT INTO harvests (id, kg) VALUES (1000, 0)")
    before = fingerprint(database)

    cli(ini, env, "upgrade", expect=1)
    after = fingerprint(database)
    assert after["sequences"]["public.free_seq"] == (53, True)
    assert after["tables"] == before["tables"]
    assert {name: position for name, position in after["sequences"].items() if name != "public.free_seq"} \
        == {name: position for name, position in before["sequences"].items() if name != "public.free_seq"}


def recorded_revisions(database) -> list:
    """The newest run record's revisions, in the order they ran."""
    return [row[0] for row in database.sql(
        "SELECT revision FROM migration_safety.migration_history WHERE run_id = (SELECT run_id FROM"
        " migration_safety.migration_history ORDER BY id DESC LIMIT 1) ORDER BY id")]


def test_one_step_down_from_several_heads_is_refused_as_ambiguous(database, env, tmp_path):
    ini = make_project(tmp_path / "project", {"r0.py": ROOT, "f1.py": FIELDS_1, "f2.py": FIELDS_2, "c1.py": CROPS_1})
    cli(ini, env, "upgrade", "--revision", "heads")
    assert versions(database) == {"f2", "c1"}
    before = fingerprint(database)
    # Alembic itself only warns here and removes whichever head its walk meets first
    for args in (("downgrade", "-1"), ("downgrade", "--revision", "-1"), ("downgrade", "-1", "--dry-run"),
                 ("downgrade", "--revision=-2")):
        refused = run_cli("--config", str(ini), *args, env=env)
        assert refused.returncode == 2, (args, refused.stdout + refused.stderr)
        assert "ambiguous" in refused.stderr and "c1, f2" in refused.stderr, refused.stderr
        assert "--revision c1@-" in refused.stderr and "--revision f2@-" in refused.stderr
        assert "UserWarning" not in refused.stderr
        assert fingerprint(database) == before
    as_json = json.loads(run_cli("--config", str(ini), "--format", "json", "downgrade", "-1", env=env).stdout)
    assert as_json["error"]["exit_code"] == 2 and "f2@-1" in as_json["error"]["hint"]

    # Named, each head steps down by itself, and the run record names the revision removed.
    cli(ini, env, "downgrade", "--revision", "c1@-1")
    assert versions(database) == {"f2"} and tables(database) == {"farms", "fields"}
    assert recorded_revisions(database) == ["c1"]
    cli(ini, env, "downgrade", "f2@-1")
    assert versions(database) == {"f1"}
    assert recorded_revisions(database) == ["f2"]
    # With one head left, -1 is plain again
    cli(ini, env, "downgrade", "-1")
    assert versions(database) == {"r0"} and recorded_revisions(database) == ["f1"]
    # One target only
    both = run_cli("--config", str(ini), "downgrade", "--revision", "base", "r0", env=env)
    assert both.returncode == 2 and "two targets" in both.stderr
    missing = run_cli("--config", str(ini), "downgrade", env=env)
    assert missing.returncode == 2 and "needs a target" in missing.stderr
