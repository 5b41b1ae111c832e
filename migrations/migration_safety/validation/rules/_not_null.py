"""What the operations of one function prove about NOT NULL, in order: PostgreSQL 12+ skips the
scan of SET NOT NULL (also the one ADD PRIMARY KEY does) when a validated
``CHECK (col IS NOT NULL)`` already proves it."""
from __future__ import annotations


class NotNullFacts:
    def __init__(self, postgres_major: int) -> None:
        self.check_skips_scan = postgres_major >= 12
        self._known: set = set()          # (table, column) known NOT NULL
        self._not_valid: dict = {}        # constraint name -> (table, column), added NOT VALID

    def observe(self, op) -> None:
        if op.kind == "add_constraint" and op.get("not_null_column") and self.check_skips_scan:
            key = (op.table, op.get("not_null_column"))
            if op.get("not_valid"):
                self._not_valid[op.get("name")] = key
            else:
                self._known.add(key)
        elif op.kind == "validate_constraint" and op.get("name") in self._not_valid:
            self._known.add(self._not_valid.pop(op.get("name")))
        elif op.kind == "add_column" and not op.get("nullable"):
            self._known.add((op.table, op.get("column")))

    def proven(self, table, column) -> bool:
        return (table, column) in self._known

    def set(self, table, column) -> None:
        self._known.add((table, column))
