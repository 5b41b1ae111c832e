"""Fix for timeout-override: a statement_timeout or lock_timeout the revision needs is scoped to
the statements that need it, so it no longer leaks into the revisions after it. In a transaction,
``SET`` becomes ``SET LOCAL`` (``set_config(..., false)`` becomes ``true``), which ends at the
COMMIT of the revision's transaction; when that transaction is the whole run's (Alembic's default,
without ``transaction_per_migration``) and no autocommit block follows to commit it, a ``RESET``
at the end of ``upgrade()`` ends it too. Inside ``op.get_context().autocommit_block()``, where
SET LOCAL does nothing, ``RESET <setting>`` becomes the block's last statement. RESET returns to
the wrapper's value. A ``lock_timeout`` of 0 is listed, not fixed: no scope makes an unbounded
lock wait safe; a lock_timeout raised above the wrapper's is scoped and still reported.

The SQL is edited token by token (PostgreSQL's own scanner, through pglast): comments and spacing
inside the string stay as written. Only a plain string literal is edited, never one with escapes
or built at run time."""
from __future__ import annotations

from typing import Optional

import libcst as cst
import pglast

from ._rewrite import Rewrite, literal_value

RULE_ID = "timeout-override"
ANY_CONNECTION = True       # conn.execute(...) and op.get_bind().execute(...) run on the migration's connection too
_FALSE_WORDS = ("'f'", "'false'", "'off'", "'no'", "'0'")


def fix(call, finding):
    return fix_line(call, [finding])


def fix_line(call, findings) -> Optional[Rewrite]:
    """The rewrite of one ``op.execute(...)`` statement for its timeout findings (one per setting
    it sets), or None when one of them has no mechanical fix here."""
    kinds = {finding.details.get("scope_fix") for finding in findings}
    if None in kinds or len(kinds) != 1 or call.name not in ("execute", "exec_driver_sql") \
            or call.has_star_arguments():
        return None
    [kind] = kinds
    settings = sorted({finding.details.get("setting") for finding in findings})
    if None in settings:
        return None
    code = call.code()
    if "local" in kind:
        literal = _sql_literal(call)
        if literal is None:
            return None
        sql = literal.evaluated_value
        scoped = scoped_sql(sql, settings)
        if scoped is None or (kind == "local" and scoped == sql):
            return None
        new_literal = literal.with_changes(value=literal.prefix + literal.quote + scoped + literal.quote)
        code = call.code(call.node.deep_replace(literal, new_literal))
    resets = settings if "reset" in kind else []
    return Rewrite([code + "\n"], resets=resets, in_transaction=kind != "reset")


def _sql_literal(call) -> Optional[cst.SimpleString]:
    """The SQL string of ``op.execute("...")`` / ``op.execute(sa.text("..."))``, when its text in
    the file is exactly the SQL (no escape sequences to keep in step with)."""
    argument = call.argument(0, "sqltext") or call.argument(None, "statement")
    if argument is None:
        return None
    value = argument.value
    if isinstance(value, cst.Call) and value.args and (
            (isinstance(value.func, cst.Attribute) and value.func.attr.value == "text")
            or (isinstance(value.func, cst.Name) and value.func.value == "text")):
        value = value.args[0].value
    if not isinstance(value, cst.SimpleString) or "\\" in value.value or not isinstance(literal_value(value), str):
        return None
    return value


def scoped_sql(sql: str, settings) -> Optional[str]:
    """``sql`` with each session-level SET of these settings made transaction-local: ``SET`` and
    ``SET SESSION`` become ``SET LOCAL``, ``set_config(name, value, false)`` gets ``true`` (the
    same text when there is none). None when one cannot be rewritten with certainty."""
    from ..sql import _without_parameters

    for text in (sql, _without_parameters(sql)):
        try:
            statements = pglast.parse_sql(text)
            tokens = pglast.parser.scan(text)
            break
        except pglast.parser.ParseError:
            continue
    else:
        return None
    edits = []      # (start, end (exclusive), replacement)
    for raw in statements:
        end = raw.stmt_location + raw.stmt_len if raw.stmt_len else len(sql)
        own = [t for t in tokens if raw.stmt_location <= t.start < end and t.name not in ("C_COMMENT", "SQL_COMMENT")]
        node = raw.stmt
        if isinstance(node, pglast.ast.VariableSetStmt):
            if node.name not in settings or node.is_local or not own or own[0].name != "SET" or len(own) < 2:
                continue
            word = own[1]
            if word.name == "SESSION":
                edits.append((word.start, word.end + 1, "LOCAL"))
            else:
                edits.append((word.start, word.start, "LOCAL "))
        elif isinstance(node, pglast.ast.SelectStmt):
            for position, token in enumerate(own):
                if token.name == "IDENT" and sql[token.start:token.end + 1].lower() == "set_config":
                    edit = _set_config_edit(sql, own[position + 1:], settings)
                    if edit is None:
                        return None
                    if edit:
                        edits.append(edit)
    for start, stop, replacement in sorted(edits, reverse=True):
        sql = sql[:start] + replacement + sql[stop:]
    return sql


def _set_config_edit(sql: str, tokens: list, settings):
    """The edit making one ``set_config(...)`` call transaction-local: () when it sets another
    setting or is already local, None when its is_local argument is not a constant."""
    if not tokens or tokens[0].name != "ASCII_40":
        return ()
    arguments, depth, current = [], 0, []
    for token in tokens[1:]:
        if token.name in ("ASCII_40", "ASCII_91"):
            depth += 1
        elif token.name in ("ASCII_41", "ASCII_93"):
            if depth == 0:
                arguments.append(current)
                break
            depth -= 1
        elif token.name == "ASCII_44" and depth == 0:
            arguments.append(current)
            current = []
            continue
        current.append(token)
    if len(arguments) != 3 or len(arguments[0]) != 1 or arguments[0][0].name != "SCONST":
        return ()
    name = sql[arguments[0][0].start + 1:arguments[0][0].end].lower()
    if name not in settings:
        return ()
    if len(arguments[2]) != 1:
        return None
    flag = arguments[2][0]
    text = sql[flag.start:flag.end + 1]
    if flag.name == "TRUE_P" or text.lower() in ("'t'", "'true'", "'on'", "'yes'", "'1'"):
        return ()
    if flag.name == "FALSE_P" or text.lower() in _FALSE_WORDS:
        return flag.start, flag.end + 1, "TRUE" if text.isupper() else "true"
    return None
