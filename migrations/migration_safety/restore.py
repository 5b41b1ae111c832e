"""Putting a database back to the state held in a backup archive, in one transaction.

The restore runs as a single ``psql --single-transaction`` session fed with

1. a prelude that removes every object the database holds now (user schemas dropped with
   CASCADE; in ``public``, which the archive does not recreate, each relation, routine, type and
   domain), so objects created after the backup are gone, then
2. the archive's SQL from ``pg_restore -f -`` (minus the schemas we preserve, such as the audit
   trail), streamed, never buffered.

Either all of it commits or none of it does: a restore that fails part-way leaves the database
as it was before the restore started. Afterwards the live schema is compared with the archive's.
"""
from __future__ import annotations

import os
import re
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional

from .backups import ProgressCallback
from .errors import RestoreError
from .pgtools import Tool, connect, first_error_line, query_all, run_tool, start_tool, stop_tool

SYSTEM_SCHEMAS = ("pg_catalog", "information_schema", "pg_toast")

_RELATION_DROP = {"r": "TABLE", "p": "TABLE", "v": "VIEW", "m": "MATERIALIZED VIEW",
                  "S": "SEQUENCE", "f": "FOREIGN TABLE"}
_ROUTINE_DROP = {"f": "FUNCTION", "w": "FUNCTION", "p": "PROCEDURE", "a": "AGGREGATE"}
_NOT_EXTENSION_MEMBER = ("NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = '{catalog}'::regclass"
                         " AND d.objid = {alias}.oid AND d.deptype = 'e')")


@dataclass
class RestoreResult:
    archive: Path
    duration_seconds: float
    schema_verified: bool
    schema_difference: Optional[str] = None
    mode: str = "full"                       # full | selective
    restored_objects: Optional[str] = None   # selective: what was rebuilt


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def archive_toc(archive: Path, pg_restore: Tool) -> list[str]:
    return run_tool([pg_restore.path, "--list", str(archive)], os.environ.copy(),
                    what="pg_restore --list").stdout.splitlines()


_TOC_PREFIX = re.compile(r"^\d+;\s+\d+\s+\d+\s+")


def _toc_tokens(line: str) -> Optional[list[str]]:
    """The words of a TOC entry after its ids, without the owner: kind words, schema, name."""
    match = _TOC_PREFIX.match(line)
    if not match:
        return None
    return line[match.end():].split()[:-1]


def toc_without_schemas(toc: Iterable[str], excluded: Iterable[str]) -> list[str]:
    """The TOC lines to restore: everything but entries in (or being, or describing) an excluded
    schema. Kinds have one to three words (TABLE DATA, SEQUENCE OWNED BY), so match the schema
    as a word of the entry rather than by position."""
    excluded = set(excluded)
    kept = []
    for line in toc:
        tokens = _toc_tokens(line)
        if tokens is not None and excluded.intersection(tokens):
            continue
        kept.append(line)
    return kept


def archive_extensions(toc: Iterable[str]) -> set[str]:
    names = set()
    for line in toc:
        tokens = _toc_tokens(line)
        if tokens and tokens[0] == "EXTENSION" and len(tokens) >= 3:
            names.add(tokens[2])
    return names


def clearing_statements(connection, *, preserved_schemas: Iterable[str], keep_extensions: Iterable[str]) -> list[str]:
    """DROP statements that leave the database with nothing the archive will not recreate."""
    preserved = set(preserved_schemas)
    keep_extensions = set(keep_extensions) | {"plpgsql"}
    statements = []
    schemas = [row[0] for row in query_all(
        connection,
        "SELECT nspname FROM pg_namespace WHERE nspname <> ALL(%s) AND nspname NOT LIKE 'pg\\_temp\\_%%'"
        " AND nspname NOT LIKE 'pg\\_toast\\_temp\\_%%' ORDER BY nspname", (list(SYSTEM_SCHEMAS),))]
    for (extension,) in query_all(connection, "SELECT extname FROM pg_extension ORDER BY extname"):
        if extension not in keep_extensions:
            statements.append(f"DROP EXTENSION IF EXISTS {quote_ident(extension)} CASCADE;")
    for schema in schemas:
        if schema in preserved or schema == "public":
            continue
        statements.append(f"DROP SCHEMA IF EXISTS {quote_ident(schema)} CASCADE;")
    if "public" in schemas and "public" not in preserved:
        statements += _public_schema_drops(connection)
    return statements


def _public_schema_drops(connection) -> list[str]:
    """public is not in the archive (pg_dump assumes it exists), so empty it object by object."""
    statements = []
    relations = query_all(
        connection,
        "SELECT c.relkind, quote_ident(c.relname) FROM pg_class c"
        " WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r','p','v','m','S','f')"
        " AND NOT c.relispartition AND " + _NOT_EXTENSION_MEMBER.format(catalog="pg_class", alias="c") +
        " ORDER BY c.relkind = 'S', c.relname")
    for kind, name in relations:
        statements.append(f"DROP {_RELATION_DROP[kind]} IF EXISTS public.{name} CASCADE;")
    routines = query_all(
        connection,
        "SELECT p.prokind, 'public.' || quote_ident(p.proname) || '(' || pg_get_function_identity_arguments(p.oid) || ')'"
        " FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace AND "
        + _NOT_EXTENSION_MEMBER.format(catalog="pg_proc", alias="p") + " ORDER BY p.proname")
    for kind, signature in routines:
        statements.append(f"DROP {_ROUTINE_DROP.get(kind, 'FUNCTION')} IF EXISTS {signature} CASCADE;")
    types = query_all(
        connection,
        "SELECT t.typtype, 'public.' || quote_ident(t.typname) FROM pg_type t"
        " WHERE t.typnamespace = 'public'::regnamespace AND t.typtype IN ('e','d','r','c')"
        " AND (t.typtype <> 'c' OR (SELECT c.relkind FROM pg_class c WHERE c.oid = t.typrelid) = 'c') AND "
        + _NOT_EXTENSION_MEMBER.format(catalog="pg_type", alias="t") + " ORDER BY t.typname")
    for kind, name in types:
        statements.append(f"DROP {'DOMAIN' if kind == 'd' else 'TYPE'} IF EXISTS {name} CASCADE;")
    return statements


def prelude_sql(lock_timeout: str, drops: Iterable[str]) -> str:
    """What the restore's transaction runs before the archive's SQL: wait for locks at most
    ``lock_timeout``, then the DROP statements."""
    return "\n".join([f"SET lock_timeout = '{lock_timeout}';", "SET client_min_messages = warning;", *drops, ""])


def restore_in_place(settings, archive: Path, *, pg_restore: Tool, psql: Tool, pg_dump: Tool,
                     preserved_schemas: Iterable[str] = (), lock_timeout: str = "60s",
                     progress: Optional[ProgressCallback] = None) -> RestoreResult:
    """Replace the database's content with the archive's, atomically, and verify the schema."""
    started = time.monotonic()
    preserved = list(preserved_schemas)
    toc = archive_toc(archive, pg_restore)
    selected_toc = toc_without_schemas(toc, preserved)
    connection = connect(settings)
    try:
        drops = clearing_statements(connection, preserved_schemas=preserved,
                                    keep_extensions=archive_extensions(selected_toc))
    finally:
        connection.close()
    prelude = prelude_sql(lock_timeout, drops)

    with tempfile.TemporaryDirectory(prefix="migration_restore_") as scratch:
        list_file = Path(scratch) / "toc.list"
        list_file.write_text("\n".join(selected_toc) + "\n")
        stream_into_psql(settings, archive, list_file, prelude, pg_restore=pg_restore, psql=psql,
                         progress=progress)
        difference = schema_difference(settings, archive, list_file, pg_restore=pg_restore,
                                       pg_dump=pg_dump, excluded_schemas=preserved)
    return RestoreResult(archive, round(time.monotonic() - started, 3), difference is None, difference)


def stream_into_psql(settings, archive: Path, list_file: Path, prelude: str, *, pg_restore: Tool, psql: Tool,
                     progress: Optional[ProgressCallback], epilogue: Optional[str] = None) -> None:
    """``pg_restore -f - | psql -1 -f prelude.sql -f - [-f epilogue.sql]``: the archive's SQL flows
    from one tool to the other through an OS pipe (never through Python), and psql runs all the
    files in one transaction. Progress is read from pg_restore's /proc I/O counter."""
    env = settings.child_environment()
    prelude_file = list_file.with_name("prelude.sql")
    prelude_file.write_text(prelude)
    closing = []
    if epilogue is not None:
        epilogue_file = list_file.with_name("epilogue.sql")
        epilogue_file.write_text(epilogue)
        closing = [f"--file={epilogue_file}"]
    total = archive.stat().st_size
    reader_read, writer_stdin = os.pipe()
    restore_argv = [pg_restore.path, f"--use-list={list_file}", "--file=-", str(archive)]
    psql_argv = [psql.path, "--no-psqlrc", "--quiet", "--single-transaction", "--set=ON_ERROR_STOP=1",
                 "--no-password", f"--dbname={settings.conninfo()}", f"--file={prelude_file}", "--file=-", *closing]
    try:
        reader = start_tool(restore_argv, env, stdout=writer_stdin)
        writer = start_tool(psql_argv, env, stdin=reader_read, stdout=subprocess.DEVNULL)
    finally:
        os.close(reader_read)
        os.close(writer_stdin)
    errors: dict[str, bytes] = {}
    drains = [threading.Thread(target=lambda p=p, k=k: errors.__setitem__(k, p.stderr.read()), daemon=True)
              for k, p in (("pg_restore", reader), ("psql", writer))]
    for thread in drains:
        thread.start()
    try:
        while True:
            if progress:
                progress(min(_bytes_read(reader.pid), total), total)
            try:
                writer.wait(timeout=0.2)
                break
            except subprocess.TimeoutExpired:
                continue
        if writer.returncode != 0:
            stop_tool(reader)          # psql gave up: pg_restore would block on a full pipe
        reader.wait()
    except BaseException:
        stop_tool(reader)
        stop_tool(writer)
        raise
    for thread in drains:
        thread.join(timeout=10)
    if writer.returncode != 0:
        reason = first_error_line(errors.get("psql", b"").decode("utf-8", "replace"))
        raise RestoreError(f"restore from {archive.name} failed and was rolled back, the database is as it "
                           f"was before the restore: {reason}")
    if reader.returncode != 0:
        reason = first_error_line(errors.get("pg_restore", b"").decode("utf-8", "replace"))
        raise RestoreError(f"could not read {archive.name}: {reason}")
    if progress:
        progress(total, total)


def _bytes_read(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/io") as counters:
            for line in counters:
                if line.startswith("rchar:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def normalized_schema(sql: str) -> str:
    """Schema SQL without comments, blank lines and pg_dump's per-run \\restrict keys."""
    kept = []
    for line in sql.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("--") or stripped.startswith("\\restrict") \
                or stripped.startswith("\\unrestrict"):
            continue
        kept.append(line.rstrip())
    return "\n".join(kept)


def schema_difference(settings, archive: Path, list_file: Path, *, pg_restore: Tool, pg_dump: Tool,
                      excluded_schemas: Iterable[str]) -> Optional[str]:
    """None when the live schema equals the archive's; otherwise the first differing line."""
    env = settings.child_environment()
    expected = run_tool([pg_restore.path, "--schema-only", f"--use-list={list_file}", "--file=-", str(archive)],
                        env, what="pg_restore --schema-only").stdout
    argv = [pg_dump.path, "--schema-only", "--no-password", f"--dbname={settings.conninfo()}"]
    argv += [f"--exclude-schema={schema}" for schema in excluded_schemas]
    actual = run_tool(argv, env, what="pg_dump --schema-only").stdout
    expected_lines = normalized_schema(expected).splitlines()
    actual_lines = normalized_schema(actual).splitlines()
    if expected_lines == actual_lines:
        return None
    for index, (want, have) in enumerate(zip(expected_lines, actual_lines)):
        if want != have:
            return f"line {index + 1}: expected {want.strip()!r}, found {have.strip()!r}"
    return f"the schema has {len(actual_lines)} lines, the backup {len(expected_lines)}"
