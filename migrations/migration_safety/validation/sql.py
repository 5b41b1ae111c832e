"""SQL inside ``op.execute``: split with sqlparse, classified into Operations with patterns that
follow PostgreSQL's grammar closely enough for migrations (comments and string literals removed
first)."""
from __future__ import annotations

import re
from typing import Iterator

from .operations import Operation, is_volatile_default, normalize_table
from .types import sql_type_key

IDENT = r'(?:"[^"]+"|[\w$]+)(?:\.(?:"[^"]+"|[\w$]+))?'
_FLAGS = re.IGNORECASE | re.DOTALL


def split_statements(sql: str) -> list[tuple[int, str]]:
    """(line offset within the string, statement without comments) for each statement.

    sqlparse's splitter lexes once and yields flat token lists; comments are dropped from those
    tokens directly (sqlparse.format would re-lex and group every statement, 4x slower)."""
    from sqlparse import tokens as T
    from sqlparse.engine import FilterStack

    statements = []
    line = 0
    for statement in FilterStack().run(sql):
        start_line = line
        text = []
        leading = True
        for token in statement.flatten():
            value = token.value
            if leading and (token.is_whitespace or token.ttype in T.Comment):
                start_line += value.count("\n")
                line += value.count("\n")
                continue
            leading = False
            line += value.count("\n")
            if token.ttype in T.Comment:
                text.append(" ")
            else:
                text.append(value)
        cleaned = "".join(text).strip().rstrip(";").strip()
        if cleaned:
            statements.append((start_line, cleaned))
    return statements


def _without_literals(statement: str) -> str:
    return re.sub(r"'(?:[^']|'')*'", "''", statement)


def _split_top_level(body: str) -> list[str]:
    parts, depth, current = [], 0, []
    for char in body:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    if "".join(current).strip():
        parts.append("".join(current))
    return [p.strip() for p in parts]


def classify(statement: str, line: int) -> Iterator[Operation]:
    """Operations one SQL statement performs (none for the harmless ones)."""
    text = " ".join(_without_literals(statement).split())
    upper = text.upper()

    def op(kind, table=None, **details):
        return Operation(kind, normalize_table(table), line, line, via="sql",
                         details={"statement": statement[:200], **details})

    if upper.startswith("DROP TABLE"):
        for name in re.sub(r"(?i)^DROP TABLE (IF EXISTS )?", "", text).split(" ")[0].split(","):
            yield op("drop_table", name)
        return
    if upper.startswith("TRUNCATE"):
        match = re.match(rf"TRUNCATE (?:TABLE )?(?:ONLY )?({IDENT})", text, _FLAGS)
        yield op("truncate", match.group(1) if match else None)
        return
    if upper.startswith("DELETE FROM"):
        match = re.match(rf"DELETE FROM (?:ONLY )?({IDENT})", text, _FLAGS)
        yield op("delete", match.group(1) if match else None, where=" WHERE " in f" {upper} ")
        return
    if upper.startswith("UPDATE "):
        match = re.match(rf"UPDATE (?:ONLY )?({IDENT})", text, _FLAGS)
        yield op("update", match.group(1) if match else None, where=" WHERE " in f" {upper} ")
        return
    if upper.startswith("VACUUM") and re.match(r"VACUUM\s*(\(.*FULL.*\)|FULL)", upper):
        yield op("vacuum_full")
        return
    if upper.startswith("CLUSTER"):
        yield op("cluster")
        return
    if upper.startswith("REINDEX"):
        yield op("reindex", concurrently="CONCURRENTLY" in upper)
        return
    if upper.startswith("LOCK "):
        match = re.match(rf"LOCK (?:TABLE )?(?:ONLY )?({IDENT})", text, _FLAGS)
        yield op("lock_table", match.group(1) if match else None)
        return
    match = re.match(rf"ALTER TYPE ({IDENT}) ADD VALUE (?:IF NOT EXISTS )?'", text, _FLAGS)
    if match:
        value = re.search(r"ADD VALUE\s+(?:IF NOT EXISTS\s+)?'((?:[^']|'')*)'", statement, _FLAGS)
        yield op("enum_add_value", None, type_name=normalize_table(match.group(1)),
                 value=value.group(1) if value else None)
        return
    if re.match(r"(COMMIT|ROLLBACK|ABORT|END|BEGIN|START TRANSACTION|PREPARE TRANSACTION)\b", upper) and not \
            re.match(r"BEGIN\s+ATOMIC", upper):
        yield op("transaction_control", None, command=upper.split()[0])
        return
    match = re.match(r"SET (?:SESSION |LOCAL )?(STATEMENT_TIMEOUT|LOCK_TIMEOUT|IDLE_IN_TRANSACTION_SESSION_TIMEOUT)\b",
                     upper) or re.search(r"SET_CONFIG\s*\(\s*'(STATEMENT_TIMEOUT|LOCK_TIMEOUT)'",
                                         statement.upper())
    if match:
        yield op("timeout_override", None, setting=match.group(1).lower())
        return
    match = re.match(rf"CREATE (UNIQUE )?INDEX (CONCURRENTLY )?(?:IF NOT EXISTS )?(?:({IDENT}) )?ON (?:ONLY )?({IDENT})",
                     text, _FLAGS)
    if match:
        yield op("create_index", match.group(4), concurrently=bool(match.group(2)), unique=bool(match.group(1)),
                 index=normalize_table(match.group(3)))
        return
    if upper.startswith("DROP INDEX"):
        match = re.match(rf"DROP INDEX (?:CONCURRENTLY )?(?:IF EXISTS )?({IDENT})", text, _FLAGS)
        yield op("drop_index", None, concurrently="CONCURRENTLY" in upper,
                 index=normalize_table(match.group(1)) if match else None)
        return
    match = re.match(rf"CREATE (?:UNLOGGED |TEMP |TEMPORARY )?TABLE (?:IF NOT EXISTS )?({IDENT})\s*\((.*)\)", text, _FLAGS)
    if match:
        table = match.group(1)
        yield op("create_table", table)
        for definition in _split_top_level(match.group(2)):
            if re.match(r"(CONSTRAINT|PRIMARY KEY|UNIQUE|FOREIGN KEY|CHECK|EXCLUDE|LIKE)\b", definition, re.I):
                continue
            yield _column(op, table, definition)
        return
    match = re.match(rf"ALTER TABLE (?:IF EXISTS )?(?:ONLY )?({IDENT}) (.*)", text, _FLAGS)
    if match:
        yield from _alter_table(op, match.group(1), match.group(2))
        return
    # anything else (INSERT, SELECT, COMMENT ON, CREATE FUNCTION, ...): no hazard of its own, but
    # sequence rules and the downgrade check see it
    yield op("sql", None, command=" ".join(upper.split()[:2]))


def _column(op, table: str, definition: str):
    parts = definition.split(None, 1)
    name = parts[0].strip('"')
    rest = parts[1] if len(parts) > 1 else ""
    upper = rest.upper()
    return op("column", table, column=name, type_text=rest.split(" ")[0] if rest else "",
              sql_type=upper, primary_key="PRIMARY KEY" in upper, identity="IDENTITY" in upper)


def _alter_table(op, table: str, actions: str):
    for action in _split_top_level(actions):
        upper = action.upper()
        if upper.startswith("RENAME TO"):
            yield op("rename_table", table, new_table=normalize_table(action.split(None, 2)[2]))
        elif upper.startswith("RENAME "):
            if not upper.startswith("RENAME CONSTRAINT"):
                column = re.match(rf"RENAME (?:COLUMN )?({IDENT})", action, _FLAGS)
                yield op("rename_column", table, column=normalize_table(column.group(1)) if column else None)
        elif upper.startswith("DROP COLUMN") or (upper.startswith("DROP ") and not re.match(
                r"DROP (CONSTRAINT|DEFAULT|NOT NULL|IDENTITY|EXPRESSION)", upper)):
            yield op("drop_column", table)
        elif upper.startswith("ADD CONSTRAINT") or re.match(r"ADD (PRIMARY KEY|UNIQUE|FOREIGN KEY|CHECK)", upper):
            ctype = ("primary" if "PRIMARY KEY" in upper else "unique" if re.search(r"\bUNIQUE\b", upper)
                     else "foreign" if "FOREIGN KEY" in upper or "REFERENCES" in upper
                     else "check" if "CHECK" in upper else "other")
            name = re.match(rf"ADD CONSTRAINT ({IDENT})", action, _FLAGS)
            yield op("add_constraint", table, constraint_type=ctype, not_valid="NOT VALID" in upper,
                     using_index="USING INDEX" in upper, name=normalize_table(name.group(1)) if name else None)
        elif upper.startswith("ADD "):
            definition = re.sub(r"(?i)^ADD (COLUMN )?(IF NOT EXISTS )?", "", action)
            column = _column(op, table, definition)
            default = re.search(r"\bDEFAULT\s+(.+?)(?:\s+(?:NOT NULL|NULL|CONSTRAINT|CHECK|REFERENCES|PRIMARY|UNIQUE)\b|$)",
                                definition, re.I)
            generated = re.search(r"GENERATED ALWAYS AS\s*\(.*\)\s*STORED", upper) is not None
            identity = re.search(r"GENERATED (ALWAYS|BY DEFAULT) AS IDENTITY|\b(BIG|SMALL)?SERIAL\b", upper) is not None
            yield op("add_column", table, column=column.get("column"), nullable="NOT NULL" not in upper,
                     has_default=default is not None or generated or identity,
                     default_volatile=identity or (bool(default) and is_volatile_default(default.group(1))),
                     primary_key="PRIMARY KEY" in upper, generated_stored=generated)
            yield column
        elif re.match(r"ALTER (COLUMN )?\S+ (SET DATA )?TYPE\b", upper):
            target = re.sub(r"^ALTER (COLUMN )?\S+ (SET DATA )?TYPE\s+", "", upper)
            # without the old type, a change to text, varchar or numeric may be a widening (no rewrite)
            widening = re.match(r"(TEXT|VARCHAR|CHARACTER VARYING|NUMERIC|DECIMAL)\b", target) and " USING " not in f" {target} "
            column = re.match(r"ALTER (?:COLUMN )?(\S+)", action, re.I).group(1).strip('"')
            yield op("alter_type", table, column=column, verdict="unknown" if widening else "rewrite",
                     change=f"to {target.lower()}", new_type_key=sql_type_key(re.split(r" USING | COLLATE ", target)[0]))
        elif re.match(r"ALTER (COLUMN )?\S+ SET NOT NULL", upper):
            yield op("set_not_null", table)
        elif upper.startswith("VALIDATE CONSTRAINT"):
            name = re.match(rf"VALIDATE CONSTRAINT ({IDENT})", action, _FLAGS)
            yield op("validate_constraint", table, name=normalize_table(name.group(1)) if name else None)
        else:
            yield op("alter_table_other", table)
