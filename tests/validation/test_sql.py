"""SQL read by PostgreSQL's parser (pglast): spelling does not matter, several statements and
comments keep their lines, placeholders and unparseable statements hide nothing else."""
from __future__ import annotations

import pytest

from migration_safety.validation import ValidationConfig, validate_paths
from migration_safety.validation.judge import LiveTable, judge
from migration_safety.validation.sql import default_is_volatile, needs_no_transaction, read_sql
from migration_safety.validation.sql_files import read_sql_file
from migration_safety.validation.types import compare_keys, sql_type_key


def _operations(sql: str, first_line: int = 1) -> list:
    return [(op.kind, op.table, op.line) for op in read_sql(sql, first_line)]


def _column(definition: str):
    [column] = [op for op in read_sql(f"CREATE TABLE t ({definition})", 1) if op.kind == "column"]
    return column


@pytest.mark.parametrize("written, serial", [
    ("serial4", "serial"), ('"serial"', "serial"), ("SmallSerial", "serial"), ("serial2", "serial"),
    ("serial8", "bigserial"), ("BIGSERIAL", "bigserial"), ("int4", None), ('"Serial"', None),
])
def test_serial_in_any_spelling(written, serial):
    assert _column(f"id {written}").get("serial") == serial


@pytest.mark.parametrize("written, key", [
    ("int4", ("int4",)), ("INTEGER", ("int4",)), ("pg_catalog.int4", ("int4",)), ("int", ("int4",)),
    ("pg_catalog.varchar(20)", ("varchar", 20)), ("character varying(20)", ("varchar", 20)),
    ("varchar", ("text",)), ('"varchar"', ("text",)), ("int4[]", ("array", ("int4",))),
    ("timestamp(3) without time zone", ("timestamp", 3)), ('"timestamp"', ("timestamp", 6)),
    ("timestamptz", ("timestamptz", 6)), ("numeric(10)", ("numeric", 10, 0)), ("decimal(12, 2)", ("numeric", 12, 2)),
    ("time", ("time", 6)), ("citext", ("citext",)),
])
def test_types_in_any_spelling_have_one_key(written, key):
    assert _column(f"c {written}").get("type_key") == key
    assert sql_type_key(written) == key


def test_several_statements_with_comments_keep_their_lines_and_columns_their_own():
    sql = ("\n-- a comment; with a semicolon\nUPDATE farms SET region = 'x;y' WHERE id = 1;\n"
           "/* block\n comment */ DROP TABLE \"Fields\", public.crops;\n"
           "CREATE TABLE notes (\n  id bigint,\n  body text\n)")
    assert _operations(sql, 10) == [("update", "farms", 12), ("drop_table", "fields", 14),
                                    ("drop_table", "crops", 14), ("create_table", "notes", 15),
                                    ("column", "notes", 16), ("column", "notes", 17)]


def test_placeholders_are_read_around():
    assert [(op.kind, op.get("where")) for op in read_sql("UPDATE farms SET region = :region", 1)] == [("update", False)]
    assert [(op.kind, op.get("where")) for op in read_sql("DELETE FROM farms WHERE id = %(id)s", 1)] == [("delete", True)]
    assert [op.kind for op in read_sql("SELECT a::text FROM farms", 1)] == ["sql"]


def test_a_statement_the_parser_refuses_hides_nothing_after_it():
    operations = list(read_sql("CREATE TABLE {name} (id int);\nDROP TABLE farms", 1))
    assert [(op.kind, op.get("parsed"), op.line) for op in operations] == [("sql", False, 1), ("drop_table", None, 2)]


@pytest.mark.parametrize("statement, full", [
    ("VACUUM FULL farms", True), ("VACUUM (FULL) farms", True), ("VACUUM (FULL TRUE, ANALYZE) farms", True),
    ("VACUUM (full 1) farms", True), ("VACUUM (FULL FALSE) farms", False), ("VACUUM (FULL off) farms", False),
    ("VACUUM (ANALYZE) farms", False),
])
def test_vacuum_full_only_when_it_is_on(statement, full):
    assert ("vacuum_full" in [op.kind for op in read_sql(statement, 1)]) is full


@pytest.mark.parametrize("statement, reindex", [
    ("REINDEX TABLE farms", (False,)), ("REINDEX TABLE CONCURRENTLY farms", (True,)),
    ("REINDEX (CONCURRENTLY) INDEX ix", (True,)), ("REINDEX SYSTEM farmdb", ()),
])
def test_reindex(statement, reindex):
    assert tuple(op.get("concurrently") for op in read_sql(statement, 1) if op.kind == "reindex") == reindex


@pytest.mark.parametrize("expression, volatile", [
    ("now()", False), ("pg_catalog.now()", False), ("CURRENT_TIMESTAMP", False), ("'{}'::jsonb", False),
    ("lower('A') || 'b'", False), ("42", False), ("random()", True), ("gen_random_uuid()", True),
    ("make_token()", True), ("billing.now()", True), ("nextval('s')", True),
])
def test_defaults_are_volatile_unless_known_otherwise(expression, volatile):
    assert default_is_volatile(expression) is volatile
    [added] = [op for op in read_sql(f"ALTER TABLE t ADD COLUMN c text DEFAULT {expression}", 1)
               if op.kind == "add_column"]
    assert added.get("default_volatile") is volatile


@pytest.mark.parametrize("old, new, verdict", [
    ("character varying(20)", "text", "coercible"), ("text", "citext", "coercible"), ("citext", "text", "coercible"),
    ("varchar(20)", "citext", "coercible"), ("cidr", "inet", "coercible"), ("inet", "cidr", "rewrite"),
    ("varchar(20)", "varchar(40)", "coercible"), ("varchar(40)", "varchar(20)", "narrowing"),
    ("numeric(10,2)", "numeric(12,2)", "coercible"), ("numeric(12,2)", "numeric(10,2)", "narrowing"),
    ("numeric(12,4)", "numeric(12,2)", "narrowing"), ("numeric(10,2)", "numeric(12,4)", "rewrite"),
    ("numeric", "numeric(12,2)", "narrowing"), ("time", "time(3)", "narrowing"), ("time(3)", "time", "coercible"),
    ("timestamp(3)", "timestamp(6)", "coercible"), ("integer", "bigint", "rewrite"), ("int4", "integer", "same"),
])
def test_type_changes_by_postgresql_rules(old, new, verdict):
    assert compare_keys(sql_type_key(old), sql_type_key(new)) == verdict


def test_the_live_type_decides_a_narrowing_the_file_could_not_see(tmp_path):
    path = tmp_path / "n1.py"
    path.write_text('revision = "n1"\ndown_revision = None\nfrom alembic import op\n\n\ndef upgrade():\n'
                    '    op.execute("ALTER TABLE events ALTER COLUMN at TYPE time(3)")\n'
                    '    op.execute("ALTER TABLE events ALTER COLUMN note TYPE text")\n\n\n'
                    'def downgrade():\n    op.execute("SELECT 1")\n')
    findings = validate_paths([path], ValidationConfig()).findings
    assert [(f.rule, f.line) for f in findings] == [("change-column-type-unverified", 7),
                                                     ("change-column-type-unverified", 8)]
    live = {"events": LiveTable(10_000, 50 * 1024 ** 2, {"at": "time without time zone", "note": "citext"})}
    narrowed, widened = judge(findings, live)
    assert (narrowed.rule, narrowed.severity) == ("narrow-column-type", "error")
    assert widened.severity == "info" and "catalog-only" in widened.message


def test_style_notes_are_info_on_a_new_table_and_warnings_on_an_existing_one(tmp_path):
    path = tmp_path / "s1.py"
    path.write_text('revision = "s1"\ndown_revision = None\nfrom alembic import op\n\n\ndef upgrade():\n'
                    '    op.execute("CREATE TABLE notes (id int4 PRIMARY KEY, meta json)")\n'
                    '    op.execute("ALTER TABLE farms ADD COLUMN meta json")\n\n\n'
                    'def downgrade():\n    op.execute("SELECT 1")\n')
    findings = validate_paths([path], ValidationConfig()).findings
    assert sorted((f.rule, f.line, f.severity) for f in findings) == [
        ("prefer-bigint-primary-key", 7, "info"), ("prefer-jsonb", 7, "info"), ("prefer-jsonb", 8, "warning")]
    [existing] = [f for f in findings if f.severity == "warning"]
    assert judge([existing], {}, created_by_plan={"farms"})[0].severity == "info"
    assert judge([existing], {"farms": LiveTable(5, 8192, {})})[0].severity == "warning"


def test_sql_file_findings_are_on_the_statement_line_after_leading_comments(tmp_path):
    path = tmp_path / "001_drop.sql"
    path.write_text("-- drop the old column\n\n/* reviewed\n by ops */\nALTER TABLE farms\n  DROP COLUMN region;\n"
                    "-- then\nVACUUM (FULL FALSE) farms;\n")
    operations = read_sql_file(path).operations["upgrade"]
    assert [(op.kind, op.line) for op in operations] == [("drop_column", 5), ("sql", 8)]


@pytest.mark.parametrize("statement, needs", [
    ("CREATE INDEX CONCURRENTLY ix ON farms (region)", True), ("CREATE INDEX ix ON farms (region)", False),
    ("DROP INDEX CONCURRENTLY ix", True), ("REINDEX (CONCURRENTLY) TABLE farms", True), ("REINDEX SCHEMA app", True),
    ("REINDEX TABLE farms", False), ("ALTER TYPE mood ADD VALUE 'calm'", True),
    ("ALTER TYPE mood RENAME VALUE 'a' TO 'b'", False), ("VACUUM farms", True), ("ANALYZE farms", False),
    ("CLUSTER", True), ("CLUSTER farms", False), ("CALL refresh()", True), ("ALTER SYSTEM SET work_mem = '8MB'", True),
    ("ALTER DATABASE app SET TABLESPACE fast", True), ("ALTER DATABASE app SET work_mem = '8MB'", False),
    ("ALTER TABLE m DETACH PARTITION m_2020 CONCURRENTLY", True), ("ALTER TABLE m DETACH PARTITION m_2020", False),
    ("DO $$ BEGIN PERFORM 1; COMMIT; END $$", True), ("DO $$ BEGIN PERFORM 1; -- no commit\nEND $$", False),
    ("CREATE DATABASE other", True), ("{template} statement", True), ("UPDATE farms SET a = 1 WHERE id = 2", False),
])
def test_statements_that_need_to_run_outside_a_transaction(statement, needs):
    assert needs_no_transaction(statement) is needs


@pytest.mark.parametrize("existing, new, verdict", [
    ("sa.Interval()", "postgresql.INTERVAL(precision=3)", "narrowing"),
    ("postgresql.INTERVAL(precision=3)", "sa.Interval()", "coercible"),
    ("sa.DateTime()", "postgresql.TIMESTAMP(precision=0)", "narrowing"),
    ("sa.DateTime(timezone=True)", "postgresql.TIMESTAMP(timezone=True, precision=6)", "same"),
    ("sa.String(20)", "postgresql.CITEXT()", "coercible"),
])
def test_sqlalchemy_types_get_the_keys_of_their_sql(existing, new, verdict):
    import ast

    from migration_safety.validation.types import compare_types

    assert compare_types(ast.parse(existing).body[0].value, ast.parse(new).body[0].value, ast.literal_eval)[0] == verdict
