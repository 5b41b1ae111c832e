"""The operations a revision's ``upgrade()`` performs, recognised statically from ``op.*`` calls
(with ``ast``) and from SQL in ``op.execute(...)`` (read by PostgreSQL's parser, see sql.py). Rules look
only at these."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional


@dataclass
class Operation:
    kind: str                       # drop_table, drop_column, add_column, create_index, column, ...
    table: Optional[str]
    line: int
    end_line: int
    in_autocommit: bool = False
    table_created_here: bool = False
    table_emptied_here: bool = False    # a DELETE without WHERE or TRUNCATE ran on it earlier
    via: str = "op"                 # op (an op.* call), sql (SQL text), expression (a SQLAlchemy statement), orm
    details: dict = field(default_factory=dict)

    def get(self, key, default=None):
        return self.details.get(key, default)

    @property
    def rows_known_absent(self) -> bool:
        """The table has no rows at this point: created or emptied earlier in the same function.
        Hazards that depend on rows (rewrites, scans, a NOT NULL column) are harmless then."""
        return self.table_created_here or self.table_emptied_here

    @property
    def label(self) -> str:
        """The table for a message: its name, the ORM model, or "a table" (never "None")."""
        return self.table or self.get("model") or "a table"


def normalize_table(name: Optional[str]) -> Optional[str]:
    if not name:
        return None
    return name.strip().strip('"').split(".")[-1].strip('"').lower()

