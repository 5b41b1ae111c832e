# expect: add-exclude-constraint@12 add-exclude-constraint@13
"""lock: an EXCLUDE constraint builds its index under ACCESS EXCLUSIVE, in SQL and through op"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "exclude_cons"
down_revision = None


def upgrade():
    op.execute("ALTER TABLE bookings ADD CONSTRAINT no_overlap EXCLUDE USING gist (room WITH =, during WITH &&)")
    op.create_exclude_constraint("no_double", "rooms", ("floor", "="), using="gist")


def downgrade():
    op.execute("SELECT 1")
