"""Findings are judged across the whole plan: renaming or dropping a table, column or index that an
earlier revision of the same plan creates is no hazard (nothing outside the run can read it or hold
data in it yet), nor is a NOT NULL column or an index on a table the plan created. The same
revision against a database where the table already holds rows is still refused."""
from __future__ import annotations

import json

from alembic_projects import make_project, revision
from harness import fingerprint, run_cli

CHAIN = {
    "a1_crops.py": revision("a1", None, """
        op.create_table("crops", sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
                        sa.Column("name", sa.Text))
    """, 'op.drop_table("crops")'),
    "b2_rename.py": revision("b2", "a1", 'op.rename_table("crops", "plants")', 'op.rename_table("plants", "crops")'),
    "c3_columns.py": revision("c3", "b2", """
        op.drop_column("plants", "name")
        op.add_column("plants", sa.Column("kind", sa.Text(), nullable=False))
        op.add_column("plants", sa.Column("note", sa.Text()))
    """, """
        op.drop_column("plants", "note")
        op.drop_column("plants", "kind")
        op.add_column("plants", sa.Column("name", sa.Text))
    """),
    "d4_index.py": revision("d4", "c3", """
        op.create_index("ix_plants_kind", "plants", ["kind"])
        op.alter_column("plants", "note", nullable=False)
        op.execute("CREATE INDEX ix_plants_note ON plants (note)")
    """, """
        op.execute("DROP INDEX ix_plants_note")
        op.alter_column("plants", "note", nullable=True)
        op.drop_index("ix_plants_kind", table_name="plants")
    """),
    "e5_tidy.py": revision("e5", "d4", """
        op.drop_index("ix_plants_kind", table_name="plants")
        op.execute("DROP INDEX ix_plants_note")
        op.execute("ALTER TABLE plants RENAME COLUMN note TO remark")
    """, """
        op.execute("ALTER TABLE plants RENAME COLUMN remark TO note")
        op.execute("CREATE INDEX ix_plants_note ON plants (note)")
        op.create_index("ix_plants_kind", "plants", ["kind"])
    """),
}
HAZARDS = {"rename-table", "drop-column", "add-not-null-column-without-default", "create-index-without-concurrently",
           "set-not-null", "drop-index-without-concurrently", "rename-column"}


def blocking(findings):
    return [(f["rule"], f["revision"]) for f in findings if f["severity"] in ("error", "warning")]


def test_a_chain_renaming_and_dropping_what_it_creates_upgrades_a_fresh_database(database, env, tmp_path):
    ini = make_project(tmp_path / "project", CHAIN)
    # without a database every revision is judged alone: the hazards are real for a database at a1
    assert run_cli("--config", str(ini), "validate").returncode == 3

    dry = run_cli("--config", str(ini), "--format", "json", "upgrade", "--dry-run", env=env)
    assert dry.returncode == 0, dry.stdout + dry.stderr
    findings = json.loads(dry.stdout)["findings"]
    assert blocking(findings) == []
    upgrade = [f for f in findings if f["phase"] == "upgrade"]
    assert {f["rule"] for f in upgrade} == HAZARDS           # still listed, as info, with the reason
    assert all("created by this plan" in f["message"] for f in upgrade), upgrade

    done = run_cli("--config", str(ini), "--format", "json", "upgrade", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert blocking(json.loads(done.stdout)["findings"]) == []
    columns = database.sql("SELECT column_name FROM information_schema.columns WHERE table_name = 'plants'"
                           " ORDER BY ordinal_position")
    assert columns == [("id",), ("kind",), ("remark",)]
    assert database.sql("SELECT indexname FROM pg_indexes WHERE tablename = 'plants' AND indexname LIKE 'ix%'") == []


def test_the_rename_alone_on_a_table_holding_rows_is_still_refused(database, env, tmp_path):
    ini = make_project(tmp_path / "project", CHAIN)
    assert run_cli("--config", str(ini), "upgrade", "--revision", "a1", env=env).returncode == 0
    database.sql("INSERT INTO crops (name) VALUES ('maize'), ('rice')")
    before = fingerprint(database)
    refused = run_cli("--config", str(ini), "--format", "json", "upgrade", "--revision", "b2", env=env)
    assert refused.returncode == 3, refused.stdout + refused.stderr
    assert ("rename-table", "b2") in blocking(json.loads(refused.stdout)["validation"]["findings"])
    assert fingerprint(database) == before

    # b2 onwards as one plan: b2's rename of crops (which exists) is refused; c3's drop of plants.name
    # is too (plants is crops, renamed: the plan did not create it), and so is c3's NOT NULL column
    # without default and d4's SET NOT NULL: plants is judged as crops, which holds rows, not as a
    # table that "does not exist yet"
    refused = run_cli("--config", str(ini), "--format", "json", "upgrade", env=env)
    assert refused.returncode == 3
    findings = json.loads(refused.stdout)["validation"]["findings"]
    assert {("rename-table", "b2"), ("drop-column", "c3"), ("add-not-null-column-without-default", "c3"),
            ("set-not-null", "d4")} <= set(blocking(findings))
    assert not [f for f in findings if "plants does not exist" in f["message"]]
    assert fingerprint(database) == before


GUARDED_DROPS = {
    # Langflow's first revisions (260dbcc8b680, b2fa308044b5) drop tables of older releases only where
    # they exist; on a fresh database they do not, and nothing could hold data in them
    "a1_tidy.py": revision("a1", None, """
        conn = op.get_bind()
        existing = sa.inspect(conn).get_table_names()
        if "flowstyle" in existing:
            op.drop_table("flowstyle")
        if "_alembic_tmp_flow" in existing:
            op.drop_table("_alembic_tmp_flow")
        op.create_table("flow", sa.Column("id", sa.BigInteger, primary_key=True), sa.Column("name", sa.Text))
    """, 'op.drop_table("flow")'),
    "b2_more.py": revision("b2", "a1", """
        if "flowstyle" in sa.inspect(op.get_bind()).get_table_names():
            op.drop_table("flowstyle")
        op.add_column("flow", sa.Column("icon", sa.Text))
    """, 'op.drop_column("flow", "icon")'),
}


def test_guarded_drops_of_tables_the_database_does_not_have_do_not_block_a_fresh_database(database, env, tmp_path):
    ini = make_project(tmp_path / "project", GUARDED_DROPS)
    assert run_cli("--config", str(ini), "validate").returncode == 3        # alone, each drop is a hazard

    done = run_cli("--config", str(ini), "--format", "json", "upgrade", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    findings = json.loads(done.stdout)["findings"]
    assert blocking(findings) == []
    drops = [f["message"] for f in findings if f["rule"] == "drop-table" and f["phase"] == "upgrade"]
    assert len(drops) == 3 and all("does not exist in the database" in m for m in drops), drops
    assert database.sql("SELECT version_num FROM alembic_version") == [("b2",)]

    # the same guarded drop where the table exists and holds rows is refused
    assert run_cli("--config", str(ini), "downgrade", "--revision", "base", env=env).returncode == 0
    database.sql("CREATE TABLE flowstyle (id int); INSERT INTO flowstyle VALUES (1)")
    before = fingerprint(database)
    refused = run_cli("--config", str(ini), "--format", "json", "upgrade", env=env)
    assert refused.returncode == 3, refused.stdout + refused.stderr
    assert ("drop-table", "a1") in blocking(json.loads(refused.stdout)["validation"]["findings"])
    assert fingerprint(database) == before
