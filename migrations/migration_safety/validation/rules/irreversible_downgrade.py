"""Rule irreversible-downgrade."""
import ast

from ..model import Rule

# what needs no undo: validating a constraint, adding an enum value (PostgreSQL cannot remove one),
# comments, reads and settings
_NO_UNDO_KINDS = ("validate_constraint", "enum_add_value", "timeout_override", "transaction_control")
_NO_UNDO_SQL = ("COMMENT", "SELECT", "ANALYZE", "SET", "RESET", "NOTIFY")


def _needs_undo(operation) -> bool:
    if operation.kind in _NO_UNDO_KINDS:
        return False
    if operation.kind == "sql":
        return not operation.get("command", "").startswith(_NO_UNDO_SQL)
    if operation.kind == "op_other":
        return operation.get("name") not in ("comment", "create_table_comment", "create_column_comment")
    return True


def _body(function):
    """The statements of a function, without its docstring and ``pass``/``...``."""
    return [s for s in function.body if not isinstance(s, ast.Pass) and not (
        isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]


def check_file(revision_file, context):
    source = revision_file.source
    if source is None or "downgrade" not in source.functions:
        return
    downgrade = source.functions["downgrade"]
    body = _body(downgrade)
    if len(body) == 1 and isinstance(body[0], ast.Raise):
        yield body[0].lineno, "downgrade() raises: this revision cannot be undone"
        return
    if body:
        return
    upgrade = source.functions.get("upgrade")
    operations = revision_file.operations.get("upgrade", [])
    unread = upgrade is not None and _body(upgrade) and not operations
    if unread or any(_needs_undo(operation) for operation in operations):
        yield downgrade.lineno, "downgrade() does nothing: this revision cannot be undone"


RULE = Rule(
    id='irreversible-downgrade',
    severity='warning',
    summary='downgrade() does nothing or raises: the revision cannot be undone.',
    why='An empty or pass-only downgrade() silently leaves the schema changed while Alembic records the revision as reverted; one that raises stops every downgrade across it.',
    do_instead='Write the reverse operations; if the change truly cannot be reversed, keep the raise and accept the finding with its reason (a suppression comment or `[migration_safety.accept]`).',
    check_file=check_file,
)
