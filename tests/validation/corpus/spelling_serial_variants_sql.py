# expect: prefer-identity@14 prefer-bigint-primary-key@14 prefer-identity@15 prefer-identity@16 prefer-text-over-varchar@17 prefer-timestamptz@19
"""style, any spelling: serial4, "serial", SmallSerial, pg_catalog.varchar, quoted timestamp"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "spelling_ser"
down_revision = None


def upgrade():
    op.execute("""
        CREATE TABLE notes (
            id serial4 PRIMARY KEY,
            a "serial",
            b SmallSerial,
            c pg_catalog.varchar(20),
            d int4[],
            e "timestamp"
        )
    """)


def downgrade():
    op.execute("SELECT 1")
