"""Reading one revision file with ``ast`` (it is never imported): its identifiers, its functions,
and the Operations of ``upgrade()`` with their context (autocommit block, batch table, tables
created earlier in the same upgrade)."""
from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from .operations import Operation, is_volatile_default, normalize_table


@dataclass
class RevisionSource:
    path: Path
    text: str
    tree: Optional[ast.Module]
    revision: Optional[str] = None
    down_revision: object = "<missing>"          # None for the first revision; str or tuple otherwise
    functions: dict = field(default_factory=dict)
    assigned: set = field(default_factory=set)

    @property
    def lines(self) -> list[str]:
        return self.text.splitlines()


def read_revision(path: Path) -> RevisionSource:
    """Raises SyntaxError/ValueError (binary, empty handled by the caller)."""
    data = path.read_bytes()
    if b"\x00" in data:
        raise ValueError("binary file")
    text = data.decode("utf-8")
    tree = ast.parse(text, filename=str(path))
    source = RevisionSource(path, text, tree)
    for node in tree.body:
        targets = [node.target] if isinstance(node, ast.AnnAssign) else (
            node.targets if isinstance(node, ast.Assign) else [])
        for target in targets:
            if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
                source.assigned.add(target.id)
                try:
                    value = ast.literal_eval(node.value)
                except (ValueError, TypeError, SyntaxError):
                    value = None
                if target.id == "revision":
                    source.revision = value if isinstance(value, str) else None
                else:
                    source.down_revision = tuple(value) if isinstance(value, list) else value
        if isinstance(node, ast.FunctionDef):
            source.functions[node.name] = node
    return source


def is_empty_function(function: ast.FunctionDef) -> bool:
    """Only a docstring, ``pass`` or ``...``: a downgrade that undoes nothing."""
    for statement in function.body:
        if isinstance(statement, ast.Pass):
            continue
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
            continue
        return False
    return True


def _literal(node) -> Optional[str]:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _keyword(call: ast.Call, name: str):
    for keyword in call.keywords:
        if keyword.arg == name:
            return keyword.value
    return None


def _truthy(node) -> bool:
    return isinstance(node, ast.Constant) and bool(node.value)


def _call_name(node) -> str:
    """'sa.Column' -> 'Column', 'postgresql.JSON' -> 'JSON'."""
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return ""


def _is_autocommit_block(item: ast.withitem) -> bool:
    call = item.context_expr
    return isinstance(call, ast.Call) and _call_name(call) == "autocommit_block"


class OperationCollector:
    """Walks ``upgrade()`` in source order, turning op.* calls and SQL into Operations."""

    def __init__(self) -> None:
        self.operations: list[Operation] = []
        self.created_tables: set = set()

    def collect(self, function: ast.FunctionDef) -> list[Operation]:
        self._visit(function.body, autocommit=False, batches={})
        return self.operations

    # -- traversal -------------------------------------------------------------------------------
    def _visit(self, statements, *, autocommit: bool, batches: dict) -> None:
        for statement in statements:
            if isinstance(statement, (ast.With, ast.AsyncWith)):
                inner_auto, inner_batches = autocommit, dict(batches)
                for item in statement.items:
                    if _is_autocommit_block(item):
                        inner_auto = True
                    elif isinstance(item.context_expr, ast.Call) and _call_name(item.context_expr) == "batch_alter_table":
                        table = _literal(item.context_expr.args[0]) if item.context_expr.args else None
                        if isinstance(item.optional_vars, ast.Name):
                            inner_batches[item.optional_vars.id] = table
                self._visit(statement.body, autocommit=inner_auto, batches=inner_batches)
                continue
            nested = [getattr(statement, name) for name in ("body", "orelse", "finalbody") if
                      isinstance(getattr(statement, name, None), list)]
            if nested and not isinstance(statement, (ast.FunctionDef, ast.ClassDef)):
                for handler in getattr(statement, "handlers", []):
                    nested.append(handler.body)
                for block in nested:
                    self._visit(block, autocommit=autocommit, batches=batches)
                continue
            for node in ast.walk(statement):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and isinstance(
                        node.func.value, ast.Name):
                    owner = node.func.value.id
                    if owner == "op":
                        self._op_call(node.func.attr, node, None, autocommit)
                    elif owner in batches:
                        self._op_call(node.func.attr, node, batches[owner], autocommit, batch=True)

    # -- op.* calls --------------------------------------------------------------------------------
    def _add(self, kind: str, table, call: ast.AST, autocommit: bool, via: str = "op", line: Optional[int] = None,
             **details) -> Operation:
        table = normalize_table(table)
        operation = Operation(kind, table, line or call.lineno, getattr(call, "end_lineno", None) or call.lineno,
                              in_autocommit=autocommit, table_created_here=table in self.created_tables if table else False,
                              via=via, details=details)
        if kind == "create_table" and table:
            self.created_tables.add(table)
        self.operations.append(operation)
        return operation

    def _op_call(self, name: str, call: ast.Call, batch_table, autocommit: bool, batch: bool = False) -> None:
        args = list(call.args)
        if batch:                            # batch_op.add_column(col): the table comes from the with
            args = [ast.Constant(batch_table)] + args
        first = _literal(args[0]) if args else None
        if name == "execute":
            self._execute(call, autocommit)
        elif name == "create_table":
            self._add("create_table", first, call, autocommit)
            for column in args[1:]:
                if isinstance(column, ast.Call) and _call_name(column) == "Column":
                    self._column(column, first, call, autocommit)
        elif name == "drop_table":
            self._add("drop_table", first, call, autocommit)
        elif name == "drop_column":
            self._add("drop_column", first, call, autocommit,
                      column=_literal(args[1]) if len(args) > 1 else None)
        elif name == "rename_table":
            self._add("rename_table", first, call, autocommit)
        elif name == "alter_column":
            self._alter_column(call, first, autocommit)
        elif name == "add_column":
            column = args[1] if len(args) > 1 else None
            if isinstance(column, ast.Call) and _call_name(column) == "Column":
                nullable = _keyword(column, "nullable")
                primary = _truthy(_keyword(column, "primary_key"))
                default = _keyword(column, "server_default")
                default_text = ast.unparse(default) if default is not None else None
                self._add("add_column", first, call, autocommit, column=_literal(column.args[0]) if column.args else None,
                          nullable=not (isinstance(nullable, ast.Constant) and nullable.value is False) and not primary,
                          has_default=default is not None and not (isinstance(default, ast.Constant) and default.value is None),
                          default_volatile=is_volatile_default(default_text))
                self._column(column, first, call, autocommit)
        elif name == "create_index":
            table = _literal(args[1]) if len(args) > 1 else _literal(_keyword(call, "table_name"))
            self._add("create_index", table, call, autocommit,
                      concurrently=_truthy(_keyword(call, "postgresql_concurrently")),
                      unique=_truthy(_keyword(call, "unique")))
        elif name == "drop_index":
            table = _literal(args[1]) if len(args) > 1 else _literal(_keyword(call, "table_name"))
            self._add("drop_index", table, call, autocommit,
                      concurrently=_truthy(_keyword(call, "postgresql_concurrently")))
        elif name in ("create_primary_key", "create_unique_constraint", "create_foreign_key", "create_check_constraint"):
            table = _literal(args[1]) if len(args) > 1 else None
            if batch:
                table = batch_table
            ctype = {"create_primary_key": "primary", "create_unique_constraint": "unique",
                     "create_foreign_key": "foreign", "create_check_constraint": "check"}[name]
            self._add("add_constraint", table, call, autocommit, constraint_type=ctype,
                      not_valid=_truthy(_keyword(call, "postgresql_not_valid")), using_index=False)

    def _alter_column(self, call: ast.Call, table, autocommit: bool) -> None:
        if _keyword(call, "new_column_name") is not None:
            self._add("rename_column", table, call, autocommit)
        if _keyword(call, "type_") is not None:
            self._add("alter_type", table, call, autocommit)
        nullable = _keyword(call, "nullable")
        if isinstance(nullable, ast.Constant) and nullable.value is False:
            self._add("set_not_null", table, call, autocommit)

    def _column(self, column: ast.Call, table, call: ast.Call, autocommit: bool) -> None:
        type_node = column.args[1] if len(column.args) > 1 else _keyword(column, "type_")
        identity = any(isinstance(a, ast.Call) and _call_name(a) == "Identity" for a in column.args[2:])
        self._add("column", table, call, autocommit, line=column.lineno,
                  column=_literal(column.args[0]) if column.args else None,
                  type_name=_call_name(type_node) if type_node is not None else "",
                  type_call=type_node, primary_key=_truthy(_keyword(column, "primary_key")), identity=identity)

    # -- op.execute ----------------------------------------------------------------------------------
    def _execute(self, call: ast.Call, autocommit: bool) -> None:
        argument = call.args[0] if call.args else _keyword(call, "sqltext")
        if isinstance(argument, ast.Call) and _call_name(argument) == "text" and argument.args:
            argument = argument.args[0]
        sql = _literal(argument)
        if sql is None:
            # f-strings, concatenation, % or .format(), variables: the SQL exists only at run time.
            # SQLAlchemy expression objects (table.insert()...) are not SQL text and are fine.
            built = isinstance(argument, (ast.JoinedStr, ast.BinOp, ast.Name, ast.Attribute)) or (
                isinstance(argument, ast.Call) and _call_name(argument) == "format")
            if built:
                self._add("runtime_sql", None, call, autocommit)
            return
        from .sql import classify, split_statements

        base_line = argument.lineno
        for line_offset, statement in split_statements(sql):
            for operation in classify(statement, base_line + line_offset):
                operation.in_autocommit = autocommit
                operation.end_line = max(operation.line, getattr(call, "end_lineno", operation.line) or operation.line)
                if operation.table:
                    operation.table_created_here = operation.table in self.created_tables
                if operation.kind == "create_table" and operation.table:
                    self.created_tables.add(operation.table)
                self.operations.append(operation)
