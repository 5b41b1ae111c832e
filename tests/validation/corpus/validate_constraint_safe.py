# expect: none
# quiet-for: validate-in-same-transaction add-check-without-not-valid
"""safe: VALIDATE CONSTRAINT in a later revision"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "validate_con"
down_revision = None


def upgrade():
    op.execute("ALTER TABLE farms VALIDATE CONSTRAINT fk_owner")


def downgrade():
    op.execute('SELECT 1')
