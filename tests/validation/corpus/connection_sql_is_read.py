# expect: delete-without-where@12 update-without-where@14 drop-column@15 truncate-table@17 sql-built-at-runtime@18 update-without-where@20
"""SQL run through the connection is read like op.execute (shape of real chains)"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy import orm

revision = "conn_sql"
down_revision = None


def upgrade():
    op.get_bind().execute(sa.text("DELETE FROM sessions"))
    conn = op.get_bind()
    conn.execute(sa.text("UPDATE farms SET active = true"))
    conn.exec_driver_sql("ALTER TABLE farms DROP COLUMN region")
    session = orm.Session(bind=conn)
    session.execute(sa.text("TRUNCATE audit_log"))
    conn.execute(sa.text(f"DELETE FROM {conn.dialect.name}_cache"))
    plots = sa.table("plots", sa.column("area"))
    conn.execute(plots.update().values(area=0))
    conn.execute(sa.delete(plots).where(plots.c.area < 0))


def downgrade():
    op.execute("SELECT 1")
