"""The operations a revision's ``upgrade()`` performs, recognised statically from ``op.*`` calls
(with ``ast``) and from SQL in ``op.execute(...)`` (see sql.py). Rules look only at these."""
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
    via: str = "op"                 # "op" (an op.* call) or "sql" (inside op.execute)
    details: dict = field(default_factory=dict)

    def get(self, key, default=None):
        return self.details.get(key, default)


def normalize_table(name: Optional[str]) -> Optional[str]:
    if not name:
        return None
    return name.strip().strip('"').split(".")[-1].strip('"').lower()


VOLATILE_FUNCTIONS = ("random(", "gen_random_uuid(", "uuid_generate_v1(", "uuid_generate_v4(", "clock_timestamp(",
                      "timeofday(", "nextval(", "txid_current(", "gen_random_bytes(")


def is_volatile_default(text: Optional[str]) -> bool:
    if not text:
        return False
    lowered = text.lower().replace(" ", "")
    return any(function in lowered for function in VOLATILE_FUNCTIONS)
