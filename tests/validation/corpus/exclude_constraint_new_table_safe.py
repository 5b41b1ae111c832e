# expect: none
# quiet-for: add-exclude-constraint
"""safe: EXCLUDE on a table created in the same migration"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "exclude_cons"
down_revision = None


def upgrade():
    op.execute("CREATE TABLE slots (room int8, during tstzrange, EXCLUDE USING gist (room WITH =, during WITH &&))")
    op.execute("ALTER TABLE slots ADD CONSTRAINT slots_no_overlap EXCLUDE USING gist (during WITH &&)")


def downgrade():
    op.execute("SELECT 1")
