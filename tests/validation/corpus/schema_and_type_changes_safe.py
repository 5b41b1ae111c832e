# expect: none
# quiet-for: rename-schema rename-enum-value set-tablespace
"""safe: schema and enum changes that rename nothing, tablespace of a new table"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "schema_and_t"
down_revision = None


def upgrade():
    op.execute("ALTER SCHEMA billing OWNER TO app")
    op.execute("CREATE SCHEMA IF NOT EXISTS reporting")
    op.execute("ALTER TYPE mood OWNER TO app")
    op.execute("CREATE TYPE shade AS ENUM ('light', 'dark')")
    op.execute("ALTER TYPE shade RENAME VALUE 'light' TO 'pale'")
    op.execute("CREATE TABLE archive (id int8 GENERATED ALWAYS AS IDENTITY, body text)")
    op.execute("ALTER TABLE archive SET TABLESPACE cold")


def downgrade():
    op.execute("SELECT 1")
