# expect: none
# quiet-for: set-not-null primary-key-using-index-nullable validate-in-same-transaction
"""safe on PostgreSQL 12+: SET NOT NULL and PRIMARY KEY USING INDEX after a validated CHECK (col IS NOT NULL)"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "not_null_aft"
down_revision = None


def upgrade():
    op.execute("ALTER TABLE farms ADD CONSTRAINT farms_code_nn CHECK (code IS NOT NULL) NOT VALID")
    with op.get_context().autocommit_block():
        op.execute("ALTER TABLE farms VALIDATE CONSTRAINT farms_code_nn")
        op.execute("CREATE UNIQUE INDEX CONCURRENTLY farms_code_idx ON farms (code)")
    op.execute("ALTER TABLE farms ALTER COLUMN code SET NOT NULL")
    op.execute("ALTER TABLE farms ADD CONSTRAINT farms_pk PRIMARY KEY USING INDEX farms_code_idx")
    op.create_check_constraint("fields_name_nn", "fields", "name IS NOT NULL", postgresql_not_valid=True)
    with op.get_context().autocommit_block():
        op.execute("ALTER TABLE fields VALIDATE CONSTRAINT fields_name_nn")
    op.alter_column("fields", "name", nullable=False)


def downgrade():
    op.execute("SELECT 1")
