"""The rule registry: id -> Rule, every module of rules/ (one rule each, named after its id)."""
from __future__ import annotations

import importlib
import pkgutil

from . import rules as _rules_package
from .model import ValidationInputError

ALL = [importlib.import_module(f"{_rules_package.__name__}.{module.name}").RULE
       for module in sorted(pkgutil.iter_modules(_rules_package.__path__), key=lambda m: m.name)
       if not module.name.startswith("_")]
RULES = {rule.id: rule for rule in ALL}
OPERATION_RULES = [rule for rule in ALL if rule.check is not None]
SEQUENCE_RULES = [rule for rule in ALL if rule.check_sequence is not None]
FILE_RULES = [rule for rule in ALL if rule.check_file is not None]
GRAPH_RULES = [rule for rule in ALL if rule.check_graph is not None]
SQL_FILE_RULES = [rule for rule in ALL if rule.check_sql_file is not None]


def explain(rule_id: str) -> str:
    rule = RULES.get(rule_id)
    if rule is None:
        raise ValidationInputError(f"unknown rule {rule_id!r}")
    return (f"{rule.id} ({rule.severity})\n{rule.summary}\n\n"
            f"Why: {rule.why}\n\nDo instead: {rule.do_instead}\n\n"
            + (f"In a plain-SQL migration file (--sql-dir): {rule.do_instead_sql}\n\n" if rule.do_instead_sql else "")
            + f"Silence one line: # migration-safety: ignore[{rule.id}] <reason> (-- instead of # in a SQL file)\n"
            f"Accept it for one revision in config: [migration_safety.accept] <revision> {rule.id} = <reason>")


def rules_markdown() -> str:
    """docs/rules.md, generated from the registry so the two never disagree."""
    lines = ["# Validation rules", "",
             "Generated from `migrations/migration_safety/validation/rules/` "
             "(`python scripts/generate_rules_doc.py`). Silence one line with "
             "`# migration-safety: ignore[rule-id] reason`; turn rules off or change their severity in "
             "`[migration_safety.validate]` of alembic.ini; accept one revision's finding with "
             "`<revision> <rule-id> = reason` in `[migration_safety.accept]`.", ""]
    for rule in sorted(ALL, key=lambda r: r.id):
        lines += [f"## `{rule.id}` ({rule.severity})", "", rule.summary, "", f"**Why:** {rule.why}", "",
                  f"**Do instead:** {rule.do_instead}", ""]
        if rule.do_instead_sql:
            lines += [f"**In a plain-SQL migration file** (`--sql-dir`): {rule.do_instead_sql}", ""]
    return "\n".join(lines)
