"""Putting a database back to the state held in a backup archive, in one transaction.

The restore runs as one psql session and one transaction fed with

1. a prelude that removes every object the database holds now (user schemas dropped with
   CASCADE; in ``public``, which the archive does not recreate, each relation, routine, type and
   domain), so objects created after the backup are gone, then
2. the archive's SQL from ``pg_restore -f -`` (minus the schemas we preserve, such as the audit
   trail), streamed, never buffered (a ``.dump.zst`` decompressed by ``zstd -dc`` on its way into
   pg_restore) — or, for a plain-SQL backup, the file's own bytes, with the
   preserved schemas set aside under another name meanwhile (``preserved_aside``), then
3. ``COMMIT``, sent by the wrapper only once pg_restore has exited 0 having read exactly the bytes
   that were checked (see ``apply_in_one_transaction``).

Either all of it commits or none of it does: a restore that fails part-way — psql's error,
pg_restore dying, a damaged or swapped archive, the wrapper killed — leaves the database as it
was before the restore started. Afterwards the live schema is compared with the archive's.
"""
from __future__ import annotations

import hashlib
import os
import re
import secrets
import stat
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional

from ..base.errors import RestoreError
from ..postgres.tools import (CLIENT_CHECK_INTERVAL, CLIENT_CHECK_SETTING, CLIENT_CHECK_SINCE_MAJOR, Tool, connect,
                              descriptor_path, first_error_line, memory_file, query_all, quote_ident, run_tool,
                              start_tool, stop_tool)
from ..postgres.deparse import canonical
from ..postgres.foreign_writes import user_tables
from .catalog import CHUNK, ProgressCallback
from .formats import decompressor_failed, run_on_decompressed, start_decompressor
from .plain_dump import PlainDumpInvalid, PlainOutline, archive_format, blank_out, read_outline

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
    note: Optional[str] = None               # e.g. ownership and privileges not restored


def archive_toc(archive: "OpenedArchive", pg_restore: Tool) -> list[str]:
    return archive.run_pg_restore([pg_restore.path, "--list"], os.environ.copy(), what="pg_restore --list",
                                  ).stdout.splitlines()


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


def preserved_aside(connection, preserved_schemas: Iterable[str]) -> tuple[list[str], list[str]]:
    """For a plain dump, which recreates every schema it holds (the audit trail's included): the
    statements that rename each existing preserved schema out of its way before the dump's SQL,
    and those that drop the dump's copy and put ours back after it — inside the same transaction."""
    existing = {row[0] for row in query_all(connection, "SELECT nspname FROM pg_namespace WHERE nspname = ANY(%s)",
                                            (list(preserved_schemas),))}
    before, after = [], []
    for schema in sorted(existing):
        aside = quote_ident(f"{schema[:40]}_kept_{secrets.token_hex(4)}")
        before.append(f"ALTER SCHEMA {quote_ident(schema)} RENAME TO {aside};")
        after += [f"DROP SCHEMA IF EXISTS {quote_ident(schema)} CASCADE;",
                  f"ALTER SCHEMA {aside} RENAME TO {quote_ident(schema)};"]
    return before, after


# A server notices a client that vanished only when it next talks to it: a restore waiting for a
# lock, or running a long statement, would go on (holding the locks it has, and taking more) for
# a wrapper and psql that died with their machine (postgres.tools.client_check_settings; the
# script may reach a server of any version, so it asks the server's).
_CHECK_THE_CLIENT = (f"SELECT pg_catalog.set_config('{CLIENT_CHECK_SETTING}', '{CLIENT_CHECK_INTERVAL}', false)"
                     f" WHERE pg_catalog.current_setting('server_version_num')::int >= {CLIENT_CHECK_SINCE_MAJOR}0000;")


def prelude_sql(lock_timeout: str, drops: Iterable[str]) -> str:
    """What the restore's transaction runs before the archive's SQL: wait for locks at most
    ``lock_timeout``, stop as soon as the client is gone, then the DROP statements."""
    return "\n".join([f"SET lock_timeout = '{lock_timeout}';", "SET client_min_messages = warning;",
                      _CHECK_THE_CLIENT, *drops, ""])


def restore_in_place(settings, archive: "OpenedArchive", *, pg_restore: Tool, psql: Tool, pg_dump: Tool,
                     preserved_schemas: Iterable[str] = (), lock_timeout: str = "60s",
                     progress: Optional[ProgressCallback] = None, preservation=None) -> RestoreResult:
    """Replace the database's content with the archive's, atomically, and verify the schema.
    ``preservation`` (foreign_writes.Preservation): first copy aside, in the same transaction, the
    rows other sessions wrote since the backup."""
    started = time.monotonic()
    preserved = list(preserved_schemas)
    if archive.format == "plain":
        selected_toc, extensions = None, archive.plain_outline().extensions()
    else:
        selected_toc = toc_without_schemas(archive_toc(archive, pg_restore), preserved)
        extensions = archive_extensions(selected_toc)
    set_aside, put_back = [], []
    connection = connect(settings)
    try:
        drops = clearing_statements(connection, preserved_schemas=preserved, keep_extensions=extensions)
        if preservation is not None:
            drops = preservation.statements(user_tables(connection, preserved)) + drops
        if archive.format == "plain":
            set_aside, put_back = preserved_aside(connection, preserved)
            options, note = [], None        # a plain dump's OWNER and GRANT lines are its SQL: no option strips them
        else:
            options, note = ownership_options(connection, selected_toc)
    finally:
        connection.close()
    epilogue = "\n".join(put_back) + ("\n" + preservation.epilogue() if preservation is not None else "")
    apply_in_one_transaction(settings, archive, selected_toc, prelude_sql(lock_timeout, drops + set_aside),
                             epilogue=epilogue, pg_restore=pg_restore, psql=psql, progress=progress,
                             restore_options=options)
    difference = schema_difference(settings, archive, selected_toc, pg_restore=pg_restore, pg_dump=pg_dump,
                                   excluded_schemas=preserved, options=options)
    return RestoreResult(archive.path, round(time.monotonic() - started, 3), difference is None, difference,
                         note=note)


def archive_owners(toc: Iterable[str]) -> set[str]:
    """The roles the archive's entries belong to (a TOC line ends with its owner)."""
    owners = set()
    for line in toc:
        match = _TOC_PREFIX.match(line)
        if match:
            words = line[match.end():].split()
            if len(words) >= 2:
                owners.add(words[-1])
    return owners - {"-"}


def ownership_options(connection, toc: Iterable[str]) -> tuple[list[str], Optional[str]]:
    """Least privilege: an archive whose owners are not all roles of this server (a foreign or
    forged one) is restored without its ownership and grants (``--no-owner --no-privileges``):
    everything then belongs to the restoring role and no GRANT from the archive runs."""
    owners = archive_owners(toc)
    known = {row[0] for row in query_all(connection, "SELECT rolname FROM pg_roles WHERE rolname = ANY(%s)",
                                         (sorted(owners),))}
    unknown = sorted(owners - known)
    if not unknown:
        return [], None
    return ["--no-owner", "--no-privileges"], (
        f"restored without ownership and privileges: the archive names roles this server does not have "
        f"({', '.join(unknown[:5])}); everything now belongs to the restoring role")


class OpenedArchive:
    """A backup archive opened once, without following a link, and read by every tool through
    that one descriptor: a file renamed, replaced or rewritten in the directory after it was
    checked is never what gets restored. The bytes fed to pg_restore are hashed on their way, and
    the restore commits only when they are exactly the ``expected_sha256``/``expected_size``."""

    def __init__(self, path: Path, *, expected_sha256: Optional[str] = None, expected_size: Optional[int] = None):
        self.path = Path(path)
        self.expected_sha256 = expected_sha256
        try:
            self.descriptor = os.open(self.path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError as exc:
            raise RestoreError(f"cannot open {self.path.name}: {exc.strerror or exc}; nothing was changed") from None
        status = os.fstat(self.descriptor)
        if not stat.S_ISREG(status.st_mode):
            self.close()
            raise RestoreError(f"{self.path.name} is not a regular file; nothing was changed")
        self.size = status.st_size
        if expected_size is not None and expected_size != self.size:
            self.close()
            raise RestoreError(f"{self.path.name} has {self.size} bytes, its metadata says {expected_size}; "
                               "nothing was changed")
        self.format = archive_format(os.pread(self.descriptor, 64, 0))
        if self.format is None:
            self.close()
            raise RestoreError(f"{self.path.name} is neither a pg_dump custom-format archive (plain or "
                               "zstd-compressed) nor a plain SQL dump; nothing was changed")
        self._outline: Optional[PlainOutline] = None

    def plain_outline(self) -> PlainOutline:
        """A plain dump's outline (its entries and schema SQL), read once through the descriptor."""
        if self._outline is None:
            try:
                self._outline = read_outline(self.descriptor)
            except PlainDumpInvalid as exc:
                raise RestoreError(f"{self.path.name}: the plain SQL dump {exc}; nothing was changed") from None
        return self._outline

    @property
    def child_path(self) -> str:
        """The archive as a child process given ``pass_fds=(descriptor,)`` opens it."""
        return descriptor_path(self.descriptor)

    def run_pg_restore(self, argv: list, env: dict, *, what: str, pass_fds: Iterable[int] = ()):
        """pg_restore ``argv`` run on this archive: given its path, or its decompressed stream on
        stdin for a ``.dump.zst``."""
        fds = (*pass_fds, self.descriptor)
        if self.format == "custom-zstd":
            return run_on_decompressed(argv, self.child_path, env, what=what, pass_fds=fds)
        return run_tool([*argv, self.child_path], env, what=what, pass_fds=fds)

    def close(self) -> None:
        if self.descriptor >= 0:
            os.close(self.descriptor)
            self.descriptor = -1

    def __enter__(self) -> "OpenedArchive":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def apply_in_one_transaction(settings, archive: OpenedArchive, toc_lines: Optional[Iterable[str]], prelude: str, *,
                             pg_restore: Tool, psql: Tool, progress: Optional[ProgressCallback],
                             epilogue: str = "", restore_options: Iterable[str] = ()) -> None:
    """``prelude``, the archive's SQL for ``toc_lines`` and ``epilogue`` in one psql transaction
    whose end the wrapper decides. The SQL's producer is pg_restore for a custom archive; a plain
    dump (``toc_lines`` None: it has no entries to select) is its own SQL, fed straight to psql.

    psql commits whatever reached it when its input ends, so psql is never told to wrap the run
    in a transaction itself: the prelude opens it (``BEGIN``), and after the epilogue psql echoes
    a token and reads its last file, a pipe of ours. ``COMMIT`` goes into that pipe only when
    psql has executed everything before the token, pg_restore has exited 0 and the bytes it read
    hashed to the expected value — and only while this process, holding the migration lock,
    is alive to decide it. If pg_restore dies, the archive differs, psql fails or this process
    is killed, psql reaches the end of the pipe with the transaction open and the server rolls it
    back. The archive flows from our descriptor into pg_restore through Python (that is where it
    is hashed) and from pg_restore straight into psql through an OS pipe. A plain dump flows from
    the same hashing feed into psql, and commits only if psql took every byte of it. A ``.dump.zst``
    flows from the feed (the compressed bytes on disk are what is hashed) into ``zstd -dc`` and
    from it into pg_restore, OS pipes both; zstd must also end well (or be cut off by a pg_restore
    that had read all it wanted)."""
    plain = archive.format == "plain"
    if plain != (toc_lines is None):
        raise ValueError("entries are selected from a custom archive only, and always")
    env = settings.child_environment()
    token = f"migration_safety:applied:{secrets.token_hex(8)}"
    restricted, unrestricted, blanked, end_mark = "", "", [], None
    closing = f"{epilogue}\n\\echo {token}\n"
    if plain:
        # Whoever can write the file could add \! or \o |cmd to it: psql runs the file in
        # restricted mode (no backslash command at all) under a key only this process knows, and
        # pg_dump's own \restrict/\unrestrict lines are blanked out on the way in.
        require_restricted_mode(psql)
        key = secrets.token_hex(16)
        restricted, unrestricted = f"\n\\restrict {key}\n", f"\\unrestrict {key}\n"
        blanked = archive.plain_outline().own_meta_commands
        # psql executed the file to its end only if it ran the statement the feed adds after it
        # (a value nobody else knows); otherwise it answers that it was not, and nothing commits.
        fed = secrets.token_hex(8)
        end_mark = f"\n;\nSELECT set_config('migration_safety.fed', '{fed}', false);\n".encode()
        closing = (f"SELECT coalesce(current_setting('migration_safety.fed', true) = '{fed}', false)"
                   f" AS migration_safety_fed \\gset\n\\if :migration_safety_fed\n{epilogue}\n\\echo {token}\n"
                   f"\\else\n\\echo {token}{_NOT_READ_TO_END}\n\\endif\n")
    list_file = memory_file("toc.list", "" if plain else "\n".join(toc_lines) + "\n")
    prelude_file = memory_file("prelude.sql", "BEGIN;\n" + prelude + restricted)
    closing_file = memory_file("closing.sql", unrestricted + closing)
    commit_read, commit_write = os.pipe()
    feed_read, feed_write = os.pipe()
    sql_read, sql_write = os.pipe()
    unpacked_read, unpacked_write = os.pipe() if archive.format == "custom-zstd" else (None, None)
    restore_argv = [pg_restore.path, *restore_options, f"--use-list={descriptor_path(list_file)}", "--file=-"]
    psql_argv = [psql.path, "--no-psqlrc", "--quiet", "--set=ON_ERROR_STOP=1", "--no-password", "--output=/dev/null",
                 f"--dbname={settings.conninfo()}", f"--file={descriptor_path(prelude_file)}", "--file=-",
                 f"--file={descriptor_path(closing_file)}", f"--file={descriptor_path(commit_read)}"]
    reader = writer = decompressor = None
    try:
        if unpacked_read is not None:
            decompressor = start_decompressor(feed_read, stdout=unpacked_write)
        if not plain:
            reader = start_tool(restore_argv, env, stdin=feed_read if decompressor is None else unpacked_read,
                                stdout=sql_write, pass_fds=(list_file,))
        writer = start_tool(psql_argv, env, stdin=feed_read if plain else sql_read, stdout=subprocess.PIPE,
                            pass_fds=(prelude_file, closing_file, commit_read))
    except BaseException:
        for descriptor in (commit_write, feed_write):
            os.close(descriptor)
        for process in (decompressor, reader):
            if process is not None:
                stop_tool(process)
        raise
    finally:
        for descriptor in (list_file, prelude_file, closing_file, commit_read, feed_read, sql_read, sql_write,
                           unpacked_read, unpacked_write):
            if descriptor is not None:
                os.close(descriptor)
    errors: dict[str, bytes] = {}
    applied, answered = threading.Event(), threading.Event()
    helpers = [threading.Thread(target=lambda p=p, k=k: errors.__setitem__(k, p.stderr.read()), daemon=True)
               for k, p in (("pg_restore", reader), ("psql", writer), ("zstd", decompressor)) if p is not None]
    helpers.append(threading.Thread(target=_watch_for_token, args=(writer.stdout, token, applied, answered),
                                    daemon=True))
    feed = _ArchiveFeed(archive, feed_write, progress, blanked, end_mark)
    for thread in (*helpers, feed):
        thread.start()
    committed, problem = False, None
    try:
        if reader is not None:
            _wait(lambda: reader.poll() is not None)
        else:   # psql may stop reading a plain dump without ending (its answer says so)
            _wait(lambda: not feed.is_alive() or answered.is_set() or writer.poll() is not None)
        if reader is not None or not feed.is_alive():
            feed.join()
        if decompressor is not None:
            _wait(lambda: decompressor.poll() is not None)
        produced = (reader.returncode == 0 if reader else True) and not (decompressor and
                                                                          decompressor_failed(decompressor))
        if produced:
            _wait(lambda: answered.is_set() or writer.poll() is not None)
            if applied.is_set():
                feed.join()             # psql read its input to the end: the feed has closed it
                problem = feed.problem(delivered_all=plain)
                if problem is None:
                    committed = _send(commit_write, "COMMIT;\n")
            elif answered.is_set():
                problem = "was not read to its end by psql"
    except BaseException:
        for process in (decompressor, reader):
            if process is not None:
                stop_tool(process)
        stop_tool(writer)
        raise
    finally:
        os.close(commit_write)          # without COMMIT: psql ends, the server rolls back
        feed.join()
    writer.wait()
    for thread in helpers:
        thread.join(timeout=10)
    if writer.returncode != 0:
        psql_errors = errors.get("psql", b"").decode("utf-8", "replace")
        refused = _RESTRICTED_COMMAND.search(psql_errors)
        if refused:
            raise RestoreError(
                f"refusing to restore {archive.path.name}: line {refused.group(1)} of this plain SQL backup holds a psql "
                "backslash command, which pg_dump does not write and which could run programs on this machine; "
                "nothing of it was run and the restore was rolled back, the database is as it was before the restore")
        reason = first_error_line(psql_errors)
        raise RestoreError(f"restore from {archive.path.name} failed and was rolled back, the database is as it "
                           f"was before the restore: {reason}")
    if reader is not None and reader.returncode != 0:
        reason = first_error_line(errors.get("pg_restore", b"").decode("utf-8", "replace"))
        raise RestoreError(f"pg_restore could not read {archive.path.name} ({reason}); the restore was rolled "
                           "back, the database is as it was before the restore")
    if decompressor is not None and decompressor_failed(decompressor):
        reason = first_error_line(errors.get("zstd", b"").decode("utf-8", "replace"))
        raise RestoreError(f"zstd could not decompress {archive.path.name} ({reason}); the restore was rolled "
                           "back, the database is as it was before the restore")
    if not committed:
        raise RestoreError(f"{archive.path.name} {problem or 'was not applied'}; the restore was rolled back, "
                           "the database is as it was before the restore")
    if progress:
        progress(archive.size, archive.size)


# psql's restricted mode (\restrict) came with these minor releases; 18 and later have it.
_RESTRICTED_MODE_SINCE = {13: 22, 14: 19, 15: 14, 16: 10, 17: 6}
_RESTRICTED_COMMAND = re.compile(r":(\d+): error: (?:backslash commands are restricted|\\unrestrict: wrong key)")


def require_restricted_mode(psql: Tool) -> None:
    """RestoreError unless ``psql`` can run a file in restricted mode (needed for a plain dump)."""
    minor = int(psql.version.split(".")[1]) if "." in psql.version else 0
    if psql.major >= 18 or minor >= _RESTRICTED_MODE_SINCE.get(psql.major, 10 ** 6):
        return
    raise RestoreError(f"psql {psql.version} at {psql.path} cannot run a plain SQL backup in restricted mode "
                       "(psql 13.22, 14.19, 15.14, 16.10, 17.6 or later can); without it the file's backslash "
                       "commands could run programs on this machine. Install a current PostgreSQL client or set "
                       "MIGRATION_PG_BIN_DIR; nothing was changed")


def _wait(condition, interval: float = 0.05) -> None:
    """Poll in short steps, so signals still reach the main thread."""
    while not condition():
        time.sleep(interval)


_NOT_READ_TO_END = ":not-read-to-end"


def _watch_for_token(stream, token: str, applied: threading.Event, answered: threading.Event) -> None:
    for line in stream:
        if line.strip() == token.encode():
            applied.set()
            answered.set()
        elif line.strip() == (token + _NOT_READ_TO_END).encode():
            answered.set()


def _send(descriptor: int, text: str) -> bool:
    try:
        data = memoryview(text.encode())
        while data:
            data = data[os.write(descriptor, data):]
        return True
    except BrokenPipeError:        # psql already gave up (its error is reported)
        return False


class _ArchiveFeed(threading.Thread):
    """Copies the archive from its descriptor into pg_restore's stdin and hashes it. pg_restore
    stops reading once it has every entry it was asked for (a selective restore); the rest is
    still read and hashed, so the whole file is compared with what was recorded."""

    def __init__(self, archive: OpenedArchive, sink: int, progress: Optional[ProgressCallback],
                 blanked: Iterable[tuple] = (), end_mark: Optional[bytes] = None) -> None:
        super().__init__(name="archive-feed", daemon=True)
        self.archive, self.sink, self.progress = archive, sink, progress
        self.blanked = list(blanked)        # (offset, length) spans sent as '-', hashed as they are
        self.end_mark = end_mark            # sent after the archive, not part of it
        self.digest = hashlib.sha256()
        self.read = 0
        self.complete = False
        self.delivered = False          # every byte went into the sink

    def run(self) -> None:
        sink_open = True
        try:
            while True:
                chunk = os.pread(self.archive.descriptor, CHUNK, self.read)
                if not chunk:
                    break
                if sink_open:
                    sink_open = self._send(blank_out(chunk, self.read, self.blanked))
                self.digest.update(chunk)
                self.read += len(chunk)
                if self.progress:
                    self.progress(self.read, self.archive.size)
            self.complete = True
            if sink_open and self.end_mark:
                sink_open = self._send(self.end_mark)
            self.delivered = sink_open
        except OSError:
            pass
        finally:
            if sink_open:
                os.close(self.sink)

    def _send(self, chunk: bytes) -> bool:
        view = memoryview(chunk)
        try:
            while view:
                view = view[os.write(self.sink, view):]
            return True
        except OSError:                 # pg_restore stopped reading: its exit status says why
            os.close(self.sink)
            return False

    def problem(self, *, delivered_all: bool = False) -> Optional[str]:
        """Why the bytes pg_restore read are not the archive that was checked, or None.
        ``delivered_all``: the reader must also have taken every byte (psql reading a plain dump;
        pg_restore may stop early on purpose)."""
        if not self.complete:
            return "could not be read to its end"
        if delivered_all and not self.delivered:
            return "was not read to its end by psql"
        if self.read != self.archive.size:
            return f"changed size while it was restored ({self.read} bytes read, {self.archive.size} expected)"
        expected = self.archive.expected_sha256
        if expected is not None and self.digest.hexdigest() != expected:
            return "does not match its recorded SHA-256 (changed since it was written)"
        return None


def normalized_schema(sql: str) -> str:
    """Schema SQL without comments, blank lines and pg_dump's per-run \\restrict keys, each
    expression in the one form a restore gives back (postgres.deparse)."""
    kept = []
    for line in sql.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("--") or stripped.startswith("\\restrict") \
                or stripped.startswith("\\unrestrict"):
            continue
        kept.append(canonical(line.rstrip()))
    return "\n".join(kept)


def schema_difference(settings, archive: OpenedArchive, toc_lines: Iterable[str], *, pg_restore: Tool,
                      pg_dump: Tool, excluded_schemas: Iterable[str], options: Iterable[str] = ()) -> Optional[str]:
    """None when the live schema equals the archive's; otherwise the first differing line. A plain
    dump's schema is its own SQL without the data entries (``toc_lines`` is None then).
    ``options`` (``--no-owner --no-privileges``) leave out of both sides what was not restored."""
    env = settings.child_environment()
    if archive.format == "plain":
        expected = archive.plain_outline().schema_sql(excluded_schemas)
    else:
        list_file = memory_file("toc.list", "\n".join(toc_lines) + "\n")
        try:
            expected = archive.run_pg_restore([pg_restore.path, *options, "--schema-only",
                                               f"--use-list={descriptor_path(list_file)}", "--file=-"], env,
                                              what="pg_restore --schema-only", pass_fds=(list_file,)).stdout
        finally:
            os.close(list_file)
    argv = [pg_dump.path, *options, "--schema-only", "--no-password", f"--dbname={settings.conninfo()}"]
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
