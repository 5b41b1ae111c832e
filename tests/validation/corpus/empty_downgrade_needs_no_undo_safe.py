# expect: none
# quiet-for: irreversible-downgrade enum-add-value-in-transaction
"""validating a constraint and adding an enum value need no undo"""
from alembic import op
import sqlalchemy as sa

revision = "no_undo"
down_revision = None


def upgrade():
    op.execute("ALTER TABLE plots VALIDATE CONSTRAINT plots_area_positive")
    with op.get_context().autocommit_block():
        op.execute("ALTER TYPE crop_kind ADD VALUE IF NOT EXISTS 'oats'")
    op.execute("COMMENT ON TABLE plots IS 'fields of a farm'")


def downgrade():
    """Nothing to undo: a validated constraint stays valid; enum values cannot be removed."""
