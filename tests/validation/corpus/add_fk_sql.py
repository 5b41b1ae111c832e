# expect: add-foreign-key-without-not-valid@12
"""lock: FK in SQL"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "add_fk_sql"
down_revision = None


def upgrade():
    op.execute("ALTER TABLE farms ADD CONSTRAINT fk_owner FOREIGN KEY (owner_id) REFERENCES users (id)")


def downgrade():
    op.execute('SELECT 1')
