# expect: create-index-without-concurrently@17 add-foreign-key-without-not-valid@18
"""batch_op.create_index(name, columns): the table is the batch's, not the index name (shape of real chains)"""
from alembic import op
import sqlalchemy as sa

revision = "batch_table"
down_revision = None


def upgrade():
    op.create_table("notes", sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
                    sa.Column("body", sa.Text()))
    with op.batch_alter_table("notes") as batch_op:
        batch_op.create_index("ix_notes_body", ["body"])
        batch_op.create_unique_constraint("uq_notes_body", ["body"])
    with op.batch_alter_table("farms", schema=None) as batch_op:
        batch_op.create_index("ix_farms_name", ["name"], unique=False)
        batch_op.create_foreign_key("fk_farms_owner", "owners", ["owner_id"], ["id"])


def downgrade():
    op.execute("SELECT 1")
