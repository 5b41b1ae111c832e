# expect: none
# quiet-for: prefer-bigint-primary-key prefer-identity prefer-text-over-varchar create-index-without-concurrently add-foreign-key-without-not-valid set-not-null
"""safe: index, constraint and NOT NULL on a table created in the same migration"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "new_table_is"
down_revision = None


def upgrade():
    op.create_table("notes", sa.Column("id", sa.BigInteger(), sa.Identity(always=True), primary_key=True),
                    sa.Column("farm_id", sa.BigInteger()), sa.Column("body", sa.Text()))
    op.create_index("ix_notes_farm_id", "notes", ["farm_id"])
    op.create_foreign_key("fk_notes_farm", "notes", "farms", ["farm_id"], ["id"])
    op.alter_column("notes", "body", nullable=False)
    op.execute("CREATE INDEX ix_notes_body ON notes (body)")


def downgrade():
    op.execute('SELECT 1')
