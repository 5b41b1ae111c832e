"""Stand-in for the parts of SQLModel that Langflow's env.py and revisions use: SQLModel.metadata
and the AutoString column type (a String on PostgreSQL, as SQLModel's own)."""
import sqlalchemy as sa

from .sql.sqltypes import AutoString  # noqa: F401


class SQLModel:
    metadata = sa.MetaData()
