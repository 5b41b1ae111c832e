"""Whether ``alter_column(existing_type=A, type_=B)`` rewrites the table on PostgreSQL.

SQLAlchemy type expressions are reduced to the PostgreSQL type they render (``Float()`` and
``Float(53)`` are both double precision; ``String()`` without a length is unbounded varchar,
stored like text). PostgreSQL changes a type without a rewrite when the old one is binary
coercible to the new and the new one's modifier accepts every old value: varchar(n) to
varchar(m >= n) or text, numeric(p, s) to numeric(q >= p, s) or unconstrained numeric."""
from __future__ import annotations

import ast
from dataclasses import dataclass
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
    if family == "timestamp":
        timezone = _argument(node, 0, "timezone")
        return ("timestamptz",) if isinstance(timezone, ast.Constant) and timezone.value else ("timestamp",)
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


def compare_keys(old_key: tuple, new_key: tuple) -> str:
    """The verdict for two known types (see compare_types)."""
    if new_key[0] == "nonnative_enum":
        return "check" if new_key[1] else "coercible"
    if old_key == new_key and "?" not in old_key:
        return "same"
    if old_key[0] in ("varchar", "text", "nonnative_enum") and new_key == ("text",):
        return "coercible"
    if old_key[0] == "varchar" and new_key[0] == "varchar":
        if "?" in (old_key[1], new_key[1]):
            return "unknown"
        return "coercible" if new_key[1] >= old_key[1] else "rewrite"
    if old_key[0] == "numeric" and new_key[0] == "numeric":
        if new_key[1:] == (None, None):
            return "coercible"
        if "?" in old_key + new_key:
            return "unknown"
        same_scale = (old_key[2] or 0) == (new_key[2] or 0)
        wider = old_key[1] is not None and new_key[1] >= old_key[1]
        return "coercible" if same_scale and wider else "rewrite"
    if old_key[0] == "enum" and new_key[0] == "enum" and old_key[1] == new_key[1] != "?":
        return "same"            # the same PostgreSQL type; values are added with ALTER TYPE
    return "rewrite"


_SQL_TYPES = {"text": "text", "double precision": "float8", "float8": "float8", "float": "float8",
              "real": "float4", "float4": "float4", "integer": "int4", "int": "int4", "int4": "int4",
              "bigint": "int8", "int8": "int8", "smallint": "int2", "int2": "int2", "boolean": "bool",
              "bool": "bool", "timestamp without time zone": "timestamp", "timestamp": "timestamp",
              "timestamp with time zone": "timestamptz", "timestamptz": "timestamptz", "date": "date",
              "json": "json", "jsonb": "jsonb", "uuid": "uuid", "bytea": "bytea", "interval": "interval"}


def sql_type_key(text: str) -> Optional[tuple]:
    """The same key for a type written in SQL or reported by the catalog (format_type):
    ``character varying(255)``, ``numeric(10,2)``, ``double precision``."""
    import re

    text = " ".join(text.lower().split())
    match = re.match(r"(character varying|varchar)\s*(?:\((\d+)\))?$", text)
    if match:
        return ("varchar", int(match.group(2))) if match.group(2) else ("text",)
    match = re.match(r"(numeric|decimal)\s*(?:\((\d+)\s*(?:,\s*(\d+))?\))?$", text)
    if match:
        precision = int(match.group(2)) if match.group(2) else None
        scale = int(match.group(3)) if match.group(3) else (0 if precision is not None else None)
        return ("numeric", precision, scale)
    family = _SQL_TYPES.get(text)
    return (family,) if family else None


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
