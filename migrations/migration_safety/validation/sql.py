"""SQL text (``op.execute``, ``text()``, a connection's ``execute``, plain-SQL migration files) read
by PostgreSQL's own grammar: pglast wraps libpg_query, the server's parser, so spelling cannot hide
a statement (``serial4``, ``"serial"``, ``pg_catalog.varchar``, quoted names, comments anywhere,
several statements per string). Each statement's typed tree is turned into the Operations the
rules read (operations.py); a statement with no hazard of its own still becomes an ``sql``
operation, which the sequence rules and the downgrade check see."""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Callable, Iterator, Optional

import pglast
from pglast import ast
from pglast.enums import (AlterTableType as AT, ConstrType, ObjectType, ReindexObjectType, TransactionStmtKind,
                          VariableSetKind)

from .functions import is_known_non_volatile
from .operations import Operation, normalize_table
from .types import describe_key, type_name_key

# bound parameters are not PostgreSQL syntax: ``:name`` (SQLAlchemy text()) and ``%(name)s`` /
# ``%s`` (a driver's paramstyle) become ``$n`` so the parser reads the statement around them
_PARAMETER = re.compile(r"(?<![:\w]):(?!:)[A-Za-z_]\w*|%\([^)]+\)s|%s")
_TRANSACTION_ENDS = {TransactionStmtKind.TRANS_STMT_BEGIN, TransactionStmtKind.TRANS_STMT_START,
                     TransactionStmtKind.TRANS_STMT_COMMIT, TransactionStmtKind.TRANS_STMT_ROLLBACK,
                     TransactionStmtKind.TRANS_STMT_PREPARE, TransactionStmtKind.TRANS_STMT_COMMIT_PREPARED,
                     TransactionStmtKind.TRANS_STMT_ROLLBACK_PREPARED}
_TIMEOUTS = ("statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout")
_CONSTRAINT_TYPES = {ConstrType.CONSTR_PRIMARY: "primary", ConstrType.CONSTR_UNIQUE: "unique",
                     ConstrType.CONSTR_FOREIGN: "foreign", ConstrType.CONSTR_CHECK: "check",
                     ConstrType.CONSTR_EXCLUSION: "exclude"}
_SERIALS = {"serial": "serial", "serial4": "serial", "smallserial": "serial", "serial2": "serial",
            "bigserial": "bigserial", "serial8": "bigserial"}


@lru_cache(maxsize=4096)
def _parse(sql: str) -> tuple:
    """(char offset, statement text, statement node or None, offset its nodes' locations count
    from) for each statement.

    A revision file's SQL is parsed once however many times its string is read (a helper called
    twice, upgrade and downgrade reading the same constant)."""
    for text in (sql, _without_parameters(sql)):
        try:
            return tuple((raw.stmt_location, _statement_text(sql, raw), raw.stmt, 0) for raw in pglast.parse_sql(text))
        except pglast.parser.ParseError:
            continue
    return _parse_one_by_one(sql)


def _without_parameters(sql: str) -> str:
    """Placeholders replaced by ``$1`` padded to the same length, so locations stay true."""
    return _PARAMETER.sub(lambda m: "$1".ljust(len(m.group(0))), sql)


def _statement_text(sql: str, raw) -> str:
    end = raw.stmt_location + raw.stmt_len if raw.stmt_len else len(sql)
    return sql[raw.stmt_location:end].strip()


def _parse_one_by_one(sql: str) -> tuple:
    """One statement pglast cannot read (a psql meta-command, a template placeholder, another
    dialect) must not hide the others: sqlparse, which splits without understanding, finds the
    statement boundaries and each statement is parsed alone; what still fails is an ``sql``
    operation with no classification."""
    import sqlparse

    statements, position = [], 0
    for piece in sqlparse.split(sql, strip_semicolon=False):
        start = sql.find(piece, position)
        position = start + len(piece)
        body = piece.rstrip().rstrip(";")
        if not _without_comments(body):
            continue
        try:
            parsed = pglast.parse_sql(_without_parameters(body))
        except pglast.parser.ParseError:
            leading = len(body) - len(body.lstrip())
            statements.append((start + leading, body.strip(), None, start))
            continue
        statements += [(start + raw.stmt_location, _statement_text(body, raw), raw.stmt, start) for raw in parsed]
    return tuple(statements)


_LEADING = re.compile(r"(?:\s+|--[^\n]*|/\*.*?\*/)*", re.DOTALL)


def code_offset(sql: str) -> int:
    """Where the first statement's code starts, after leading whitespace and comments."""
    return _LEADING.match(sql).end()


def _without_comments(text: str) -> str:
    return re.sub(r"--[^\n]*|/\*.*?\*/", " ", text, flags=re.DOTALL).strip()


def read_sql(sql: str, first_line: int) -> Iterator[Operation]:
    """The operations of every statement in ``sql``, whose first character is on ``first_line``."""
    def line_at(offset: int) -> int:
        return first_line + sql.count("\n", 0, max(offset, 0))

    for offset, text, node, base in _parse(sql):
        yield from _Statement(text, line_at(offset), lambda location, base=base: line_at(base + location)).operations(node)


_OUTSIDE_TRANSACTION_ONLY = (ast.CreatedbStmt, ast.DropdbStmt, ast.CreateTableSpaceStmt, ast.DropTableSpaceStmt,
                             ast.CreateSubscriptionStmt, ast.DropSubscriptionStmt, ast.AlterSystemStmt, ast.CallStmt)
_WHOLE_DATABASE_REINDEX = (ReindexObjectType.REINDEX_OBJECT_SCHEMA, ReindexObjectType.REINDEX_OBJECT_DATABASE,
                           ReindexObjectType.REINDEX_OBJECT_SYSTEM)


def needs_no_transaction(sql: str) -> bool:
    """Whether a statement in ``sql`` is one PostgreSQL refuses inside a transaction block, or
    (ALTER TYPE ... ADD VALUE) whose new value cannot be used in the transaction that added it; a
    CALL or a DO block that commits needs the same. A statement the parser refuses counts as
    needing it: no advice on what cannot be read."""
    return any(node is None or _refuses_transaction(node) for _, _, node, _ in _parse(sql))


def _refuses_transaction(node) -> bool:
    if isinstance(node, _OUTSIDE_TRANSACTION_ONLY):
        return True
    if isinstance(node, (ast.IndexStmt, ast.DropStmt)):
        return bool(node.concurrent)
    if isinstance(node, ast.ReindexStmt):
        return node.kind in _WHOLE_DATABASE_REINDEX or any(p.defname == "concurrently" and _truthy_option(p)
                                                            for p in node.params or ())
    if isinstance(node, ast.VacuumStmt):
        return bool(node.is_vacuumcmd)
    if isinstance(node, ast.ClusterStmt):
        return node.relation is None
    if isinstance(node, ast.AlterEnumStmt):
        return node.oldVal is None
    if isinstance(node, ast.AlterDatabaseStmt):
        return any(option.defname == "tablespace" for option in node.options or ())
    if isinstance(node, ast.AlterTableStmt):
        return any(command.subtype == AT.AT_DetachPartition and command.def_.concurrent for command in node.cmds)
    if isinstance(node, ast.DoStmt):
        # the body is PL/pgSQL, not SQL: its transaction control is found by word
        body = " ".join(_name(option.arg) or "" for option in node.args if option.defname == "as")
        return re.search(r"\b(COMMIT|ROLLBACK)\b", _without_comments(body), re.IGNORECASE) is not None
    return False


def _name(node) -> Optional[str]:
    return node.sval if isinstance(node, ast.String) else None


def _names(nodes) -> tuple:
    return tuple(_name(n) for n in nodes or ())


def _relation(range_var) -> Optional[str]:
    return normalize_table(range_var.relname) if range_var is not None else None


def _truthy_option(option) -> bool:
    """A DefElem switched on: ``FULL``, ``FULL TRUE``, ``FULL 1``, ``FULL on`` (not FALSE/0/off)."""
    argument = option.arg
    if argument is None:
        return True
    if isinstance(argument, ast.Integer):
        return argument.ival != 0
    if isinstance(argument, ast.Boolean):
        return argument.boolval
    value = _name(argument) or ""
    return value.lower() not in ("false", "off", "0", "no")


def _constant_text(node) -> Optional[str]:
    """A constant's value as PostgreSQL reads a setting from it (``'10min'``, ``0``, ``1.5``);
    None for anything computed or bound at run time."""
    if not isinstance(node, ast.A_Const) or node.isnull:
        return None
    value = node.val
    if isinstance(value, ast.String):
        return value.sval
    if isinstance(value, ast.Integer):
        return str(value.ival)
    if isinstance(value, ast.Float):
        return value.fval
    return None


def _constant_bool(node) -> Optional[bool]:
    """``set_config``'s is_local: a boolean constant (``true``, ``'on'``, ``'f'``), else None."""
    if isinstance(node, ast.A_Const) and isinstance(node.val, ast.Boolean):
        return bool(node.val.boolval)
    text = (_constant_text(node) or "").strip().lower()
    if text in ("t", "true", "on", "yes", "y", "1"):
        return True
    if text in ("f", "false", "off", "no", "n", "0"):
        return False
    return None


_DURATION = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*(us|ms|s|min|h|d)?\s*")
_MILLISECONDS = {"us": 0.001, "ms": 1, "s": 1000, "min": 60000, "h": 3600000, "d": 86400000}


def duration_ms(text: Optional[str]) -> Optional[float]:
    """A timeout setting's value in milliseconds, as PostgreSQL reads it (a bare number is
    milliseconds; ``us ms s min h d``); 0 means no limit. None when it is not such a value."""
    match = _DURATION.fullmatch(text) if text is not None else None
    if match is None:
        return None
    return float(match.group(1)) * _MILLISECONDS[match.group(2) or "ms"]


def _constraints(column: ast.ColumnDef) -> list:
    return list(column.constraints or ())


def expression_is_volatile(node) -> bool:
    """Whether evaluating ``node`` may call a function not known to be immutable or stable."""
    for child in _walk(node):
        if isinstance(child, ast.FuncCall) and not is_known_non_volatile(_names(child.funcname)):
            return True
    return False


def default_is_volatile(sql_expression: str) -> Optional[bool]:
    """The same for a default written as SQL text (``server_default=sa.text("...")``); None when it
    does not parse."""
    try:
        [raw] = pglast.parse_sql(f"SELECT {sql_expression}")
    except (pglast.parser.ParseError, ValueError):
        return None
    return any(expression_is_volatile(target.val) for target in raw.stmt.targetList or ())


def not_null_check_column(condition: str) -> Optional[str]:
    """The column of a CHECK condition written as text, when it is ``col IS NOT NULL``."""
    try:
        [raw] = pglast.parse_sql(f"SELECT {condition}")
    except (pglast.parser.ParseError, ValueError):
        return None
    targets = raw.stmt.targetList or ()
    return _not_null_column(targets[0].val) if len(targets) == 1 else None


def _walk(node) -> Iterator:
    if isinstance(node, tuple):
        for item in node:
            yield from _walk(item)
    elif isinstance(node, ast.Node):
        yield node
        for attribute in node:
            yield from _walk(getattr(node, attribute))


def _not_null_column(expression) -> Optional[str]:
    """``col IS NOT NULL``: the check PostgreSQL 12+ uses to skip SET NOT NULL's scan."""
    if (isinstance(expression, ast.NullTest) and expression.nulltesttype == pglast.enums.NullTestType.IS_NOT_NULL
            and isinstance(expression.arg, ast.ColumnRef) and len(expression.arg.fields) == 1):
        return _name(expression.arg.fields[0])
    return None


class _Statement:
    """One statement's operations, all on its line (columns of a CREATE TABLE on their own)."""

    def __init__(self, text: str, line: int, line_at: Callable[[int], int]) -> None:
        self.text = text
        self.line = line
        self.line_at = line_at

    def op(self, kind: str, table=None, line: Optional[int] = None, **details) -> Operation:
        return Operation(kind, normalize_table(table), line or self.line, line or self.line, via="sql",
                         details={"statement": self.text[:200], **details})

    def operations(self, node) -> Iterator[Operation]:
        handler = getattr(self, f"_{type(node).__name__}", None) if node is not None else None
        produced = list(handler(node)) if handler else []
        if produced:
            yield from produced
        else:
            yield self.op("sql", command=" ".join(self.text.upper().split()[:2]), parsed=node is not None)

    # -- data and maintenance --------------------------------------------------------------------
    def _DropStmt(self, node):
        if node.removeType == ObjectType.OBJECT_TABLE:
            for name in node.objects:
                yield self.op("drop_table", _names(name)[-1])
        elif node.removeType == ObjectType.OBJECT_INDEX:
            named = [normalize_table(_names(name)[-1]) for name in node.objects or ()]
            yield self.op("drop_index", None, concurrently=bool(node.concurrent), index=named[0] if named else None)

    def _TruncateStmt(self, node):
        for relation in node.relations:
            yield self.op("truncate", _relation(relation))

    def _DeleteStmt(self, node):
        yield self.op("delete", _relation(node.relation), where=node.whereClause is not None)

    def _UpdateStmt(self, node):
        yield self.op("update", _relation(node.relation), where=node.whereClause is not None)

    def _VacuumStmt(self, node):
        if node.is_vacuumcmd and any(o.defname == "full" and _truthy_option(o) for o in node.options or ()):
            yield self.op("vacuum_full")

    def _ClusterStmt(self, node):
        yield self.op("cluster", _relation(node.relation))

    def _ReindexStmt(self, node):
        # the system catalogs cannot be reindexed concurrently: nothing better to recommend
        if node.kind != ReindexObjectType.REINDEX_OBJECT_SYSTEM:
            yield self.op("reindex", concurrently=any(p.defname == "concurrently" and _truthy_option(p)
                                                      for p in node.params or ()))

    def _LockStmt(self, node):
        for relation in node.relations:
            yield self.op("lock_table", _relation(relation))

    def _TransactionStmt(self, node):
        if node.kind in _TRANSACTION_ENDS:
            yield self.op("transaction_control", None, command=self.text.split()[0].upper())

    def _VariableSetStmt(self, node):
        # a timeout's SET, SET LOCAL, SET SESSION, SET ... TO DEFAULT and RESET: what the rule
        # timeout-override reads (whether it outlives the revision, what it sets lock_timeout to)
        if node.kind == VariableSetKind.VAR_RESET_ALL:
            yield self.op("sql", command="RESET ALL", parsed=True, resets_all=True)
        elif node.name in _TIMEOUTS:
            if node.kind in (VariableSetKind.VAR_RESET, VariableSetKind.VAR_SET_DEFAULT):
                yield self.op("timeout_override", None, setting=node.name, action="reset", local=bool(node.is_local))
            else:
                value = _constant_text(node.args[0]) if node.kind == VariableSetKind.VAR_SET_VALUE and \
                    len(node.args or ()) == 1 else None
                yield self.op("timeout_override", None, setting=node.name, action="set", local=bool(node.is_local),
                              value=value, )

    def _SelectStmt(self, node):
        for child in _walk(node):
            if isinstance(child, ast.FuncCall) and _names(child.funcname)[-1] == "set_config" and child.args:
                setting = child.args[0]
                value = _name(setting.val) if isinstance(setting, ast.A_Const) else None
                if value in _TIMEOUTS:
                    arguments = list(child.args) + [None, None]
                    yield self.op("timeout_override", None, setting=value, action="set",
                                  local=_constant_bool(arguments[2]), value=_constant_text(arguments[1]))

    # -- types and schemas ---------------------------------------------------------------------
    def _AlterEnumStmt(self, node):
        type_name = normalize_table(_names(node.typeName)[-1])
        if node.oldVal:
            yield self.op("rename_enum_value", type_name, type_name=type_name, value=node.oldVal)
        else:
            yield self.op("enum_add_value", None, type_name=type_name, value=node.newVal)

    def _CreateEnumStmt(self, node):
        yield self.op("create_type", _names(node.typeName)[-1])

    def _CreateSchemaStmt(self, node):
        yield self.op("create_schema", node.schemaname)

    def _RenameStmt(self, node):
        kind = node.renameType
        if kind == ObjectType.OBJECT_TABLE:
            yield self.op("rename_table", _relation(node.relation), new_table=normalize_table(node.newname))
        elif kind == ObjectType.OBJECT_COLUMN and node.relationType == ObjectType.OBJECT_TABLE:
            yield self.op("rename_column", _relation(node.relation), column=node.subname)
        elif kind == ObjectType.OBJECT_SCHEMA:
            yield self.op("rename_schema", node.subname, schema=node.subname)

    # -- tables and indexes --------------------------------------------------------------------
    def _IndexStmt(self, node):
        yield self.op("create_index", _relation(node.relation), concurrently=bool(node.concurrent),
                      unique=bool(node.unique), name=node.idxname,
                      index=normalize_table(node.idxname) if node.idxname else None,
                      columns=tuple(e.name for e in node.indexParams or () if e.name))

    def _CreateStmt(self, node):
        table = _relation(node.relation)
        yield self.op("create_table", table)
        for element in node.tableElts or ():
            if isinstance(element, ast.ColumnDef):
                yield self._column(table, element)

    def _CreateTableAsStmt(self, node):
        if node.objtype == ObjectType.OBJECT_TABLE:
            yield self.op("create_table", _relation(node.into.rel))

    def _AlterTableMoveAllStmt(self, node):
        yield self.op("set_tablespace", None, what=f"everything in tablespace {node.orig_tablespacename}")

    def _AlterTableStmt(self, node):
        name = _relation(node.relation)
        on_table = node.objtype == ObjectType.OBJECT_TABLE
        table = name if on_table else None
        for command in node.cmds:
            subtype = command.subtype
            if subtype == AT.AT_SetTableSpace:
                what = f"table {name}" if on_table else f"{ObjectType(node.objtype).name[7:].lower()} {name}"
                yield self.op("set_tablespace", table, what=what)
            elif not on_table:
                yield self.op("alter_table_other", None)
            elif subtype == AT.AT_AddColumn:
                yield from self._add_column(table, command.def_)
            elif subtype == AT.AT_DropColumn:
                yield self.op("drop_column", table, column=command.name)
            elif subtype == AT.AT_AlterColumnType:
                yield self._alter_type(table, command)
            elif subtype == AT.AT_SetNotNull:
                yield self.op("set_not_null", table, column=command.name)
            elif subtype == AT.AT_ColumnDefault and command.def_ is None:
                yield self.op("drop_default", table, column=command.name)
            elif subtype == AT.AT_AddConstraint:
                yield self._add_constraint(table, command.def_)
            elif subtype == AT.AT_ValidateConstraint:
                yield self.op("validate_constraint", table, name=normalize_table(command.name))
            else:
                yield self.op("alter_table_other", table, subtype=AT(subtype).name)

    def _add_constraint(self, table, constraint: ast.Constraint) -> Operation:
        kind = _CONSTRAINT_TYPES.get(constraint.contype, "other")
        return self.op("add_constraint", table, constraint_type=kind, not_valid=bool(constraint.skip_validation),
                       using_index=constraint.indexname, name=normalize_table(constraint.conname),
                       not_null_column=_not_null_column(constraint.raw_expr) if kind == "check" else None)

    def _alter_type(self, table, command) -> Operation:
        type_name = command.def_.typeName
        key = type_name_key(type_name)
        using = command.def_.raw_default is not None
        # without the old type, a target some other types reach in the catalog alone may be a
        # widening; USING computes every value anew
        maybe_widening = key is not None and key[0] in _WIDENING_TARGETS and not using
        return self.op("alter_type", table, column=command.name, verdict="unknown" if maybe_widening else "rewrite",
                       change=f"to {describe_key(key)}" + (" using an expression" if using else ""), new_type_key=key)

    def _add_column(self, table, column: ast.ColumnDef) -> Iterator[Operation]:
        described = self._column(table, column)
        kinds = {c.contype for c in _constraints(column)}
        default = next((c.raw_expr for c in _constraints(column) if c.contype == ConstrType.CONSTR_DEFAULT), None)
        generated = ConstrType.CONSTR_GENERATED in kinds
        sequence = described.get("identity") or described.get("serial")
        primary = ConstrType.CONSTR_PRIMARY in kinds
        inline = sorted(name for contype, name in ((ConstrType.CONSTR_UNIQUE, "UNIQUE"),
                                                   (ConstrType.CONSTR_PRIMARY, "PRIMARY KEY"),
                                                   (ConstrType.CONSTR_FOREIGN, "REFERENCES")) if contype in kinds)
        # identity and serial fill every existing row from a sequence: a rewrite like a volatile default
        yield self.op("add_column", table, column=column.colname,
                      nullable=not (column.is_not_null or ConstrType.CONSTR_NOTNULL in kinds or primary),
                      has_default=default is not None or generated or bool(sequence),
                      default_volatile=bool(sequence) or (default is not None and expression_is_volatile(default)),
                      primary_key=primary, generated_stored=generated, inline_constraints=tuple(inline))
        yield described

    def _column(self, table, column: ast.ColumnDef) -> Operation:
        type_name = column.typeName
        written = _names(type_name.names)[-1] if type_name is not None else ""
        serial = _SERIALS.get(written) if type_name is not None and len(type_name.names) == 1 else None
        kinds = {c.contype for c in _constraints(column)}
        line = self.line_at(column.location) if column.location is not None and column.location >= 0 else None
        return self.op("column", table, line=line, column=column.colname, serial=serial,
                       type_key=type_name_key(type_name) if type_name is not None else None,
                       array=bool(type_name is not None and type_name.arrayBounds),
                       primary_key=ConstrType.CONSTR_PRIMARY in kinds,
                       identity=ConstrType.CONSTR_IDENTITY in kinds,
                       not_null=bool(column.is_not_null) or bool(kinds & {ConstrType.CONSTR_NOTNULL,
                                                                            ConstrType.CONSTR_PRIMARY}))


_WIDENING_TARGETS = ("text", "citext", "varchar", "numeric", "inet", "time", "timetz", "timestamp", "timestamptz",
                     "interval")
