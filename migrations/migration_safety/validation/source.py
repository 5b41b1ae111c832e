"""Reading one revision file with ``ast`` (it is never imported): its identifiers, its functions,
its module constants, and the Operations of ``upgrade()``/``downgrade()`` with their context
(autocommit block, batch table, tables created earlier, code that runs only on another dialect)."""
from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from .functions import is_known_non_volatile
from .operations import Operation, normalize_table
from .sql import default_is_volatile, not_null_check_column, read_sql
from .types import PostgresType, TypeReader, compare_types, type_key

DIALECTS = ("postgresql", "mysql", "mariadb", "sqlite", "mssql", "oracle")
# Alembic's op.* signatures, the arguments rules read; a batch operation has no table argument
OP_PARAMS = {
    "create_table": ("table_name",),
    "drop_table": ("table_name",),
    "drop_column": ("table_name", "column_name"),
    "rename_table": ("old_table_name", "new_table_name"),
    "alter_column": ("table_name", "column_name"),
    "add_column": ("table_name", "column"),
    "create_index": ("index_name", "table_name", "columns"),
    "drop_index": ("index_name", "table_name"),
    "create_primary_key": ("constraint_name", "table_name", "columns"),
    "create_unique_constraint": ("constraint_name", "table_name", "columns"),
    "create_foreign_key": ("constraint_name", "source_table", "referent_table", "local_cols", "remote_cols"),
    "create_check_constraint": ("constraint_name", "table_name", "condition"),
    "create_exclude_constraint": ("constraint_name", "table_name"),
    "execute": ("sqltext",),
}
TABLE_PARAMS = ("table_name", "source_table", "old_table_name")
CONSTRAINT_TYPES = {"create_primary_key": "primary", "create_unique_constraint": "unique",
                    "create_foreign_key": "foreign", "create_check_constraint": "check",
                    "create_exclude_constraint": "exclude"}
# what an operation creates, so later operations on it in the same function know it holds no rows
# (and no running code uses it yet)
CREATING_KINDS = ("create_table", "create_type", "create_schema")
SIDE_CONNECTION_FUNCTIONS = ("create_engine", "create_async_engine", "engine_from_config")
DRIVER_MODULES = ("psycopg2", "psycopg", "asyncpg", "pg8000")
# what a driver module opens connections with (asyncpg's pool opens them too)
DRIVER_OPENERS = ("connect", "create_pool")
_LOOP_LIMIT = 50
INTEGER_TYPES = ("Integer", "BigInteger", "SmallInteger", "INTEGER", "BIGINT", "SMALLINT", "INT")


@dataclass
class RevisionSource:
    path: Path
    text: str
    tree: Optional[ast.Module]
    revision: Optional[str] = None
    down_revision: object = "<missing>"          # None for the first revision; str or tuple otherwise
    functions: dict = field(default_factory=dict)
    assigned: set = field(default_factory=set)
    constants: dict = field(default_factory=dict)     # NAME -> str, int or tuple of str
    tablenames: dict = field(default_factory=dict)    # class name -> __tablename__
    module_paths: tuple = ()          # where the project's modules are, to read a type they define
    autocommit: bool = False          # env.py runs every statement in autocommit
    driver_names: set = field(default_factory=set)    # local names of a driver module (import asyncpg as pg)
    driver_openers: set = field(default_factory=set)  # local names of a driver's connect (from ... import)

    def postgres_type(self, node) -> PostgresType:
        """What the type expression ``node`` is on PostgreSQL (types.TypeReader)."""
        if "_type_reader" not in self.__dict__:
            self.__dict__["_type_reader"] = TypeReader(self.tree, self.module_paths)
        return self.__dict__["_type_reader"].on_postgresql(node)

    @property
    def project_types(self) -> list:
        """The project's own column types this revision uses, whether their source was found or not
        (types.TypeReader)."""
        reader = self.__dict__.get("_type_reader")
        return reader.project_types if reader is not None else []

    @property
    def lines(self) -> list[str]:
        return self.text.splitlines()

    def operations(self, function_name: str) -> list:
        function = self.functions.get(function_name)
        return [] if function is None else OperationCollector(self).collect(function)


def read_revision(path: Path, module_paths=(), transaction_mode: str = "single") -> RevisionSource:
    """Raises SyntaxError or UnicodeDecodeError (binary and empty files are handled by the caller).
    ``module_paths``: folders the project's modules are found in (ValidationConfig.module_paths);
    ``transaction_mode``: how env.py runs them (ValidationConfig.transaction_mode)."""
    text = path.read_bytes().decode("utf-8")
    tree = ast.parse(text, filename=str(path))
    source = RevisionSource(path, text, tree, module_paths=tuple(module_paths),
                            autocommit=transaction_mode == "autocommit")
    _read_driver_imports(tree, source)
    for node in tree.body:
        targets = [node.target] if isinstance(node, ast.AnnAssign) else (
            node.targets if isinstance(node, ast.Assign) else [])
        value = getattr(node, "value", None)
        for target in targets:
            if not isinstance(target, ast.Name) or value is None:
                continue
            try:
                literal = ast.literal_eval(value)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                literal = None
            if target.id in ("revision", "down_revision"):
                source.assigned.add(target.id)
                if target.id == "revision":
                    source.revision = literal if isinstance(literal, str) else None
                else:
                    source.down_revision = tuple(literal) if isinstance(literal, list) else literal
            elif isinstance(literal, (str, int)) and not isinstance(literal, bool):
                source.constants[target.id] = literal
            elif isinstance(literal, (tuple, list)) and all(isinstance(v, str) for v in literal):
                source.constants[target.id] = tuple(literal)
        # an ``async def upgrade`` is no upgrade() Alembic can run (it would only make a coroutine)
        if isinstance(node, ast.FunctionDef) or (
                isinstance(node, ast.AsyncFunctionDef) and node.name not in ("upgrade", "downgrade")):
            source.functions[node.name] = node
        elif isinstance(node, ast.ClassDef):
            for statement in node.body:
                if (isinstance(statement, ast.Assign) and any(
                        isinstance(t, ast.Name) and t.id == "__tablename__" for t in statement.targets)
                        and isinstance(statement.value, ast.Constant) and isinstance(statement.value.value, str)):
                    source.tablenames[node.name] = statement.value.value
    return source


def _literal(node) -> Optional[str]:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _keyword(call: ast.Call, name: str):
    for keyword in call.keywords:
        if keyword.arg == name:
            return keyword.value
    return None


def _truthy(node) -> bool:
    return isinstance(node, ast.Constant) and bool(node.value)


def call_name(node) -> str:
    """'sa.Column' -> 'Column', 'postgresql.JSON' -> 'JSON'."""
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return ""


def _chain(node) -> list:
    """``a.b(x).c().d`` -> the attribute names along the call chain: ['b', 'c', 'd']."""
    names = []
    while True:
        if isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Attribute):
            names.append(node.attr)
            node = node.value
        else:
            return names[::-1]


def _default_is_volatile(default, env: dict, value) -> bool:
    """A ``server_default``: a string is a constant; ``sa.text("...")`` is SQL read by the parser;
    ``sa.func.name()`` calls that function. Anything else (a variable, an expression object) is
    not judged: no alarm on what cannot be read."""
    if default is None:
        return False
    if isinstance(default, ast.Call) and call_name(default) == "text" and default.args:
        sql = value(default.args[0], env)
        return bool(isinstance(sql, str) and default_is_volatile(sql))
    parts = ast.unparse(default.func).split(".") if isinstance(default, ast.Call) else []
    if "func" in parts[:-1]:
        return not is_known_non_volatile(tuple(parts[parts.index("func") + 1:]))
    return False


def _terminates(statements) -> bool:
    return bool(statements) and isinstance(statements[-1], (ast.Return, ast.Raise))


def _read_driver_imports(tree: ast.Module, source: RevisionSource) -> None:
    """The names a database driver is imported under anywhere in the file (``import asyncpg as
    pg``, ``from asyncpg import connect as open_connection``), so a connection opened through an
    alias is seen as one."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in DRIVER_MODULES:
                    source.driver_names.add(alias.asname or alias.name)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in DRIVER_MODULES:
            source.driver_openers.update(alias.asname or alias.name for alias in node.names
                                         if alias.name in DRIVER_OPENERS)


class OperationCollector:
    """Walks a function in source order, turning op.* calls, SQL and connection use into Operations.

    ``env`` holds what is known of local names: a string, a tuple of strings (for loops), a
    ``("table", name)`` for ``sa.table(...)``, or ``("on_postgresql", bool)`` for a dialect test."""

    def __init__(self, source: RevisionSource) -> None:
        self.source = source
        self.operations: list[Operation] = []
        self.created_tables: set = set()
        self.emptied_tables: set = set()       # every row deleted earlier in the function
        self._active_helpers: set = set()
        self._nested_functions: dict = {}      # functions defined inside the one read, by name
        self._table_expression: Optional[str] = None

    def collect(self, function: ast.FunctionDef) -> list[Operation]:
        # an env.py in AUTOCOMMIT runs the whole function as if inside autocommit_block()
        self._visit(function.body, autocommit=self.source.autocommit, batches={}, env={})
        return self.operations

    # -- names -----------------------------------------------------------------------------------
    def _value(self, node, env):
        if isinstance(node, ast.Constant) and isinstance(node.value, (str, int)):
            return node.value
        if isinstance(node, ast.Name):
            if node.id in env:
                return env[node.id]
            return self.source.constants.get(node.id)
        if isinstance(node, ast.Attribute) and node.attr == "__tablename__" and isinstance(node.value, ast.Name):
            return self.source.tablenames.get(node.value.id)
        if isinstance(node, (ast.Tuple, ast.List)):
            values = tuple(self._value(element, env) for element in node.elts)
            return values if all(isinstance(v, str) for v in values) else None
        return None

    def _string(self, node, env) -> Optional[str]:
        value = self._value(node, env) if node is not None else None
        if isinstance(value, tuple) and len(value) == 2 and value[0] == "table":
            return value[1]
        return value if isinstance(value, str) else None

    def _table_of(self, node, env) -> Optional[str]:
        """A table named by a string, a constant, ``Model.__tablename__``, a Model class defined in
        the revision, or a ``sa.table("t")`` bound to a name."""
        if isinstance(node, ast.Name) and node.id in self.source.tablenames:
            return self.source.tablenames[node.id]
        if isinstance(node, ast.Attribute) and node.attr == "__table__" and isinstance(node.value, ast.Name):
            return self.source.tablenames.get(node.value.id)
        if isinstance(node, ast.Call) and call_name(node) in ("table", "Table") and node.args:
            return self._string(node.args[0], env)
        return self._string(node, env)

    @staticmethod
    def _described(node) -> Optional[str]:
        """How the file names a table it does not spell out (``Model.__tablename__``, a loop variable)."""
        return ast.unparse(node) if node is not None and not isinstance(node, ast.Constant) else None

    # -- dialect guards --------------------------------------------------------------------------
    def _on_postgresql(self, test, env) -> Optional[bool]:
        """Whether a condition holds on PostgreSQL: True, False, or None when it does not say."""
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            inner = self._on_postgresql(test.operand, env)
            return None if inner is None else not inner
        if isinstance(test, ast.BoolOp):
            parts = [self._on_postgresql(value, env) for value in test.values]
            if isinstance(test.op, ast.And):
                return False if False in parts else (True if all(p is True for p in parts) else None)
            return True if True in parts else (False if all(p is False for p in parts) else None)
        if isinstance(test, ast.Name) and isinstance(env.get(test.id), tuple) and env[test.id][:1] == ("on_postgresql",):
            return env[test.id][1]
        if isinstance(test, ast.Compare) and len(test.ops) == 1:
            left, right = test.left, test.comparators[0]
            names = self._dialect_names(right) or self._dialect_names(left)
            if names is None:
                return None
            operator = test.ops[0]
            if isinstance(operator, (ast.Eq, ast.In, ast.Is)):
                return "postgresql" in names
            if isinstance(operator, (ast.NotEq, ast.NotIn, ast.IsNot)):
                return "postgresql" not in names
        if isinstance(test, ast.Call) and call_name(test) == "startswith" and test.args:
            prefix = _literal(test.args[0])
            if prefix and prefix in ("postgres", "postgresql", *DIALECTS):
                return "postgresql".startswith(prefix)
        return None

    @staticmethod
    def _dialect_names(node) -> Optional[tuple]:
        if isinstance(node, ast.Constant) and node.value in DIALECTS:
            return (node.value,)
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)) and node.elts and all(
                isinstance(e, ast.Constant) and e.value in DIALECTS for e in node.elts):
            return tuple(e.value for e in node.elts)
        return None

    # -- traversal -------------------------------------------------------------------------------
    def _visit(self, statements, *, autocommit: bool, batches: dict, env: dict) -> bool:
        """Visit statements in order; True when they end the function (a return) on PostgreSQL."""
        for statement in statements:
            if isinstance(statement, ast.Return):
                self._calls(statement, autocommit, batches, env)
                return True
            if isinstance(statement, ast.If):
                on_postgresql = self._on_postgresql(statement.test, env)
                if on_postgresql is None:
                    self._visit(statement.body, autocommit=autocommit, batches=batches, env=env)
                    self._visit(statement.orelse, autocommit=autocommit, batches=batches, env=env)
                    continue
                taken = statement.body if on_postgresql else statement.orelse
                # code that runs only on another dialect is not read at all
                if self._visit(taken, autocommit=autocommit, batches=batches, env=env) or _terminates(taken):
                    return True
                continue
            if isinstance(statement, (ast.With, ast.AsyncWith)):
                inner_auto, inner_batches = autocommit, dict(batches)
                for item in statement.items:
                    call = item.context_expr
                    if isinstance(call, ast.Call) and call_name(call) == "autocommit_block":
                        inner_auto = True
                    elif isinstance(call, ast.Call) and call_name(call) == "batch_alter_table":
                        node = call.args[0] if call.args else _keyword(call, "table_name")
                        if isinstance(item.optional_vars, ast.Name):
                            inner_batches[item.optional_vars.id] = (self._table_of(node, env), self._described(node))
                    else:
                        self._calls(call, autocommit, batches, env)
                if self._visit(statement.body, autocommit=inner_auto, batches=inner_batches, env=env):
                    return True
                continue
            if isinstance(statement, (ast.For, ast.AsyncFor)):
                values = self._value(statement.iter, env)
                if isinstance(statement.target, ast.Name) and isinstance(values, tuple) and values[:1] != ("table",) \
                        and len(values) <= _LOOP_LIMIT:
                    for value in values:
                        self._visit(statement.body, autocommit=autocommit, batches=batches,
                                    env={**env, statement.target.id: value})
                else:
                    self._calls(statement.iter, autocommit, batches, env)
                    self._visit(statement.body, autocommit=autocommit, batches=batches, env=env)
                self._visit(statement.orelse, autocommit=autocommit, batches=batches, env=env)
                continue
            if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
                # read where it is called (``asyncio.run(work())`` included), like a module's helper
                self._nested_functions[statement.name] = statement
                continue
            if isinstance(statement, ast.ClassDef):
                continue
            nested = [getattr(statement, name) for name in ("body", "orelse", "finalbody")
                      if isinstance(getattr(statement, name, None), list)]
            if nested:
                nested += [handler.body for handler in getattr(statement, "handlers", [])]
                for block in nested:
                    self._visit(block, autocommit=autocommit, batches=batches, env=env)
                continue
            if isinstance(statement, ast.Assign):
                self._assign(statement, env)
            self._calls(statement, autocommit, batches, env)
        return False

    def _assign(self, statement: ast.Assign, env: dict) -> None:
        value = statement.value
        for target in statement.targets:
            if not isinstance(target, ast.Name):
                continue
            env.pop(target.id, None)
            on_postgresql = self._on_postgresql(value, env) if isinstance(value, (ast.Compare, ast.BoolOp)) else None
            if on_postgresql is not None:
                env[target.id] = ("on_postgresql", on_postgresql)
            elif isinstance(value, ast.Call) and call_name(value) in ("table", "Table") and value.args:
                table = self._string(value.args[0], env)
                if table:
                    env[target.id] = ("table", table)
            else:
                known = self._value(value, env)
                if known is not None:
                    env[target.id] = known

    def _calls(self, statement, autocommit: bool, batches: dict, env: dict) -> None:
        """Every call in one simple statement, outermost first."""
        skip = set()
        for node in ast.walk(statement):
            if not isinstance(node, ast.Call) or id(node) in skip:
                continue
            func = node.func
            helper = self._helper(func)
            if helper is not None:
                # a helper defined in the revision (or inside the function read): its body runs here
                self._active_helpers.add(func.id)
                self._visit(helper.body, autocommit=autocommit, batches=batches, env={})
                self._active_helpers.discard(func.id)
                continue
            name = call_name(node)
            if name in SIDE_CONNECTION_FUNCTIONS or self._opens_driver_connection(func):
                self._add("side_connection", None, node, autocommit, opener=ast.unparse(func))
                continue
            if not isinstance(func, ast.Attribute):
                continue
            owner = func.value
            if isinstance(owner, ast.Name) and owner.id == "op":
                self._op_call(func.attr, node, None, autocommit, env)
            elif isinstance(owner, ast.Name) and owner.id in batches:
                self._op_call(func.attr, node, batches[owner.id], autocommit, env, batch=True)
            elif func.attr in ("execute", "exec_driver_sql"):
                self._execute(node, autocommit, env, via="connection")
                for argument in node.args[:1]:      # the statement object inside was read with it
                    skip.update(id(n) for n in ast.walk(argument) if isinstance(n, ast.Call))
            elif func.attr in ("commit", "rollback") and not node.args and self._is_connection(owner):
                self._add("transaction_control", None, node, autocommit, statement=f"{func.attr}()")
            elif func.attr in ("delete", "update") and "query" in _chain(owner):
                self._orm(node, func.attr, autocommit, env)
            elif func.attr == "bulk_update_mappings":
                self._add("update", None, node, autocommit, via="orm", where=True, method=func.attr,
                          model=ast.unparse(node.args[0]) if node.args else "objects")

    def _opens_driver_connection(self, func) -> bool:
        """``asyncpg.connect``, ``pg.create_pool`` (``import asyncpg as pg``), or a driver's
        connect imported by name."""
        if isinstance(func, ast.Name):
            return func.id in self.source.driver_openers
        return (isinstance(func, ast.Attribute) and func.attr in DRIVER_OPENERS and isinstance(func.value, ast.Name)
                and func.value.id in (*DRIVER_MODULES, *self.source.driver_names))

    def _helper(self, func):
        """The definition a call by plain name runs, when the revision holds it (not while it is
        already being read: recursion)."""
        if not isinstance(func, ast.Name) or func.id in ("upgrade", "downgrade") or func.id in self._active_helpers:
            return None
        return self._nested_functions.get(func.id) or self.source.functions.get(func.id)

    @staticmethod
    def _is_connection(owner) -> bool:
        """``op.get_bind()`` or a name conventionally bound to it."""
        if isinstance(owner, ast.Call) and call_name(owner) == "get_bind":
            return True
        return isinstance(owner, ast.Name) and owner.id in ("bind", "conn", "connection")

    # -- op.* calls --------------------------------------------------------------------------------
    def _add(self, kind: str, table, call: ast.AST, autocommit: bool, line: Optional[int] = None,
             via: str = "op", **details) -> Operation:
        table = normalize_table(table)
        if table is None and self._table_expression and "model" not in details:
            details["model"] = self._table_expression
        operation = Operation(kind, table, line or call.lineno, getattr(call, "end_lineno", None) or call.lineno,
                              in_autocommit=autocommit, via=via, details=details)
        self._place(operation)
        return operation

    def _place(self, operation: Operation) -> None:
        """Record an operation with what happened to its table earlier in the same function."""
        table = operation.table or operation.get("model")     # an unresolved name still matches itself
        operation.table_created_here = table in self.created_tables if table else False
        operation.table_emptied_here = table in self.emptied_tables if table else False
        if table and operation.kind in CREATING_KINDS:
            self.created_tables.add(table)
        if table and (operation.kind == "truncate" or (operation.kind == "delete" and not operation.get("where"))):
            self.emptied_tables.add(table)
        self.operations.append(operation)

    def _bind(self, name: str, call: ast.Call, batch: bool) -> dict:
        params = OP_PARAMS.get(name, ())
        if batch:
            params = tuple(p for p in params if p not in TABLE_PARAMS)
        bound = dict(zip(params, call.args))
        bound.update({k.arg: k.value for k in call.keywords if k.arg})
        bound["*rest"] = call.args[len(params):]
        return bound

    def _op_call(self, name: str, call: ast.Call, batch_table, autocommit: bool, env: dict, batch: bool = False):
        self._table_expression = None
        args = self._bind(name, call, batch)
        table_node = next((args[p] for p in TABLE_PARAMS if p in args), None)
        if batch:
            table, self._table_expression = batch_table
        else:
            table = self._table_of(table_node, env)
            self._table_expression = None if table else self._described(table_node)
        if name == "execute":
            self._execute(call, autocommit, env, via="op")
        elif name == "create_table":
            self._add("create_table", table, call, autocommit)
            for column in args["*rest"]:
                if isinstance(column, ast.Call) and call_name(column) == "Column":
                    self._column(column, table, call, autocommit, env)
        elif name == "drop_table":
            self._add(name, table, call, autocommit)
        elif name == "rename_table":
            self._add(name, table, call, autocommit,
                      new_table=normalize_table(self._string(args.get("new_table_name"), env)))
        elif name == "drop_column":
            column = args.get("column_name")
            if isinstance(column, ast.Call) and call_name(column) == "Column" and column.args:
                column = column.args[0]         # drop_column("t", sa.Column("c", ...)) drops "c"
            self._add("drop_column", table, call, autocommit, column=self._string(column, env))
        elif name == "alter_column":
            self._alter_column(call, args, table, autocommit, env)
        elif name == "add_column":
            column = args.get("column")
            if isinstance(column, ast.Call) and call_name(column) == "Column":
                self._add_column(column, table, call, autocommit, env)
        elif name in ("create_index", "drop_index"):
            columns = self._value(args.get("columns"), env) if args.get("columns") is not None else None
            self._add(name, table, call, autocommit, name=self._string(args.get("index_name"), env),
                      index=normalize_table(self._string(args.get("index_name"), env)),
                      columns=columns if isinstance(columns, tuple) else (),
                      concurrently=_truthy(args.get("postgresql_concurrently")), unique=_truthy(args.get("unique")))
        elif name in CONSTRAINT_TYPES:
            condition = self._string(args.get("condition"), env) if name == "create_check_constraint" else None
            self._add("add_constraint", table, call, autocommit, constraint_type=CONSTRAINT_TYPES[name],
                      name=self._string(args.get("constraint_name"), env),
                      not_valid=_truthy(args.get("postgresql_not_valid")), using_index=None,
                      not_null_column=not_null_check_column(condition) if condition else None)
        elif name not in ("get_bind", "get_context", "f", "inline_literal", "implementation_for", "invoke"):
            self._add("op_other", table, call, autocommit, name=name)

    def _alter_column(self, call: ast.Call, args: dict, table, autocommit: bool, env: dict) -> None:
        column = self._string(args.get("column_name"), env)
        before = len(self.operations)
        if args.get("new_column_name") is not None:
            self._add("rename_column", table, call, autocommit, column=column)
        new_type = self._as_on_postgresql(args.get("type_"))
        if new_type is not None:
            verdict, described = compare_types(self._as_on_postgresql(args.get("existing_type")), new_type,
                                               lambda n: self._value(n, env))
            if verdict in ("rewrite", "narrowing", "unknown", "no_existing_type"):
                self._add("alter_type", table, call, autocommit, column=column, verdict=verdict, change=described,
                          new_type_key=type_key(new_type, lambda n: self._value(n, env)))
            elif verdict == "check":
                self._add("add_constraint", table, call, autocommit, constraint_type="check", not_valid=False,
                          using_index=None, name=None, reason=f"the non-native enum type of {column}")
        nullable = args.get("nullable")
        existing = args.get("existing_nullable")
        if isinstance(nullable, ast.Constant) and nullable.value is False and not (
                isinstance(existing, ast.Constant) and existing.value is False):
            self._add("set_not_null", table, call, autocommit, column=column)
        if "server_default" in args and isinstance(args["server_default"], ast.Constant) \
                and args["server_default"].value is None:
            self._add("drop_default", table, call, autocommit, column=column)
        if len(self.operations) > before:
            return
        # nothing hazardous: still a change (for the downgrade check), or only a comment
        changes = {k for k in args if k not in ("table_name", "column_name", "schema", "*rest")
                   and not k.startswith("existing_")}
        if isinstance(nullable, ast.Constant) and isinstance(existing, ast.Constant) and nullable.value == existing.value:
            changes.discard("nullable")
        if changes:
            self._add("op_other", table, call, autocommit, name="comment" if changes == {"comment"} else "alter_column")

    def _as_on_postgresql(self, type_node):
        """The SQLAlchemy type expression a (custom) type is on PostgreSQL; itself when unknown."""
        if type_node is None:
            return None
        return self.source.postgres_type(type_node).node or type_node

    def _add_column(self, column: ast.Call, table, call: ast.Call, autocommit: bool, env: dict) -> None:
        nullable = _keyword(column, "nullable")
        primary = _truthy(_keyword(column, "primary_key"))
        default = _keyword(column, "server_default")
        computed = any(isinstance(a, ast.Call) and call_name(a) == "Computed" for a in column.args[1:])
        generated_key = self._generates_values(column, self._column_type(column))
        inline = [name for name, present in (
            ("UNIQUE", _truthy(_keyword(column, "unique"))), ("PRIMARY KEY", primary),
            ("REFERENCES", any(isinstance(a, ast.Call) and call_name(a) == "ForeignKey" for a in column.args[1:])))
            if present]
        self._add("add_column", table, call, autocommit, column=self._string(column.args[0], env) if column.args else None,
                  nullable=not (isinstance(nullable, ast.Constant) and nullable.value is False) and not primary,
                  has_default=computed or generated_key or (default is not None and not (
                      isinstance(default, ast.Constant) and default.value is None)),
                  default_volatile=_default_is_volatile(default, env, self._value) or generated_key,
                  generated_stored=computed, primary_key=primary, inline_constraints=tuple(inline))
        self._column(column, table, call, autocommit, env)

    def _column_type(self, column: ast.Call) -> PostgresType:
        type_node = column.args[1] if len(column.args) > 1 else _keyword(column, "type_")
        return self.source.postgres_type(type_node) if type_node is not None else PostgresType(None)

    @staticmethod
    def _identity(column: ast.Call) -> bool:
        return any(isinstance(a, ast.Call) and call_name(a) == "Identity" for a in column.args[1:])

    def _generates_values(self, column: ast.Call, column_type: PostgresType) -> bool:
        """An identity column, or an integer primary key SQLAlchemy renders as (BIG)SERIAL: each
        existing row gets a value, as from a default (a volatile one: the table is rewritten)."""
        if self._identity(column):
            return True
        autoincrement = _keyword(column, "autoincrement")
        return (_truthy(_keyword(column, "primary_key")) and column_type.name in INTEGER_TYPES
                and not (isinstance(autoincrement, ast.Constant) and autoincrement.value is False))

    def _column(self, column: ast.Call, table, call: ast.Call, autocommit: bool, env: dict) -> None:
        column_type = self._column_type(column)
        self._add("column", table, call, autocommit, line=column.lineno,
                  column=self._string(column.args[0], env) if column.args else None,
                  type_name=column_type.name, type_call=column_type.node, type_unverified=column_type.unverified,
                  primary_key=_truthy(_keyword(column, "primary_key")), identity=self._identity(column))

    # -- SQL through op.execute or the connection ----------------------------------------------------
    def _execute(self, call: ast.Call, autocommit: bool, env: dict, via: str) -> None:
        self._table_expression = None
        argument = call.args[0] if call.args else _keyword(call, "sqltext") or _keyword(call, "statement")
        if argument is None:
            return
        if isinstance(argument, ast.Call) and call_name(argument) == "text" and argument.args:
            argument = argument.args[0]
        sql = _literal(argument)
        if sql is None and isinstance(argument, ast.Name):
            value = env.get(argument.id, self.source.constants.get(argument.id))
            sql = value if isinstance(value, str) else None
        if sql is None:
            self._expression(call, argument, autocommit, env, via)
            return
        for operation in read_sql(sql, argument.lineno):
            operation.in_autocommit = autocommit
            operation.details["through"] = via
            operation.end_line = max(operation.line, getattr(call, "end_lineno", operation.line) or operation.line)
            self._place(operation)

    def _expression(self, call: ast.Call, argument, autocommit: bool, env: dict, via: str) -> None:
        """Not SQL text: a SQLAlchemy statement object (``t.delete()``, ``sa.update(t)``) is read for
        its table and WHERE; text built at run time (f-string, +, %, .format, a variable) is not."""
        chain = _chain(argument)
        base = argument
        while isinstance(base, (ast.Call, ast.Attribute)):
            inner = base.func if isinstance(base, ast.Call) else base.value
            if isinstance(base, ast.Call) and call_name(base) in ("delete", "update") and (
                    isinstance(inner, ast.Name) or (isinstance(inner, ast.Attribute) and isinstance(inner.value, ast.Name)
                                                    and inner.value.id in ("sa", "sqlalchemy"))) and base.args:
                table = self._table_of(base.args[0], env)        # sa.delete(t) / sa.update(t)
                self._add(call_name(base), table, call, autocommit, via="expression", where="where" in chain,
                          through=via, model=ast.unparse(base.args[0]))
                return
            if isinstance(base, ast.Call) and isinstance(inner, ast.Attribute) and inner.attr in ("delete", "update"):
                table = self._table_of(inner.value, env)          # t.delete() / t.update()
                self._add(inner.attr, table, call, autocommit, via="expression", where="where" in chain,
                          through=via, model=ast.unparse(inner.value))
                return
            base = inner
        built = isinstance(argument, (ast.JoinedStr, ast.BinOp, ast.Name, ast.Attribute)) or (
            isinstance(argument, ast.Call) and call_name(argument) == "format")
        if built:
            self._add("runtime_sql", None, call, autocommit, through=via)

    def _orm(self, call: ast.Call, method: str, autocommit: bool, env: dict) -> None:
        """``session.query(M)[.filter(...)].delete()`` / ``.update({...})``: rows rewritten by the ORM."""
        self._table_expression = None
        chain = _chain(call.func)
        query = call.func
        while isinstance(query, (ast.Call, ast.Attribute)) and not (
                isinstance(query, ast.Call) and call_name(query) == "query"):
            query = query.func if isinstance(query, ast.Call) else query.value
        model = query.args[0] if isinstance(query, ast.Call) and query.args else None
        table = self._table_of(model, env) if model is not None else None
        filtered = any(step in ("filter", "filter_by", "where", "join") for step in chain)
        self._add(method, table, call, autocommit, via="orm",
                  where=filtered, model=ast.unparse(model) if model is not None else "a query", method=method)
