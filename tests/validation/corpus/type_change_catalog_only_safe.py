# expect: none
# quiet-for: change-column-type change-column-type-unverified narrow-column-type
"""safe: binary-coercible type changes PostgreSQL makes in the catalog only"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "type_change_"
down_revision = None


def upgrade():
    op.alter_column("users", "email", existing_type=postgresql.CITEXT(), type_=sa.Text())
    op.alter_column("users", "name", existing_type=sa.Text(), type_=postgresql.CITEXT())
    op.alter_column("users", "login", existing_type=sa.String(50), type_=postgresql.CITEXT())
    op.alter_column("hosts", "net", existing_type=postgresql.CIDR(), type_=postgresql.INET())
    op.alter_column("events", "at", existing_type=postgresql.TIME(precision=3), type_=postgresql.TIME())
    op.alter_column("events", "seen", existing_type=postgresql.TIMESTAMP(precision=3), type_=postgresql.TIMESTAMP(precision=6))
    op.alter_column("prices", "amount", existing_type=sa.Numeric(10, 2), type_=sa.Numeric(12, 2))


def downgrade():
    op.execute("SELECT 1")
