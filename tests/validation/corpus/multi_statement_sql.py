# expect: drop-table@14
"""two statements in one string, second on line +2"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "multi_statem"
down_revision = None


def upgrade():
    op.execute("""
        UPDATE farms SET region = 'x' WHERE id = 1;
        DROP TABLE fields;
    """)


def downgrade():
    op.execute('SELECT 1')
