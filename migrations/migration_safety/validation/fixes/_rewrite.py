"""The libcst machinery the fixers share: finding the statement a finding names, reading literal
arguments, and building the replacement statements."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

import libcst as cst
from libcst.metadata import PositionProvider

AUTOCOMMIT = "op.get_context().autocommit_block()"
_SIMPLE_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_$]*\Z")


@dataclass
class Rewrite:
    """A fix that also ends what its statement started: ``statements`` replace the statement, and
    ``RESET <setting>`` for each of ``resets`` becomes the last statement of the enclosing
    autocommit block, or of ``upgrade()`` when the statement is in no such block.
    ``in_transaction``: the fix assumes the statement runs in a transaction (not in an autocommit
    block), and is refused when it is in one."""
    statements: list
    resets: list = field(default_factory=list)
    in_transaction: bool = False


class FixTransformer(cst.CSTTransformer):
    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, wanted: dict, fixers: dict):
        super().__init__()
        self.wanted = wanted          # line -> [Finding]
        self.fixers = fixers
        self.applied: list = []
        self.not_fixed: list = []
        self._function: list = []
        # enclosing blocks, innermost last: [node, is an autocommit block, settings to reset at its end]
        self._blocks: list = []

    def visit_FunctionDef(self, node):
        self._function.append(node.name.value)
        self._blocks.append([node, False, []])

    def leave_FunctionDef(self, original, updated):
        self._function.pop()
        return _with_resets(updated, self._blocks.pop()[2])

    def visit_With(self, node):
        self._blocks.append([node, is_autocommit_block(node), []])

    def leave_With(self, original, updated):
        return _with_resets(updated, self._blocks.pop()[2])

    def leave_SimpleStatementLine(self, original, updated):
        position = self.get_metadata(PositionProvider, original)
        line = position.start.line
        # a finding on any line of the statement (SQL on the lines of a multi-line string) is its
        findings = [finding for at in sorted(self.wanted) if line <= at <= position.end.line
                    for finding in self.wanted.pop(at)]
        if not findings:
            return updated
        fixer = self.fixers[findings[0].rule]
        call = op_call(original) or (execute_call(original) if getattr(fixer, "ANY_CONNECTION", False) else None)
        together = hasattr(fixer, "fix_line") and len({f.rule for f in findings}) == 1
        if self._function != ["upgrade"] or call is None or (len(findings) != 1 and not together):
            self.not_fixed.extend(findings)     # several hazards in one call: a person decides the order
            return updated
        replacement = fixer.fix_line(Call(call), findings) if together else fixer.fix(Call(call), findings[0])
        if isinstance(replacement, Rewrite):
            replacement = self._ending(replacement)
        if replacement is None:
            self.not_fixed.extend(findings)
            return updated
        statements = [cst.parse_statement(text) if isinstance(text, str) else text for text in replacement]
        statements[0] = statements[0].with_changes(leading_lines=original.leading_lines)
        if original.trailing_whitespace.comment is not None:     # the comment stays with the call it was on
            statements = _with_trailing_comment(statements, original.trailing_whitespace)
        self.applied.extend((line, finding.rule) for finding in findings)
        return cst.FlattenSentinel(statements)

    def _ending(self, rewrite: Rewrite) -> Optional[list]:
        """The statements of a Rewrite, its RESETs noted for the end of the block they belong to;
        None when the block could be left before its end (return, break, continue) or is not
        the kind of block the fix assumed."""
        block = next((b for b in reversed(self._blocks) if b[1]), None)
        if block is not None and rewrite.in_transaction:
            return None
        block = block or next(b for b in reversed(self._blocks) if isinstance(b[0], cst.FunctionDef))
        if rewrite.resets and leaves_early(block[0]):
            return None
        block[2].extend(setting for setting in rewrite.resets if setting not in block[2])
        return rewrite.statements

    def leave_Module(self, original, updated):
        for findings in self.wanted.values():       # a finding on a line that holds no statement of its own
            self.not_fixed.extend(findings)
        return updated


def is_autocommit_block(node: cst.With) -> bool:
    """``with op.get_context().autocommit_block():`` (or any ``<context>.autocommit_block()``)."""
    return any(isinstance(item.item, cst.Call) and isinstance(item.item.func, cst.Attribute)
               and item.item.func.attr.value == "autocommit_block" for item in node.items)


def _with_resets(node, settings: list):
    """``node`` (a with block or a function) with ``op.execute("RESET <setting>")`` after its last statement."""
    if not settings or not isinstance(node.body, cst.IndentedBlock):
        return node
    resets = [cst.parse_statement(f'op.execute("RESET {setting}")\n') for setting in settings]
    return node.with_changes(body=node.body.with_changes(body=list(node.body.body) + resets))


class _EarlyExit(cst.CSTVisitor):
    """Finds a way out of a block before its end: return, or break/continue outside a loop of its own."""

    def __init__(self):
        self.found = False
        self._loops = 0

    def visit_Return(self, node):
        self.found = True

    def visit_Break(self, node):
        self.found = self.found or self._loops == 0

    def visit_Continue(self, node):
        self.found = self.found or self._loops == 0

    def visit_For(self, node):
        self._loops += 1

    def leave_For(self, node):
        self._loops -= 1

    def visit_While(self, node):
        self._loops += 1

    def leave_While(self, node):
        self._loops -= 1

    def visit_FunctionDef(self, node):
        return False            # a nested function's return is its own

    def visit_ClassDef(self, node):
        return False

    def visit_Lambda(self, node):
        return False


def leaves_early(block) -> bool:
    finder = _EarlyExit()
    block.body.visit(finder)
    return finder.found


def _with_trailing_comment(statements: list, trailing: cst.TrailingWhitespace) -> list:
    """The statements with ``trailing`` (a line's end comment) on the first simple statement,
    also when that statement is inside a ``with`` block."""
    first = statements[0]
    if isinstance(first, cst.SimpleStatementLine):
        return [first.with_changes(trailing_whitespace=trailing)] + statements[1:]
    if isinstance(first, cst.With) and isinstance(first.body, cst.IndentedBlock) and first.body.body:
        inner = first.body.body[0]
        if isinstance(inner, cst.SimpleStatementLine):
            body = first.body.with_changes(body=[inner.with_changes(trailing_whitespace=trailing)]
                                           + list(first.body.body[1:]))
            return [first.with_changes(body=body)] + statements[1:]
    return statements


def op_call(statement: cst.SimpleStatementLine) -> Optional[cst.Call]:
    """The ``op.<name>(...)`` call when it is the statement's only content."""
    if len(statement.body) != 1 or not isinstance(statement.body[0], cst.Expr):
        return None
    call = statement.body[0].value
    if (isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute)
            and isinstance(call.func.value, cst.Name) and call.func.value.value == "op"):
        return call
    return None


def execute_call(statement: cst.SimpleStatementLine) -> Optional[cst.Call]:
    """``<connection>.execute(...)`` / ``.exec_driver_sql(...)`` when it is the statement's only
    content (``op.get_bind().execute(sa.text(...))``, ``conn.execute(...)``)."""
    if len(statement.body) != 1 or not isinstance(statement.body[0], cst.Expr):
        return None
    call = statement.body[0].value
    if (isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute)
            and call.func.attr.value in ("execute", "exec_driver_sql")):
        return call
    return None


class Call:
    """Reading and changing one ``op.<name>(...)`` call."""

    def __init__(self, node: cst.Call):
        self.node = node
        self.name = node.func.attr.value

    def code(self, node: Optional[cst.CSTNode] = None) -> str:
        return cst.Module(body=[]).code_for_node(node if node is not None else self.node)

    def argument(self, position: int, keyword: str) -> Optional[cst.Arg]:
        for arg in self.node.args:
            if arg.keyword is not None and arg.keyword.value == keyword:
                return arg
        positional = [arg for arg in self.node.args if arg.keyword is None and not arg.star]
        return positional[position] if position is not None and position < len(positional) else None

    def literal(self, position: Optional[int], keyword: str):
        """The argument's value when it is a literal (str, bool, None, a list/tuple of str), else
        ``Ellipsis`` (unknown); None when the argument is not given."""
        arg = self.argument(position, keyword)
        if arg is None:
            return None
        return literal_value(arg.value)

    def keywords(self) -> set:
        return {arg.keyword.value for arg in self.node.args if arg.keyword is not None}

    def has_star_arguments(self) -> bool:
        return any(arg.star for arg in self.node.args)

    def with_keywords(self, **values) -> cst.Call:
        """The call with these keyword arguments set (added at the end, or replacing the value)."""
        args = list(self.node.args)
        for keyword, code in values.items():
            value = cst.parse_expression(code)
            for i, arg in enumerate(args):
                if arg.keyword is not None and arg.keyword.value == keyword:
                    args[i] = arg.with_changes(value=value)
                    break
            else:
                if args and args[-1].comma is cst.MaybeSentinel.DEFAULT:
                    args[-1] = args[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
                    args.append(cst.Arg(value=value, keyword=cst.Name(keyword),
                                        equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace(""))))
                else:                               # a trailing comma: keep the call's layout
                    trailing = args[-1].comma if args else cst.MaybeSentinel.DEFAULT
                    args.append(cst.Arg(value=value, keyword=cst.Name(keyword), comma=trailing,
                                        equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace(""))))
        return self.node.with_changes(args=args)

    def without_keywords(self, *names) -> cst.Call:
        args = [arg for arg in self.node.args if not (arg.keyword is not None and arg.keyword.value in names)]
        if args and self.node.args and self.node.args[-1].comma is cst.MaybeSentinel.DEFAULT:
            args[-1] = args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        return self.node.with_changes(args=args)


def literal_value(node: cst.BaseExpression):
    if isinstance(node, cst.SimpleString):
        return node.evaluated_value
    if isinstance(node, cst.ConcatenatedString):
        return node.evaluated_value
    if isinstance(node, cst.Name) and node.value in ("True", "False", "None"):
        return {"True": True, "False": False, "None": None}[node.value]
    if isinstance(node, (cst.List, cst.Tuple)):
        values = [literal_value(element.value) for element in node.elements]
        return values if all(isinstance(v, str) for v in values) else ...
    return ...


def quote_identifier(name: str) -> str:
    return name if _SIMPLE_IDENTIFIER.match(name) else '"' + name.replace('"', '""') + '"'


def qualified(table: str, schema) -> str:
    return (f"{quote_identifier(schema)}." if isinstance(schema, str) else "") + quote_identifier(table)


def python_string(text: str) -> str:
    return repr(text) if '"' in text else '"' + text.replace("\\", "\\\\") + '"'


def autocommit_block(*statements: str) -> str:
    """A ``with`` block running ``statements`` outside the migration's transaction: what was done
    before it commits first, and each statement inside commits on its own."""
    return f"with {AUTOCOMMIT}:\n" + "".join(f"    {line}\n" for s in statements for line in s.splitlines())


def constraint_name(*parts: str, suffix: str) -> str:
    """A name PostgreSQL keeps whole (at most 63 bytes)."""
    base = "_".join(parts)
    return (base[:63 - len(suffix) - 1] + "_" + suffix).lower()


def not_valid_then_validated(call: "Call", name_keyword: str, table_keyword: str, schema_keyword: str):
    """A constraint added NOT VALID, then validated in its own transaction in an autocommit block
    right after; None unless its name, table and schema are literals (VALIDATE needs them)."""
    name, table = call.literal(0, name_keyword), call.literal(1, table_keyword)
    schema = call.literal(None, schema_keyword)
    if not isinstance(name, str) or not isinstance(table, str) or schema is ...:
        return None
    validate = f"ALTER TABLE {qualified(table, schema)} VALIDATE CONSTRAINT {quote_identifier(name)}"
    return [call.code(call.with_keywords(postgresql_not_valid="True")) + "\n",
            autocommit_block(f"op.execute({python_string(validate)})")]


def not_null_steps(call_code: str, table: str, column: str, schema) -> list:
    """SET NOT NULL without the long scan under ACCESS EXCLUSIVE (PostgreSQL 12+): a CHECK added
    NOT VALID (instant), validated in its own transaction (SHARE UPDATE EXCLUSIVE: reads and writes
    go on), then SET NOT NULL finds the proof and skips the scan, and the CHECK goes."""
    check = constraint_name("ck", table, column, suffix="not_null")
    target = qualified(table, schema)
    schema_arg = f", schema={python_string(schema)}" if isinstance(schema, str) else ""
    return [
        f"op.create_check_constraint({python_string(check)}, {python_string(table)}, "
        f"{python_string(quote_identifier(column) + ' IS NOT NULL')}{schema_arg}, postgresql_not_valid=True)\n",
        autocommit_block(f"op.execute({python_string(f'ALTER TABLE {target} VALIDATE CONSTRAINT {check}')})"),
        call_code + "\n",
        f"op.drop_constraint({python_string(check)}, {python_string(table)}{schema_arg}, type_=\"check\")\n",
    ]
