"""``validate --fix``: each fixer's safe form validates clean, upgrades and downgrades on a real
PostgreSQL, and leaves exactly the schema (and rows) the original revision leaves; a second run
changes nothing; a suppressed finding and a file that cannot be parsed are left alone."""
from __future__ import annotations

import json
from pathlib import Path
import shutil
import subprocess
import sys
import textwrap
import time

import pytest

from alembic_projects import make_project, revision, write_revision
from harness import REPO_ROOT, fingerprint, new_database, run_cli, wait_for

# A table with rows, so every hazard below is a real one (the validator spares empty new tables).
BASE = revision("a0", None, """
    op.execute("CREATE TABLE accounts (id bigint PRIMARY KEY, email text, plan text)")
    op.execute("CREATE TABLE orders (id bigint PRIMARY KEY, account_id bigint, total numeric, note text)")
    op.execute("INSERT INTO accounts SELECT g, 'user' || g || '@example.com', 'free' FROM generate_series(1, 300) g")
    op.execute("INSERT INTO orders SELECT g, 1 + g % 300, g * 1.5, NULL FROM generate_series(1, 900) g")
""", 'op.execute("DROP TABLE orders"); op.execute("DROP TABLE accounts")')

# fixer's rule id -> (upgrade body, downgrade body)
CASES = {
    "create-index-without-concurrently": (
        'op.create_index("ix_orders_account_id", "orders", ["account_id"])  # find an account\'s orders',
        'op.drop_index("ix_orders_account_id", table_name="orders")'),
    "drop-index-without-concurrently": (
        'op.drop_index("ix_orders_total", table_name="orders")',
        'op.create_index("ix_orders_total", "orders", ["total"])'),
    "add-foreign-key-without-not-valid": (
        """op.create_foreign_key(
            "fk_orders_account",
            "orders", "accounts",
            ["account_id"], ["id"],
            ondelete="CASCADE",
        )""",
        'op.drop_constraint("fk_orders_account", "orders", type_="foreignkey")'),
    "add-check-without-not-valid": (
        'op.create_check_constraint("ck_orders_total_positive", "orders", "total > 0")',
        'op.drop_constraint("ck_orders_total_positive", "orders", type_="check")'),
    "add-unique-constraint": (
        'op.create_unique_constraint("uq_accounts_email", "accounts", ["email"])',
        'op.drop_constraint("uq_accounts_email", "accounts", type_="unique")'),
    "set-not-null": (
        'op.alter_column("accounts", "email", existing_type=sa.Text(), nullable=False)',
        'op.alter_column("accounts", "email", existing_type=sa.Text(), nullable=True)'),
    "add-column-volatile-default": (
        'op.add_column("orders", sa.Column("token", sa.Text(), server_default=sa.text("md5(random()::text)"), '
        'nullable=False))',
        'op.drop_column("orders", "token")'),
    # a long backfill in the transaction, a long concurrent build in an autocommit block
    "timeout-override": ("""
        op.execute("SET statement_timeout = '30min'")  # the backfill takes minutes
        op.execute("UPDATE orders SET note = 'n' || id WHERE note IS NULL")
        with op.get_context().autocommit_block():
            op.execute(sa.text("SELECT set_config('statement_timeout', '2h', false)"))
            op.execute("CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_orders_note ON orders (note)")""",
        """
        with op.get_context().autocommit_block():
            op.execute("DROP INDEX CONCURRENTLY IF EXISTS ix_orders_note")
        op.execute("UPDATE orders SET note = NULL WHERE note LIKE 'n%'")"""),
}
# drop-index needs the index first
INDEXED = revision("a1", "a0", 'op.create_index("ix_orders_total", "orders", ["total"])',
                   'op.drop_index("ix_orders_total", table_name="orders")')


def project_with(root, rule: str):
    upgrade, downgrade = CASES[rule]
    revisions = {"a0_base.py": BASE, "a1_indexed.py": INDEXED,
                 "b1_change.py": revision("b1", "a1", upgrade, downgrade)}
    return make_project(root, revisions)


def cli(ini, *args, env, expect=0):
    result = run_cli("--config", str(ini), *args, env=env)
    assert result.returncode == expect, result.stdout + result.stderr
    return result


def schema_and_rows(database) -> dict:
    """The fingerprint without the column whose values are random by design (the volatile default)."""
    state = fingerprint(database)
    if '"public"."orders"' in str(state["tables"]) or "public.orders" in state["tables"]:
        count = database.sql("SELECT count(*), count(DISTINCT account_id), sum(total) FROM orders")[0]
        state["tables"]["public.orders"] = count
    return {"schema": state["schema"], "tables": state["tables"], "sequences": state["sequences"]}


@pytest.mark.parametrize("rule", sorted(CASES))
def test_a_fixed_revision_is_clean_and_leaves_the_same_schema(rule, pg_cluster, env, tmp_path):
    original = project_with(tmp_path / "original", rule)
    fixed = project_with(tmp_path / "fixed", rule)
    change = fixed.parent / "alembic" / "versions" / "b1_change.py"

    before = run_cli("--config", str(fixed), "--format", "json", "validate", "-f", str(change), env=env)
    assert before.returncode in (0, 3), before.stderr
    assert rule in {f["rule"] for f in json.loads(before.stdout)["findings"]}

    result = cli(fixed, "--format", "json", "validate", "--fix", "-f", str(change), env=env)
    document = json.loads(result.stdout)
    [entry] = document["files"]
    assert {fix["rule"] for fix in entry["fixed"]} == {rule}, entry
    assert not [f for f in document["findings_after"] if f["severity"] in ("error", "warning")], document
    text = change.read_text()
    assert "# find an account's orders" in text or rule != "create-index-without-concurrently"   # comments kept
    assert "# the backfill takes minutes" in text or rule != "timeout-override"

    again = cli(fixed, "validate", "--fix", "--diff", "-f", str(change), env=env)
    assert again.stdout.strip() == "", again.stdout            # idempotent: nothing left to change

    plain_db, fixed_db = new_database(pg_cluster), new_database(pg_cluster)
    try:
        plain_env = dict(env, POSTGRES_DB=plain_db.name, MIGRATION_BACKUP_DIR=str(tmp_path / "b1"))
        fixed_env = dict(env, POSTGRES_DB=fixed_db.name, MIGRATION_BACKUP_DIR=str(tmp_path / "b2"))
        cli(original, "upgrade", "--allow-unsafe", env=plain_env)
        cli(fixed, "upgrade", env=fixed_env)                    # no --allow-unsafe needed
        assert schema_and_rows(fixed_db) == schema_and_rows(plain_db)
        cli(fixed, "downgrade", "--revision", "a1", env=fixed_env)
        cli(original, "downgrade", "--revision", "a1", env=plain_env)
        assert schema_and_rows(fixed_db) == schema_and_rows(plain_db)
    finally:
        pg_cluster.drop_database(plain_db.name)
        pg_cluster.drop_database(fixed_db.name)


# Revision 1 needs a long statement_timeout and lock wait of its own and sets them for the session;
# revision 2 takes a lock another session holds. Where revision 1's SET runs decides the fix.
LEAKING = {
    "one transaction": (False, """
        op.execute("SET statement_timeout = '10min'")
        op.execute("SET lock_timeout = '10min'")
        op.execute("UPDATE orders SET note = 'checked' WHERE id <= 10")
    """),
    "transaction per migration": (True, """
        op.execute("SET statement_timeout = '10min'")
        op.execute("SET lock_timeout = '10min'")
        op.execute("UPDATE orders SET note = 'checked' WHERE id <= 10")
    """),
    "autocommit block": (False, """
        with op.get_context().autocommit_block():
            op.execute("SET statement_timeout = '10min'")
            op.execute("SET lock_timeout = '10min'")
            op.execute("CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_orders_note ON orders (note)")
    """),
}
WAITING = revision("c2", "c1", 'op.execute("ALTER TABLE accounts ADD COLUMN tier text")',
                   'op.execute("ALTER TABLE accounts DROP COLUMN tier")')
WRAPPER_LOCK_TIMEOUT = "1s"


def leaking_project(root, where: str):
    per_migration, upgrade = LEAKING[where]
    downgrade = ('with op.get_context().autocommit_block():\n    op.execute("DROP INDEX CONCURRENTLY IF EXISTS '
                 'ix_orders_note")\nop.execute("UPDATE orders SET note = NULL WHERE note = \'checked\'")')
    return make_project(root, {"a0_base.py": BASE, "c1_leaking.py": revision("c1", "a0", upgrade, downgrade),
                               "c2_waiting.py": WAITING}, transaction_per_migration=per_migration)


def holding_accounts(database):
    """Another session reads accounts in an open transaction: its ACCESS SHARE lock makes revision
    2's ALTER TABLE wait."""
    holder = database.connect()
    holder.autocommit = False
    holder.cursor().execute("SELECT count(*) FROM accounts")
    return holder


def lock_wait_seconds(database) -> float:
    """How long revision 2's ALTER TABLE has been waiting for its lock (0 when it is not waiting)."""
    rows = database.sql("SELECT extract(epoch FROM clock_timestamp() - query_start)::float FROM pg_stat_activity "
                        "WHERE datname = current_database() AND wait_event_type = 'Lock' "
                        "AND query LIKE 'ALTER TABLE accounts%'")
    return rows[0][0] if rows else 0.0


@pytest.mark.parametrize("where", sorted(LEAKING))
def test_a_leaked_timeout_makes_the_next_revision_wait_and_the_fix_makes_it_fail_fast(where, pg_cluster, env,
                                                                                      tmp_path):
    """The leak, proved on a real run: revision 1's unscoped SET replaces the wrapper's lock_timeout
    for revision 2, which waits for a lock far longer than the wrapper allows. After
    `validate --fix` the same wait fails at the wrapper's lock_timeout and the database is as it was."""
    run_env = dict(env, MIGRATION_LOCK_TIMEOUT=WRAPPER_LOCK_TIMEOUT)
    original_db, fixed_db = new_database(pg_cluster), new_database(pg_cluster)
    try:
        # before the fix: revision 2 is still waiting well past the wrapper's 1s
        original = leaking_project(tmp_path / "original", where)
        original_env = dict(run_env, POSTGRES_DB=original_db.name, MIGRATION_BACKUP_DIR=str(tmp_path / "b1"))
        cli(original, "upgrade", "--revision", "a0", env=original_env)
        holder = holding_accounts(original_db)
        try:
            run = subprocess.Popen([sys.executable, str(REPO_ROOT / "migrations" / "migration_utils.py"),
                                    "--config", str(original), "upgrade"], env=original_env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            wait_for(lambda: lock_wait_seconds(original_db), "revision 2 waiting for the lock")
            # four times the wrapper's lock_timeout, unless the wait ends first (then there is no leak)
            wait_for(lambda: lock_wait_seconds(original_db) >= 4 or not lock_wait_seconds(original_db),
                     "revision 2 waiting four times the wrapper's lock_timeout")
            assert run.poll() is None and lock_wait_seconds(original_db) >= 4, "the run did not wait: no leak"
        finally:
            holder.rollback()
            holder.close()
        out, err = run.communicate(timeout=120)
        assert run.returncode == 0, out + err           # it waited until the lock was released

        # after the fix: the same wait fails fast, and nothing is left changed
        fixed = leaking_project(tmp_path / "fixed", where)
        fixed_env = dict(run_env, POSTGRES_DB=fixed_db.name, MIGRATION_BACKUP_DIR=str(tmp_path / "b2"))
        result = cli(fixed, "--format", "json", "validate", "--fix", env=fixed_env)
        fixes = {(Path(entry["file"]).name, fix["rule"]) for entry in json.loads(result.stdout)["files"]
                 for fix in entry["fixed"]}
        assert fixes == {("c1_leaking.py", "timeout-override")}, result.stdout
        text = (fixed.parent / "alembic" / "versions" / "c1_leaking.py").read_text()
        assert ("RESET lock_timeout" in text) == (where != "transaction per migration"), text
        assert ("SET LOCAL lock_timeout" in text) == (where != "autocommit block"), text
        cli(fixed, "upgrade", "--revision", "a0", env=fixed_env)
        before = fingerprint(fixed_db)
        holder = holding_accounts(fixed_db)
        try:
            started = time.monotonic()
            failed = cli(fixed, "upgrade", env=fixed_env, expect=1)
            elapsed = time.monotonic() - started
        finally:
            holder.rollback()
            holder.close()
        assert "lock timeout" in failed.stdout, failed.stdout + failed.stderr
        assert elapsed < 30, elapsed
        assert fingerprint(fixed_db) == before
    finally:
        pg_cluster.drop_database(original_db.name)
        pg_cluster.drop_database(fixed_db.name)


def test_a_scoped_lock_timeout_is_judged_against_the_runs_own(env, tmp_path):
    """Raising lock_timeout warns even when scoped; what counts as raised is the run's setting."""
    ini = make_project(tmp_path / "p", {"a0_base.py": BASE, "b1_change.py": revision("b1", "a0", """
        op.execute("SET LOCAL lock_timeout = '20s'")
        op.execute("UPDATE orders SET note = 'checked' WHERE id <= 10")
        op.execute("RESET lock_timeout")
    """)})

    def timeout_findings(lock_timeout):
        result = cli(ini, "--format", "json", "validate", env=dict(env, MIGRATION_LOCK_TIMEOUT=lock_timeout))
        return [f["message"] for f in json.loads(result.stdout)["findings"] if f["rule"] == "timeout-override"]

    assert timeout_findings("5s") == ["the revision raises lock_timeout to 20s, above the wrapper's 5s"]
    assert timeout_findings("30s") == []


def test_diff_shows_the_change_and_writes_nothing(env, tmp_path):
    ini = project_with(tmp_path / "p", "create-index-without-concurrently")
    change = ini.parent / "alembic" / "versions" / "b1_change.py"
    text = change.read_text()
    result = cli(ini, "validate", "--fix", "--diff", "-f", str(change), env=env)
    assert change.read_text() == text
    assert "+    with op.get_context().autocommit_block():" in result.stdout
    assert "postgresql_concurrently=True, if_not_exists=True" in result.stdout
    assert result.stdout.startswith("--- a/b1_change.py")


def test_a_suppressed_finding_is_left_alone(env, tmp_path):
    ini = project_with(tmp_path / "p", "create-index-without-concurrently")
    change = write_revision(ini.parent, "b1_change.py", revision("b1", "a1", (
        'op.create_index("ix_orders_account_id", "orders", ["account_id"])  '
        "# migration-safety: ignore[create-index-without-concurrently] orders is tiny for years to come")))
    text = change.read_text()
    cli(ini, "validate", "--fix", "-f", str(change), env=env)
    assert change.read_text() == text


def test_what_has_no_mechanical_fix_is_listed_with_its_do_instead(env, tmp_path):
    ini = project_with(tmp_path / "p", "create-index-without-concurrently")
    change = write_revision(ini.parent, "b1_change.py", revision("b1", "a1", """
        op.create_index("ix_orders_account_id", "orders", ["account_id"])
        op.drop_column("orders", "note")
        name = "ck_" + "computed"
        op.create_check_constraint(name, "orders", "total > 0")
    """))
    result = cli(ini, "validate", "--fix", "-f", str(change), env=env, expect=3)     # drop-column stays an error
    assert "fixed" in result.stdout and "create-index-without-concurrently" in result.stdout
    assert "left" in result.stdout and "drop-column" in result.stdout and "add-check-without-not-valid" in result.stdout
    text = change.read_text()
    assert 'op.create_check_constraint(name, "orders", "total > 0")' in text     # not a literal name: untouched
    assert 'op.drop_column("orders", "note")' in text


def test_a_file_that_cannot_be_parsed_is_never_touched(env, tmp_path):
    ini = project_with(tmp_path / "p", "create-index-without-concurrently")
    broken = write_revision(ini.parent, "b2_broken.py", 'revision = "b2"\ndown_revision = "b1"\ndef upgrade(:\n')
    text = broken.read_text()
    result = run_cli("--config", str(ini), "validate", "--fix", env=env)
    assert "Traceback" not in result.stderr
    assert broken.read_text() == text


def test_create_autogenerate_safe_writes_the_safe_form(database, env, tmp_path):
    """A model change autogenerated with --safe: the new index is created concurrently."""
    ini = make_project(tmp_path / "p", {"a0_base.py": BASE})
    env_py = ini.parent / "alembic" / "env.py"
    env_py.write_text(env_py.read_text().replace("target_metadata = None", textwrap.dedent("""\
        import sqlalchemy as sa
        target_metadata = sa.MetaData()
        sa.Table("accounts", target_metadata, sa.Column("id", sa.BigInteger, primary_key=True),
                 sa.Column("email", sa.Text), sa.Column("plan", sa.Text, index=True))
        sa.Table("orders", target_metadata, sa.Column("id", sa.BigInteger, primary_key=True),
                 sa.Column("account_id", sa.BigInteger), sa.Column("total", sa.Numeric), sa.Column("note", sa.Text))
        """)))
    cli(ini, "upgrade", env=env)
    result = cli(ini, "--format", "json", "create", "--autogenerate", "--safe", "--message", "index plans", env=env)
    created = json.loads(result.stdout)
    text = open(created["created"]).read()
    assert "postgresql_concurrently=True" in text and "autocommit_block()" in text
    assert created["fixed"] and not [f for f in created.get("findings", []) if f["severity"] != "info"]
    cli(ini, "upgrade", env=env)
    assert database.sql("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_accounts_plan'")
    shutil.rmtree(tmp_path / "p")


def test_the_fix_page_shows_what_the_fixers_write():
    from migration_safety.validation.fixes.examples import markdown
    from harness import REPO_ROOT

    page = (REPO_ROOT / "docs" / "fix.md").read_text()
    assert page.strip() == markdown().strip(), "docs/fix.md is stale: run scripts/generate_fix_doc.py"


def corpus_files_with_fixable_findings():
    from migration_safety.validation import ValidationConfig, validate_paths
    from migration_safety.validation.fixes import FIXERS

    corpus = sorted((Path(__file__).parent / "validation" / "corpus").glob("*.py"))
    chosen = []
    for path in corpus:
        findings = validate_paths([path], ValidationConfig(postgres_major=16)).findings
        if any(f.rule in FIXERS and f.phase == "upgrade" and f.severity != "info" for f in findings):
            chosen.append(path)
    return chosen


def test_the_corpus_fixable_cases_validate_clean_after_fix(tmp_path):
    """Every corpus file with a fixable finding: after the fix no fixable finding remains where the
    fixer could read the call (op.* with literal names), and the result still parses."""
    import ast

    from migration_safety.validation import ValidationConfig, validate_paths
    from migration_safety.validation.fixes import FIXERS, fix_source

    files = corpus_files_with_fixable_findings()
    assert len(files) >= 5, files
    fixed_any = 0
    for path in files:
        findings = validate_paths([path], ValidationConfig(postgres_major=16)).findings
        result = fix_source(str(path), path.read_text(), findings)
        copy = tmp_path / path.name
        copy.write_text(result.fixed)
        ast.parse(result.fixed)
        after = validate_paths([copy], ValidationConfig(postgres_major=16)).findings
        left_rules = {f.rule for f in result.left}
        remaining = {f.rule for f in after if f.rule in FIXERS and f.phase == "upgrade" and f.severity != "info"}
        assert remaining <= left_rules, f"{path.name}: fixed but still reported: {remaining - left_rules}"
        fixed_any += bool(result.applied)
    assert fixed_any >= 5


def test_the_timeout_fix_in_each_place_and_spelling_is_idempotent(tmp_path):
    """One file with a timeout in each place a revision sets one: each rewritten into its scoped
    form with everything else kept; lock_timeout 0 and a suppressed line are left; a second run
    changes nothing."""
    from migration_safety.validation import ValidationConfig, validate_paths
    from migration_safety.validation.fixes import fix_source

    path = tmp_path / "c1.py"
    path.write_text(revision("c1", None, """
        op.execute("SET  SESSION /* for the backfill */ statement_timeout = '30min'")  # minutes of work
        op.get_bind().execute(sa.text("SELECT set_config('lock_timeout', '2s', FALSE)"))
        op.execute("UPDATE orders SET note = 'x' WHERE note IS NULL")
        op.execute("SET lock_timeout = 0")
        op.execute("SET idle_in_transaction_session_timeout = '1min'")  # migration-safety: ignore[timeout-override] the batch job's own
        with op.get_context().autocommit_block():
            op.execute(\"\"\"
                SET statement_timeout = '2h'
            \"\"\")
            for name in ("a", "b"):
                op.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_orders_{name} ON orders (note)")
    """))

    def fixed(text):
        path.write_text(text)
        return fix_source(str(path), text, validate_paths([path], ValidationConfig()).findings)

    first = fixed(path.read_text())
    assert first.fixed.splitlines()[10:23] == [
        "def upgrade():",
        "    op.execute(\"SET  LOCAL /* for the backfill */ statement_timeout = '30min'\")  # minutes of work",
        "    op.get_bind().execute(sa.text(\"SELECT set_config('lock_timeout', '2s', TRUE)\"))",
        "    op.execute(\"UPDATE orders SET note = 'x' WHERE note IS NULL\")",
        "    op.execute(\"SET lock_timeout = 0\")",
        "    op.execute(\"SET idle_in_transaction_session_timeout = '1min'\")  # migration-safety: "
        "ignore[timeout-override] the batch job's own",
        "    with op.get_context().autocommit_block():",
        "        op.execute(\"\"\"",
        "            SET statement_timeout = '2h'",
        "        \"\"\")",
        "        for name in (\"a\", \"b\"):",
        "            op.execute(f\"CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_orders_{name} ON orders (note)\")",
        "        op.execute(\"RESET statement_timeout\")",
    ], first.fixed
    assert [f.line for f in first.left if f.rule == "timeout-override"] == [15]     # lock_timeout 0
    second = fixed(first.fixed)
    assert second.fixed == first.fixed and not second.applied
