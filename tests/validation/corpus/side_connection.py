# expect: side-connection-in-revision@12 side-connection-in-revision@15
"""a second connection opened from inside a revision"""
from alembic import op
import sqlalchemy as sa
import psycopg2

revision = "side_conn"
down_revision = None


def upgrade():
    engine = sa.create_engine("postgresql://localhost/farms")
    with engine.connect() as other:
        other.execute(sa.text("INSERT INTO audit (what) VALUES ('migrated')"))
    raw = psycopg2.connect(dbname="farms")
    raw.close()


def downgrade():
    op.execute("SELECT 1")
