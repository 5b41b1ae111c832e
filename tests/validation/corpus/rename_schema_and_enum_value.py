# expect: rename-schema@12 rename-enum-value@13
"""breaks running code: a schema renamed, an enum value renamed"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "rename_schem"
down_revision = None


def upgrade():
    op.execute("ALTER SCHEMA billing RENAME TO invoicing")
    op.execute("ALTER TYPE mood RENAME VALUE 'sad' TO 'unhappy'")


def downgrade():
    op.execute("SELECT 1")
