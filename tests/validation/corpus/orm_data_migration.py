# expect: orm-data-migration@19 update-without-where@20 orm-data-migration@21 delete-without-where@22
"""ORM deletes and bulk updates rewrite rows (shape of real chains)"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy import orm
from sqlalchemy.orm import declarative_base

revision = "orm_rows"
down_revision = None
Base = declarative_base()


class Reading(Base):
    __tablename__ = "readings"


def upgrade():
    session = orm.Session(bind=op.get_bind())
    session.query(Reading).filter(Reading.value.is_(None)).delete()
    session.query(Reading).update({"unit": "kg"})
    session.bulk_update_mappings(Reading, [{"id": 1, "unit": "g"}])
    session.query(Reading).delete()
    op.add_column("readings", sa.Column("source", sa.Text(), nullable=False))


def downgrade():
    op.execute("SELECT 1")
