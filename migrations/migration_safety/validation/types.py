"""Whether ``alter_column(existing_type=A, type_=B)`` rewrites the table on PostgreSQL.

SQLAlchemy type expressions are reduced to the PostgreSQL type they render (``Float()`` and
``Float(53)`` are both double precision; ``String()`` without a length is unbounded varchar,
stored like text). PostgreSQL changes a type without a rewrite when the old one is binary
coercible to the new (pg_cast's castmethod 'b': varchar, text and citext among each other, cidr to
inet) and the new one's modifier accepts every old value: varchar(n) to varchar(m >= n) or text,
numeric(p, s) to numeric(q >= p, s) or unconstrained numeric, time/timestamp/interval(p) to a
precision >= p. A modifier that accepts fewer values (a shorter varchar, a smaller numeric
precision or scale, fewer fractional digits of time) is a narrowing: a rewrite that rounds or
fails on existing values.

SQL types (a statement's or the catalog's ``format_type``) are read by PostgreSQL's parser
(pglast) into the same keys."""
from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Optional

_FAMILIES = {
    "text": ("Text", "TEXT", "UnicodeText", "CLOB"),
    "varchar": ("String", "VARCHAR", "Unicode", "NVARCHAR", "CHARACTER_VARYING"),
    "char": ("CHAR", "NCHAR"),
    "float": ("Float", "FLOAT"),
    "float8": ("DOUBLE_PRECISION", "Double", "DOUBLE"),
    "float4": ("REAL",),
    "numeric": ("Numeric", "NUMERIC", "DECIMAL"),
    "int4": ("Integer", "INTEGER", "INT"),
    "int8": ("BigInteger", "BIGINT"),
    "int2": ("SmallInteger", "SMALLINT"),
    "bool": ("Boolean", "BOOLEAN"),
    "timestamp": ("DateTime", "TIMESTAMP"),
    "date": ("Date", "DATE"),
    "time": ("Time", "TIME"),
    "interval": ("Interval", "INTERVAL"),
    "citext": ("CITEXT", "CIText"),
    "inet": ("INET",),
    "cidr": ("CIDR",),
    "json": ("JSON",),
    "jsonb": ("JSONB",),
    "uuid": ("UUID", "Uuid"),
    "bytea": ("LargeBinary", "BYTEA", "BLOB", "BINARY", "VARBINARY"),
    "enum": ("Enum", "ENUM"),
}
_BY_NAME = {name: family for family, names in _FAMILIES.items() for name in names}


def _name(node) -> str:
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""


def _argument(call, position: int, keyword: str):
    if not isinstance(call, ast.Call):
        return None
    for k in call.keywords:
        if k.arg == keyword:
            return k.value
    return call.args[position] if len(call.args) > position else None


def _postgresql_type(node):
    """``T.with_variant(V, "mysql")`` is T on PostgreSQL; ``with_variant(V, "postgresql")`` is V."""
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "with_variant":
        dialect = node.args[1] if len(node.args) > 1 else None
        if isinstance(dialect, ast.Constant) and dialect.value == "postgresql" and node.args:
            return node.args[0]
        node = node.func.value
    return node


def type_key(node, value: Callable) -> Optional[tuple]:
    """The PostgreSQL type a SQLAlchemy type expression renders, as a comparable tuple; None if unknown."""
    node = _postgresql_type(node)
    family = _BY_NAME.get(_name(node))
    if family is None:
        return None

    def number(position, keyword):
        argument = _argument(node, position, keyword)
        if argument is None:
            return None
        result = value(argument)
        return result if isinstance(result, int) else "?"

    if family == "varchar":
        length = number(0, "length")
        return ("text",) if length is None else ("varchar", length)
    if family == "char":
        return ("char", number(0, "length") or 1)
    if family == "float":
        precision = number(0, "precision")
        if precision == "?":
            return None
        return ("float4",) if precision is not None and precision <= 24 else ("float8",)
    if family == "numeric":
        return ("numeric", number(0, "precision"), number(1, "scale"))
    if family == "interval":
        precision = number(99, "precision")
        return ("interval", _FULL_PRECISION if precision is None else precision)
    if family in ("timestamp", "time"):
        timezone = _argument(node, 0, "timezone")
        precision = number(99, "precision")
        zoned = isinstance(timezone, ast.Constant) and timezone.value
        return (family + "tz" if zoned else family, _FULL_PRECISION if precision is None else precision)
    if family == "enum":
        native = _argument(node, 99, "native_enum")
        if isinstance(native, ast.Constant) and native.value is False:
            check = _argument(node, 99, "create_constraint")
            return ("nonnative_enum", isinstance(check, ast.Constant) and bool(check.value))
        name = _argument(node, 99, "name")
        return ("enum", name.value if isinstance(name, ast.Constant) else "?")
    return (family,)


def compare_types(existing, new, value: Callable) -> tuple[str, str]:
    """(verdict, "old -> new") where verdict is same, coercible, check (a CHECK constraint is added:
    a scan), rewrite, unknown, or no_existing_type."""
    new_key = type_key(new, value)
    described = ast.unparse(new)
    if existing is None:
        return "no_existing_type", f"to {described}"
    old_key = type_key(existing, value)
    described = f"{ast.unparse(existing)} -> {described}"
    if old_key is None or new_key is None:
        same = ast.unparse(_postgresql_type(existing)) == ast.unparse(_postgresql_type(new))
        return ("same" if same else "unknown"), described
    return compare_keys(old_key, new_key), described


_FULL_PRECISION = 6       # time, timestamp and interval without (p) keep microseconds
_BINARY_COERCIBLE = {("cidr", "inet")}
_TEXTS = ("varchar", "text", "citext", "nonnative_enum")


def compare_keys(old_key: tuple, new_key: tuple) -> str:
    """The verdict for two known types (see compare_types): same, coercible, check, narrowing
    (a rewrite that rounds or rejects existing values), rewrite or unknown."""
    if new_key[0] == "nonnative_enum":
        return "check" if new_key[1] else "coercible"
    if old_key == new_key and "?" not in old_key:
        return "same"
    if old_key[0] in _TEXTS and new_key in (("text",), ("citext",)):
        return "coercible"
    if (old_key[0], new_key[0]) in _BINARY_COERCIBLE:
        return "coercible"
    if old_key[0] == "varchar" and new_key[0] == "varchar":
        if "?" in (old_key[1], new_key[1]):
            return "unknown"
        return "coercible" if new_key[1] >= old_key[1] else "narrowing"
    if old_key[0] == new_key[0] and old_key[0] in ("time", "timetz", "timestamp", "timestamptz", "interval"):
        if "?" in (old_key[1], new_key[1]):
            return "unknown"
        return "coercible" if new_key[1] >= old_key[1] else "narrowing"
    if old_key[0] == "numeric" and new_key[0] == "numeric":
        if new_key[1:] == (None, None):
            return "coercible"
        if "?" in old_key + new_key:
            return "unknown"
        if old_key[1] is None:
            return "narrowing"            # unconstrained numeric holds any value
        old_scale, new_scale = old_key[2] or 0, new_key[2] or 0
        if new_scale == old_scale and new_key[1] >= old_key[1]:
            return "coercible"
        if new_scale < old_scale or new_key[1] - new_scale < old_key[1] - old_scale:
            return "narrowing"
        return "rewrite"
    if old_key[0] == "enum" and new_key[0] == "enum" and old_key[1] == new_key[1] != "?":
        return "same"            # the same PostgreSQL type; values are added with ALTER TYPE
    return "rewrite"


_TYPE_NAMES = {"int": "int4", "integer": "int4", "smallint": "int2", "bigint": "int8", "real": "float4",
               "float": "float8", "double": "float8", "boolean": "bool", "decimal": "numeric", "bpchar": "char",
               "serial": "int4", "serial4": "int4", "smallserial": "int2", "serial2": "int2", "bigserial": "int8",
               "serial8": "int8"}


def type_name_key(type_name) -> Optional[tuple]:
    """The key of a type as PostgreSQL's parser gives it (a pglast ``TypeName``): ``int4`` and
    ``pg_catalog.int4`` alike, ``varchar`` with or without a length, arrays as ("array", key)."""
    from pglast import ast as pg

    names = [n.sval.lower() for n in type_name.names if isinstance(n, pg.String)]
    if len(names) == 2 and names[0] == "pg_catalog":
        names = names[1:]
    if len(names) != 1:
        return (".".join(names),) if names else None
    name = _TYPE_NAMES.get(names[0], names[0])
    modifiers = []
    for modifier in type_name.typmods or ():
        value = getattr(modifier, "val", None)
        modifiers.append(value.ival if isinstance(value, pg.Integer) else "?")
    if name == "varchar":
        key = ("varchar", modifiers[0]) if modifiers else ("text",)
    elif name == "char":
        key = ("char", modifiers[0] if modifiers else 1)
    elif name == "numeric":
        precision = modifiers[0] if modifiers else None
        scale = modifiers[1] if len(modifiers) > 1 else (0 if precision is not None else None)
        key = ("numeric", precision, scale)
    elif name in ("time", "timetz", "timestamp", "timestamptz"):
        key = (name, modifiers[0] if modifiers else _FULL_PRECISION)
    elif name == "interval":
        # INTERVAL's modifiers are (fields, precision); a bare interval has none
        key = ("interval", modifiers[-1] if len(modifiers) == 2 else _FULL_PRECISION)
    elif name in ("float8", "float4") and modifiers:
        key = ("float4",) if modifiers[0] != "?" and modifiers[0] <= 24 else ("float8",)
    else:
        key = (name,)
    return ("array", key) if type_name.arrayBounds else key


@lru_cache(maxsize=1024)
def sql_type_key(text: str) -> Optional[tuple]:
    """The same key for a type written in SQL or reported by the catalog (format_type):
    ``character varying(255)``, ``numeric(10,2)``, ``time(3) without time zone``."""
    import pglast

    try:
        [raw] = pglast.parse_sql(f"SELECT NULL::{text}")
    except (pglast.parser.ParseError, ValueError):
        return None
    return type_name_key(raw.stmt.targetList[0].val.typeName)


# -- what a type expression is on PostgreSQL, read without importing the project ----------------

_TYPE_BASES = ("TypeDecorator", "UserDefinedType", "TypeEngine", "ExternalType")
_FOLLOW_LIMIT = 4


@dataclass(frozen=True)
class PostgresType:
    """A column's type as PostgreSQL gets it: ``node`` the SQLAlchemy type expression it reduces to
    (``name`` its class name, "" when not known), or ``unverified``, why it cannot be known without
    importing the project (a project type whose file cannot be found, or one decided at run time)."""
    node: Optional[ast.expr]
    name: str = ""
    unverified: Optional[str] = None


def _imports(tree: ast.Module, package: str = "") -> dict:
    """local name -> the dotted name it was imported as (``sa`` -> ``sqlalchemy``, ``JSONB`` ->
    ``sqlalchemy.dialects.postgresql.JSONB``); relative imports are resolved within ``package``."""
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Import):
            for alias in node.names:
                found[alias.asname or alias.name.split(".")[0]] = alias.name if alias.asname else alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                parts = package.split(".") if package else []
                if not parts or node.level - 1 > len(parts):
                    continue
                module = ".".join(parts[:len(parts) - (node.level - 1)] + ([module] if module else []))
            if module:
                for alias in node.names:
                    found[alias.asname or alias.name] = f"{module}.{alias.name}"
    return found


def _dotted(node) -> Optional[list]:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return [node.id] + parts[::-1]
    return None


def _is_postgresql_test(test) -> Optional[bool]:
    """True for ``dialect.name == "postgresql"`` (or ``in (...)``), False for ``!=``/``not in``,
    None for anything else."""
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1):
        return None
    values = [test.left, *test.comparators]
    named = any(isinstance(v, ast.Constant) and v.value == "postgresql" for v in values) or any(
        isinstance(v, (ast.Tuple, ast.List, ast.Set)) and any(
            isinstance(e, ast.Constant) and e.value == "postgresql" for e in v.elts) for v in values)
    if not named:
        return None
    if isinstance(test.ops[0], (ast.Eq, ast.In, ast.Is)):
        return True
    if isinstance(test.ops[0], (ast.NotEq, ast.NotIn, ast.IsNot)):
        return False
    return None


def _returned_type(statements) -> Optional[ast.expr]:
    """The type ``load_dialect_impl`` returns on PostgreSQL (``dialect.type_descriptor(T())`` -> T())."""
    for statement in statements:
        if isinstance(statement, ast.If):
            on_postgresql = _is_postgresql_test(statement.test)
            if on_postgresql is True:
                return _returned_type(statement.body)
            if on_postgresql is False:
                if statement.orelse:
                    return _returned_type(statement.orelse)
                continue          # the PostgreSQL case is after the if
            return None           # a test we cannot read
        if isinstance(statement, ast.Return) and statement.value is not None:
            value = statement.value
            if isinstance(value, ast.Call) and _name(value) == "type_descriptor" and value.args:
                value = value.args[0]
            return value
    return None


class TypeReader:
    """Reads the type expressions of one Python file (a revision, or a project module it imports
    a type from) in the light of that file's imports and classes. A type from the project is looked
    for as a source file under ``module_paths`` (never imported) and its class read: ``impl``, a
    PostgreSQL branch of ``load_dialect_impl``, or a SQLAlchemy base class."""

    def __init__(self, tree: ast.Module, module_paths=(), depth: int = 0, package: str = "") -> None:
        self.imports = _imports(tree, package)
        self.classes = {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}
        self.assigned = {target.id: node.value for node in tree.body if isinstance(node, ast.Assign)
                         for target in node.targets if isinstance(target, ast.Name)}
        self.module_paths = tuple(module_paths)
        self.depth = depth
        # the project's types looked for, found or not: what they are can change while the revision
        # does not (their module edited, created, or module_paths set)
        self.project_types: list = []
        self._steps = 0

    def on_postgresql(self, node) -> PostgresType:
        self._steps += 1
        if self._steps > 50:           # names that refer to each other
            return PostgresType(None, unverified="a type defined in terms of itself")
        node = _postgresql_type(node)
        reference = node.func if isinstance(node, ast.Call) else node
        dotted = _dotted(reference)
        if dotted is None:
            return PostgresType(node, _name(node))
        root = dotted[0]
        if len(dotted) == 1 and root in self.classes:
            return self._class(self.classes[root], self)
        if len(dotted) == 1 and root in self.assigned and root not in self.imports:
            return self.on_postgresql(self.assigned[root])      # JsonType = JSONB().with_variant(...)
        if root not in self.imports:
            return PostgresType(node, dotted[-1])       # a bare name: judged by its name, as before
        origin = ".".join([self.imports[root], *dotted[1:]])
        if origin.split(".")[0] in ("sqlalchemy", "alembic", "geoalchemy2"):
            return PostgresType(node, dotted[-1])
        return self._project_type(origin)

    def _project_type(self, origin: str) -> PostgresType:
        self.project_types.append(origin)
        module, _, name = origin.rpartition(".")
        if self.depth >= _FOLLOW_LIMIT or not module:
            return PostgresType(None, unverified=f"{origin} is a type of the project")
        path = self._module_file(module)
        if path is None:
            return PostgresType(None, unverified=f"{origin} is a type of the project whose source was not found "
                                                 "(it would have to be imported)")
        try:
            tree = ast.parse(path.read_bytes(), filename=str(path))
        except (OSError, SyntaxError, ValueError):
            return PostgresType(None, unverified=f"{origin}: {path} cannot be read")
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        reader = TypeReader(tree, self.module_paths, self.depth + 1, package)
        reader.project_types = self.project_types   # one list for the whole chain of modules followed
        if name in reader.classes:
            return self._class(reader.classes[name], reader, origin)
        if name in reader.imports or name in reader.assigned:      # re-exported, or an alias
            return reader.on_postgresql(ast.Name(name))
        return PostgresType(None, unverified=f"{origin} is not a class of {path.name}")

    def _module_file(self, module: str) -> Optional[Path]:
        parts = module.split(".")
        for root in self.module_paths:
            base = Path(root).joinpath(*parts)
            for candidate in (base.with_suffix(".py"), base / "__init__.py"):
                if candidate.is_file():
                    return candidate
        return None

    def _class(self, node: ast.ClassDef, reader: "TypeReader", origin: Optional[str] = None) -> PostgresType:
        origin = origin or node.name
        for statement in node.body:
            if isinstance(statement, ast.FunctionDef) and statement.name == "load_dialect_impl":
                returned = _returned_type(statement.body)
                if returned is None:
                    return PostgresType(None, unverified=f"{origin} decides its PostgreSQL type in "
                                                         "load_dialect_impl() in a way that cannot be read")
                if isinstance(returned, ast.Attribute) and returned.attr == "impl":
                    break               # self.impl: the class's impl, below
                return reader.on_postgresql(returned)
        for statement in node.body:
            if isinstance(statement, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == "impl" for t in statement.targets):
                return reader.on_postgresql(statement.value)
        for base in node.bases:
            if _name(base) not in _TYPE_BASES:
                return reader.on_postgresql(base)
        return PostgresType(None, unverified=f"{origin} is a custom type whose PostgreSQL type cannot be read")


def describe_key(key: Optional[tuple]) -> str:
    """A key written back as SQL for a message: ("varchar", 20) -> varchar(20)."""
    if key is None:
        return "another type"
    if key[0] == "array":
        return f"{describe_key(key[1])}[]"
    modifiers = [str(m) for m in key[1:] if m is not None]
    return f"{key[0]}({', '.join(modifiers)})" if modifiers else key[0]
