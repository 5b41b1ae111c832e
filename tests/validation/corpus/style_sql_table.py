# expect: prefer-bigint-primary-key@14 prefer-identity@14 prefer-jsonb@15 prefer-timestamptz@16 prefer-text-over-varchar@17
"""style: SQL table with serial, json, timestamp, varchar"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "style_sql_ta"
down_revision = None


def upgrade():
    op.execute("""
        CREATE TABLE notes (
            id serial PRIMARY KEY,
            meta json,
            created timestamp,
            code varchar(20)
        )
    """)


def downgrade():
    op.execute('SELECT 1')
