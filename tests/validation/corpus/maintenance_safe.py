# expect: none
# quiet-for: cluster-table vacuum-full lock-table truncate-table rename-table reindex-without-concurrently
"""near misses: statements that name the hazards without doing them, and new tables"""
from alembic import op
import sqlalchemy as sa

revision = "maint_safe"
down_revision = None


def upgrade():
    op.execute("ALTER TABLE farms CLUSTER ON ix_farms_region")
    op.execute("CREATE TABLE staging_farms (id bigint GENERATED ALWAYS AS IDENTITY, name text)")
    op.execute("LOCK TABLE staging_farms IN ACCESS EXCLUSIVE MODE")
    op.execute("TRUNCATE staging_farms")
    op.rename_table("staging_farms", "farm_imports")
    with op.get_context().autocommit_block():
        op.execute("VACUUM (ANALYZE) farms")
        op.execute("REINDEX INDEX CONCURRENTLY ix_farms_region")


def downgrade():
    op.execute("SELECT 1")
