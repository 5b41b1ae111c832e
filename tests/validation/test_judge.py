"""Findings judged against made-up live tables (validation.judge is pure; the pipeline reads the
catalog and is not wired yet)."""
from __future__ import annotations

from migration_safety.validation import ValidationConfig, validate_paths
from migration_safety.validation.judge import LiveTable, judge

REVISION = '''revision = "j1"
down_revision = None
from alembic import op
import sqlalchemy as sa


def upgrade():
    op.add_column("drafts", sa.Column("owner", sa.Text(), nullable=False))
    op.alter_column("drafts", "title", type_=sa.Text())
    op.alter_column("drafts", "score", type_=sa.BigInteger())
    op.execute("ALTER TABLE notes ALTER COLUMN body TYPE varchar(500)")
    op.rename_table("drafts", "sketches")


def downgrade():
    op.execute("SELECT 1")
'''


def _findings(tmp_path):
    path = tmp_path / "j1.py"
    path.write_text(REVISION)
    return validate_paths([path], ValidationConfig()).findings


def _by_line(findings):
    return {f.line: f for f in findings}


def test_row_dependent_hazards_do_not_block_on_an_empty_table(tmp_path):
    findings = _findings(tmp_path)
    assert {f.severity for f in findings if f.line == 8} == {"error"}
    judged = _by_line(judge(findings, {"drafts": LiveTable(0, 8192, {}), "notes": LiveTable(0, 8192, {})}))
    assert judged[8].severity == "info" and "drafts is empty" in judged[8].message
    assert judged[12].rule == "rename-table" and judged[12].severity == "error"      # running code: kept
    assert findings[0].severity != "info" or findings[0].line != 8                   # the input is unchanged


def test_a_table_the_plan_creates_or_that_does_not_exist_yet_is_harmless(tmp_path):
    judged = _by_line(judge(_findings(tmp_path), {}, created_by_plan={"drafts"}))
    assert judged[8].severity == "info" and "created by this plan" in judged[8].message
    assert judged[11].severity == "info" and "notes does not exist yet" in judged[11].message


def test_a_populated_table_blocks_with_its_size_and_a_lock_estimate(tmp_path):
    live = {"drafts": LiveTable(2_000_000, 3 * 1024 ** 3, {"title": "character varying(200)", "score": "integer"}),
            "notes": LiveTable(5_000, 40 * 1024 ** 2, {"body": "character varying(100)"})}
    judged = _by_line(judge(_findings(tmp_path), live, bytes_per_second=100 * 1024 ** 2))
    assert judged[8].severity == "error"
    assert "~2,000,000 rows, 3 GB" in judged[8].message and "roughly 31 s, an estimate" in judged[8].message
    # the live column decides what the file could not: varchar(200) -> text is catalog-only ...
    assert judged[9].severity == "info" and "catalog-only" in judged[9].message
    # ... integer -> bigint rewrites the table
    assert judged[10].rule == "change-column-type" and judged[10].severity == "error"
    assert "it is integer now" in judged[10].message and "3 GB" in judged[10].message
    assert judged[11].severity == "info" and "catalog-only" in judged[11].message     # varchar(100) -> (500)


def test_the_threshold_counts_small_tables_as_empty(tmp_path):
    live = {"drafts": LiveTable(40, 16384, {}), "notes": LiveTable(-1, 10 ** 9, {})}
    judged = _by_line(judge(_findings(tmp_path), live, max_harmless_rows=100))
    assert judged[8].severity == "info" and "drafts has 40 rows" in judged[8].message
    assert judged[11].severity == "warning" and "never analyzed" in judged[11].message


PLAN_REVISION = '''revision = "k2"
down_revision = "k1"
from alembic import op
import sqlalchemy as sa


def upgrade():
    op.rename_table("plants", "crops")
    op.drop_column("farms", "nickname")
    op.drop_column("farms", "region")
    op.drop_index("ix_farms_nickname", table_name="farms")
    op.execute("DROP INDEX ix_farms_region")
    op.execute("ALTER TABLE farms RENAME COLUMN nickname TO alias")


def downgrade():
    op.execute("SELECT 1")
'''


def test_renames_and_drops_of_what_earlier_revisions_of_the_plan_create_are_harmless(tmp_path):
    from migration_safety.validation.judge import PlanCreated
    from migration_safety.validation.sql import read_sql as classify

    path = tmp_path / "k2.py"
    path.write_text(PLAN_REVISION)
    findings = validate_paths([path], ValidationConfig()).findings
    earlier = [op for statement in ("CREATE TABLE plants (id int)", "ALTER TABLE farms ADD COLUMN nickname text",
                                    "CREATE INDEX ix_farms_nickname ON farms (nickname)")
               for op in classify(statement, 1)]
    created = PlanCreated().after(earlier)
    assert created.tables == {"plants"} and created.columns == {("farms", "nickname")}
    assert created.indexes == {"ix_farms_nickname"}
    live = {"farms": LiveTable(10_000, 8 * 1024 ** 2, {}), "plants": LiveTable(10_000, 8 * 1024 ** 2, {})}
    judged = _by_line(judge(findings, live, created_by_plan=created))
    assert judged[8].rule == "rename-table" and judged[8].severity == "info"
    assert "plants created by this plan" in judged[8].message
    assert judged[9].severity == "info" and "farms.nickname created by this plan" in judged[9].message
    assert judged[10].rule == "drop-column" and judged[10].severity == "error"           # region: the table's own
    assert judged[11].severity == "info" and "index ix_farms_nickname" in judged[11].message
    assert judged[12].severity != "info"                                                  # ix_farms_region: not the plan's
    assert judged[13].rule == "rename-column" and judged[13].severity == "info"      # in SQL too
    # a table the plan renamed keeps counting as the plan's own under its new name
    renamed = created.after([op for op in classify("ALTER TABLE plants RENAME TO crops", 1)])
    assert "crops" in renamed.tables


RENAME_REVISION = '''revision = "m2"
down_revision = "m1"
from alembic import op
import sqlalchemy as sa


def upgrade():
    op.add_column("plants", sa.Column("kind", sa.Text(), nullable=False))
    op.drop_table("flowstyle")
    op.drop_column("plants", "name")
    op.drop_table("gone")


def downgrade():
    op.execute("SELECT 1")
'''


def test_a_table_an_earlier_revision_renamed_is_judged_as_the_live_table_and_an_absent_one_is_harmless(tmp_path):
    from migration_safety.validation.judge import PlanCreated
    from migration_safety.validation.sql import read_sql as classify

    path = tmp_path / "m2.py"
    path.write_text(RENAME_REVISION)
    findings = validate_paths([path], ValidationConfig()).findings
    # m1 renamed crops (in the database, with rows) to plants, and gone to other
    created = PlanCreated().after([op for statement in ("ALTER TABLE crops RENAME TO plants",
                                                        "ALTER TABLE gone RENAME TO other")
                                   for op in classify(statement, 1)])
    assert created.live_name("plants") == "crops" and created.live_name("flowstyle") == "flowstyle"
    live = {"crops": LiveTable(5_000, 40 * 1024 ** 2, {"name": "text"}), "gone": LiveTable(10, 8192, {})}
    judged = _by_line(judge(findings, live, created_by_plan=created))
    # plants is crops: a NOT NULL column without default fails on its rows, not "does not exist yet"
    assert judged[8].rule == "add-not-null-column-without-default" and judged[8].severity == "error"
    assert "~5,000 rows" in judged[8].message
    assert judged[9].severity == "info" and "flowstyle does not exist in the database" in judged[9].message
    assert judged[10].rule == "drop-column" and judged[10].severity == "error"          # crops.name: the live one
    # gone is in the database when the plan starts: a drop under that name keeps its severity
    assert judged[11].rule == "drop-table" and judged[11].severity == "error"
