# expect: validate-in-same-transaction@12
"""NOT VALID then VALIDATE in one transaction"""
from alembic import op
import sqlalchemy as sa

revision = "validate_same"
down_revision = None


def upgrade():
    op.execute("ALTER TABLE plots ADD CONSTRAINT plots_area_positive CHECK (area > 0) NOT VALID")
    op.execute("ALTER TABLE plots VALIDATE CONSTRAINT plots_area_positive")


def downgrade():
    op.execute("ALTER TABLE plots DROP CONSTRAINT plots_area_positive")
