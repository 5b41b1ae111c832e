# expect: drop-column@14 change-column-type@15 truncate-table@16
"""hazards behind quoted identifiers, comments and pg_catalog names, several per string"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "spelling_quo"
down_revision = None


def upgrade():
    op.execute("""
        -- the old region column goes
        ALTER TABLE "public"."Farms" /* legacy */ DROP COLUMN "Region";
        ALTER TABLE farms ALTER COLUMN size SET DATA TYPE pg_catalog.int8;
        TRUNCATE ONLY "Fields";
    """)


def downgrade():
    op.execute("SELECT 1")
