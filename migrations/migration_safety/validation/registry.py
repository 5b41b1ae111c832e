"""The rule registry: id -> Rule."""
from __future__ import annotations

from .model import ValidationInputError
from .rules import ALL

RULES = {rule.id: rule for rule in ALL}
OPERATION_RULES = [rule for rule in ALL if rule.check is not None]


def explain(rule_id: str) -> str:
    rule = RULES.get(rule_id)
    if rule is None:
        raise ValidationInputError(f"unknown rule {rule_id!r}")
    return (f"{rule.id} ({rule.severity})\n{rule.summary}\n\n"
            f"Why: {rule.why}\n\nDo instead: {rule.do_instead}\n\n"
            f"Silence one line: # migration-safety: ignore[{rule.id}] <reason>")


def rules_markdown() -> str:
    """docs/rules.md, generated from the registry so the two never disagree."""
    lines = ["# Validation rules", "",
             "Generated from `migrations/migration_safety/validation/rules/` "
             "(`python scripts/generate_rules_doc.py`). Silence one line with "
             "`# migration-safety: ignore[rule-id] reason`; turn rules off or change their severity in "
             "`[migration_safety.validate]` of alembic.ini.", ""]
    for rule in sorted(ALL, key=lambda r: r.id):
        lines += [f"## `{rule.id}` ({rule.severity})", "", rule.summary, "", f"**Why:** {rule.why}", "",
                  f"**Do instead:** {rule.do_instead}", ""]
    return "\n".join(lines)
