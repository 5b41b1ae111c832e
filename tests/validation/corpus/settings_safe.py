# expect: none
# quiet-for: timeout-override side-connection-in-revision
"""other settings, and the migration's own connection, are fine"""
from alembic import op
import sqlalchemy as sa

revision = "settings_ok"
down_revision = None


def upgrade():
    op.execute("SET LOCAL search_path TO farming, public")
    op.execute("SHOW lock_timeout")
    bind = op.get_bind()
    with bind.begin_nested():
        bind.execute(sa.text("INSERT INTO crops (name) VALUES ('rye')"))


def downgrade():
    op.execute("DELETE FROM crops WHERE name = 'rye'")
