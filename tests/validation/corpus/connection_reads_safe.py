# expect: none
# quiet-for: delete-without-where update-without-where sql-built-at-runtime orm-data-migration transaction-control-in-revision
"""reads, filtered writes and savepoints through the connection are quiet"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy import orm

revision = "conn_safe"
down_revision = None


def upgrade():
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id FROM farms WHERE region IS NULL")).fetchall()
    conn.execute(sa.text("UPDATE farms SET region = 'north' WHERE id = :id"), [{"id": r.id} for r in rows])
    conn.execute(sa.select(sa.table("farms", sa.column("id"))))
    session = orm.Session(bind=conn)
    session.query(sa.table("farms")).all()
    op.execute("SAVEPOINT before_backfill")
    op.execute("RELEASE SAVEPOINT before_backfill")


def downgrade():
    op.execute("SELECT 1")
