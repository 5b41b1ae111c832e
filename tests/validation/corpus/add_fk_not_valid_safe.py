# expect: none
# quiet-for: add-foreign-key-without-not-valid
"""safe: FK NOT VALID"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "add_fk_not_v"
down_revision = None


def upgrade():
    op.execute("ALTER TABLE farms ADD CONSTRAINT fk_owner FOREIGN KEY (owner_id) REFERENCES users (id) NOT VALID")


def downgrade():
    op.execute('SELECT 1')
