"""PostgreSQL client tools and connections: finding pg_dump/pg_restore/psql, running them
with the password in the environment, and opening psycopg2 connections with errors turned
into one-line messages."""
from __future__ import annotations

import functools
import glob
import os
import re
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

from ..base.cache_files import read_cache, write_cache
from ..base.errors import PreflightError, ToolError
from ..config.settings import tool_environment

TOOL_DIR_VARIABLE = "MIGRATION_PG_BIN_DIR"
_VERSION_CACHE = "tool_versions.json"
_VERSION_PATTERN = re.compile(r"\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?")


@dataclass(frozen=True)
class Tool:
    name: str
    path: str
    major: int
    version: str


def parse_tool_version(output: str) -> tuple[int, str]:
    """``pg_dump (PostgreSQL) 15.18 (Debian ...)`` -> (15, '15.18')."""
    match = _VERSION_PATTERN.search(output)
    if not match:
        raise ValueError(f"unrecognised version output: {output.strip()[:80]!r}")
    major = int(match.group(1))
    version = match.group(1) + (f".{match.group(2)}" if match.group(2) else "")
    return major, version


def check_tool_compatible(tool: Tool, server_major: int) -> None:
    """pg_dump refuses (or worse, silently misses objects) when older than the server."""
    if tool.major < server_major:
        raise PreflightError(
            f"{tool.name} {tool.version} at {tool.path} is older than the server (PostgreSQL {server_major}); "
            f"install the PostgreSQL {server_major} client tools or set {TOOL_DIR_VARIABLE}")


def _candidate_paths(name: str) -> list[str]:
    pinned = os.environ.get(TOOL_DIR_VARIABLE)
    if pinned:
        return [os.path.join(pinned, name)]
    candidates = []
    on_path = shutil.which(name)
    # Debian's /usr/bin/pg_dump is pg_wrapper, a Perl script (about 70 ms per start, its answer not
    # cacheable) that runs the newest /usr/lib/postgresql/N/bin/pg_dump: take that binary directly.
    if on_path and not os.path.realpath(on_path).endswith("/postgresql-common/pg_wrapper"):
        candidates.append(on_path)
    # Debian/Ubuntu install every major side by side; the newest can dump any older server.
    candidates += sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=_install_version, reverse=True)
    return candidates


def _install_version(path: str) -> tuple:
    """/usr/lib/postgresql/15/bin/pg_dump -> (15,); numeric, so 15 sorts above 9.6."""
    version = Path(path).parent.parent.name
    return tuple(int(part) for part in version.split(".") if part.isdigit())


def _binary_identity(path: str) -> Optional[str]:
    """A key that changes whenever the executable does; None for scripts (Debian's pg_wrapper
    answers for whichever version it picks at run time, so its answer cannot be kept)."""
    try:
        with open(path, "rb") as handle:
            if handle.read(4) != b"\x7fELF":
                return None
        info = os.stat(path)
    except OSError:
        return None
    return f"{os.path.realpath(path)}:{info.st_dev}:{info.st_ino}:{info.st_size}:{info.st_mtime_ns}"


def _versions(paths: list[str]) -> dict:
    """``--version`` of every candidate: from the cache when the binary is unchanged, otherwise
    asked of all of them at once (each is a process start; run them side by side)."""
    cache = read_cache(_VERSION_CACHE)
    identities = {path: _binary_identity(path) for path in dict.fromkeys(paths)}
    versions = {path: tuple(cache[key]) for path, key in identities.items() if key in cache}
    fresh = _ask_versions([path for path in identities if path not in versions])
    versions.update(fresh)
    learned = {identities[path]: list(version) for path, version in fresh.items() if identities[path]}
    if learned:
        write_cache(_VERSION_CACHE, {**cache, **learned})
    return versions


def _ask_versions(paths: list[str]) -> dict:
    running = {}
    for path in paths:
        if os.path.isfile(path) and os.access(path, os.X_OK):
            try:
                running[path] = subprocess.Popen([path, "--version"], stdout=subprocess.PIPE,
                                                 stderr=subprocess.DEVNULL, text=True,
                                                 env=tool_environment())
            except OSError:
                continue
    versions = {}
    for path, process in running.items():
        try:
            output = process.communicate(timeout=20)[0]
            versions[path] = parse_tool_version(output)
        except (ValueError, subprocess.SubprocessError):
            process.kill()
    return versions


def find_tools(names, minimum_major: int = 0) -> dict:
    """name -> the Tool to use: the first candidate (PATH, then the newest Debian install) at least
    ``minimum_major``; PreflightError when a tool is missing or every copy is too old."""
    candidates = {name: _candidate_paths(name) for name in names}
    versions = _versions([path for paths in candidates.values() for path in paths])
    tools = {}
    for name, paths in candidates.items():
        found = [Tool(name, path, *versions[path]) for path in paths if path in versions]
        usable = [tool for tool in found if tool.major >= minimum_major]
        if usable:
            tools[name] = usable[0]
            continue
        if found:
            check_tool_compatible(max(found, key=lambda t: t.major), minimum_major)
        where = os.environ.get(TOOL_DIR_VARIABLE) or "PATH or /usr/lib/postgresql/*/bin"
        raise PreflightError(
            f"{name} not found in {where}; install the PostgreSQL client tools "
            f"(Debian: apt-get install postgresql-client) or set {TOOL_DIR_VARIABLE}")
    return tools


def first_error_line(stderr: str) -> str:
    """The most useful line of a PostgreSQL tool's stderr (the error, not the context)."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in lines:
        lowered = line.lower()
        if "error" in lowered or "fatal" in lowered or "could not" in lowered or "failed" in lowered:
            return line
    return lines[0] if lines else "no error output"


def run_tool(argv: Sequence[str], env: dict, *, stdin=None, stdout=None, timeout: Optional[float] = None,
             what: str = "", pass_fds: Sequence[int] = ()) -> subprocess.CompletedProcess:
    """Run a client tool in its own process group (so a terminal's Ctrl-C reaches us, not it,
    and we decide whether to stop it); raise ToolError with its stderr's key line on failure."""
    process = start_tool(argv, env, stdin=stdin, stdout=stdout, pass_fds=pass_fds)
    try:
        out, err = process.communicate(timeout=timeout)
    except BaseException:
        stop_tool(process)
        raise
    completed = subprocess.CompletedProcess(argv, process.returncode, out, err)
    if process.returncode != 0:
        raise ToolError(f"{what or os.path.basename(argv[0])} failed: {first_error_line(err or '')}")
    return completed


def start_tool(argv: Sequence[str], env: dict, *, stdin=None, stdout=None,
               pass_fds: Sequence[int] = ()) -> subprocess.Popen:
    """Every child process starts here; whatever environment a caller built, only its allow-listed
    variables reach the child (settings.tool_environment), PGPASSWORD only when the caller put it
    there (a tool that connects: DatabaseSettings.child_environment). A tool given a database
    (``--dbname=``) is killed when the thread that started it ends (``_killed_with``): start and
    wait for it in one thread."""
    argv = list(argv)
    connects = any(str(argument).startswith("--dbname=") for argument in argv)
    return subprocess.Popen(
        argv, env=tool_environment(env, connecting=True), stdin=stdin if stdin is not None else subprocess.DEVNULL,
        stdout=stdout if stdout is not None else subprocess.PIPE, stderr=subprocess.PIPE,
        text=stdout is None, start_new_session=True, pass_fds=tuple(pass_fds),
        preexec_fn=_killed_with(os.getpid()) if connects else None)


def _killed_with(parent: int):
    """Linux: a ``preexec_fn`` that has the kernel SIGKILL the child when the thread that started
    it ends, the wrapper killed outright (SIGKILL, the OOM killer, a stopped container) included.
    Tools run in their own session, out of reach of a terminal's Ctrl-C, so nothing else would stop
    them: a restore's psql waiting for an application's lock would stay queued for it, holding up
    every statement on that table behind its request, and once granted reload tables for nobody
    before it found its input cut short. Only for tools that connect: forking instead of vfork costs
    about a millisecond of CPU each. None where ``prctl`` is missing."""
    prctl = _prctl()
    if prctl is None:
        return None

    def bind_to_parent() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:       # it died before prctl took effect
            os._exit(1)
    return bind_to_parent


_PR_SET_PDEATHSIG = 1


@functools.lru_cache(maxsize=1)
def _prctl():
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    prctl.argtypes = (ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong)
    return prctl


def descriptor_path(descriptor: int) -> str:
    """How a child process given ``descriptor`` (``pass_fds``) names it as a file argument."""
    return f"/dev/fd/{descriptor}"


def memory_file(name: str, text: str) -> int:
    """A file descriptor holding ``text``, for a child to read as ``descriptor_path(fd)``: no
    file in any directory, so nothing can be planted in its place and nothing is left behind
    when the process is killed. The caller closes it."""
    create = getattr(os, "memfd_create", None)
    if create is not None:
        descriptor = create(name)
    else:   # no memfd (macOS): an already-unlinked temporary file serves the same purpose
        import tempfile
        descriptor, path = tempfile.mkstemp(prefix="migration_safety_")
        os.unlink(path)
    data = text.encode()
    view = memoryview(data)
    while view:
        view = view[os.write(descriptor, view):]
    os.lseek(descriptor, 0, os.SEEK_SET)
    return descriptor


def stop_tool(process: subprocess.Popen) -> None:
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait()


def connect(settings, *, database: Optional[str] = None, autocommit: bool = True, options: Optional[str] = None):
    """A psycopg2 connection; connection failures become PreflightError with libpq's reason."""
    import psycopg2

    keywords = settings.libpq_keywords()
    if database is not None:
        keywords["dbname"] = database
    if settings.password is not None:
        keywords["password"] = settings.password
    keywords.setdefault("connect_timeout", "10")
    keywords.setdefault("application_name", "migration_safety")
    if options:
        keywords["options"] = options
    try:
        connection = psycopg2.connect(**keywords)
    except psycopg2.OperationalError as exc:
        raise PreflightError(describe_connection_error(exc, settings)) from None
    connection.autocommit = autocommit
    return connection


def describe_connection_error(exc: Exception, settings) -> str:
    """One line: what was tried, why it failed, and where those settings came from."""
    text = " ".join(str(exc).split())
    if settings.password:
        text = text.replace(settings.password, "***")
    where = f"{settings.host}:{settings.port}/{settings.database} as {settings.user}"
    if "password authentication failed" in text or "no password supplied" in text:
        reason = "authentication failed (check the user and password)"
    elif "does not exist" in text and "database" in text:
        reason = f"database {settings.database!r} does not exist"
    elif "Connection refused" in text or "could not translate host name" in text or "timeout expired" in text:
        reason = f"server unreachable ({_short_reason(text)})"
    else:
        reason = _short_reason(text)
    origin = f"settings from {settings.source}"
    if not settings.source.startswith(("DATABASE_URL", "POSTGRES_", "sqlalchemy.url")):
        origin += "; set DATABASE_URL or POSTGRES_HOST/POSTGRES_DB/POSTGRES_USER/POSTGRES_PASSWORD"
        if settings.unset_hint:
            origin += ", " + settings.unset_hint
    return f"cannot connect to {where}: {reason} ({origin})"


def _short_reason(text: str) -> str:
    # libpq prefixes every attempt with 'connection to server at "h" (ip), port p failed:'
    parts = re.split(r'connection to server (?:at|on) [^:]*?failed:\s*', text)
    reason = next((p.strip() for p in reversed(parts) if p.strip()), text)
    return reason.rstrip(".")[:200]


def quote_ident(name: str) -> str:
    """An identifier in double quotes, for SQL built as text (a script for psql, PL/pgSQL)."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    """A string constant in single quotes (standard_conforming_strings, on since PostgreSQL 9.1)."""
    return "'" + text.replace("'", "''") + "'"


# From PostgreSQL 14 the server can check, while a statement runs, that its client is still
# there: a session whose wrapper (or tool) was killed then ends within a second instead of
# waiting in a lock queue, or running on, for nobody. An older server refuses the unknown
# setting, at connection time when it is sent as an option: hence the version.
CLIENT_CHECK_SETTING, CLIENT_CHECK_INTERVAL, CLIENT_CHECK_SINCE_MAJOR = "client_connection_check_interval", "1s", 14


def client_check_settings(server_major: int) -> dict:
    """The setting that has the server check the client, for a server of ``server_major``."""
    return {CLIENT_CHECK_SETTING: CLIENT_CHECK_INTERVAL} if server_major >= CLIENT_CHECK_SINCE_MAJOR else {}


def query_one(connection, sql: str, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def query_all(connection, sql: str, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


@dataclass(frozen=True)
class ServerInfo:
    version_num: int
    version: str
    database_size: int
    current_user: str

    @property
    def major(self) -> int:
        return self.version_num // 10000


def server_info(connection) -> ServerInfo:
    version_num, version, size, user = query_one(
        connection,
        "SELECT current_setting('server_version_num')::int, current_setting('server_version'),"
        " pg_database_size(current_database()), current_user")
    return ServerInfo(version_num, version, size, user)


def server_identity(connection) -> dict:
    """Which server and database this connection reaches, to tell a backup's origin apart from a
    same-named database elsewhere (staging over production). The server is named by its system
    identifier (``pg_control_system()``, which some platforms grant only to pg_monitor or
    superusers), else by its address and port; ``method`` records which was used."""
    allowed, database_oid, database = query_one(
        connection,
        "SELECT has_function_privilege('pg_control_system()', 'execute'),"
        " (SELECT oid FROM pg_database WHERE datname = current_database())::bigint, current_database()")
    identity = {"database": database, "database_oid": int(database_oid)}
    if allowed:
        (system_identifier,) = query_one(connection, "SELECT system_identifier FROM pg_control_system()")
        identity.update(method="system_identifier", system_identifier=str(system_identifier))
    else:
        # over a Unix socket there is no address, and the port is the server's setting
        address, port = query_one(connection, "SELECT host(inet_server_addr()),"
                                              " coalesce(inet_server_port(), current_setting('port')::int)")
        identity.update(method="address", address=address or "local socket", port=port)
    return identity
