"""Everything that touches Alembic: its Config with our connection settings, the plan of pending
revisions, and running a command while recording, from SQLAlchemy's own events, whether anything
was committed.

The user's env.py is never changed. The URL reaches it through ``sqlalchemy.url`` in the Config
(ConfigParser-escaped), and ``lock_timeout``/``statement_timeout`` through libpq's ``PGOPTIONS``
environment variable, which every libpq connection made in this process reads, whatever engine
env.py builds.
"""
from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Optional

from ..base.errors import ConfigurationError
from ..base.redaction import mask
from ..postgres.tools import client_check_settings, query_all, query_one


@dataclass
class PlannedStep:
    revision: str
    down_revision: Optional[str]
    message: str
    path: str
    is_upgrade: bool

    @property
    def label(self) -> str:
        arrow = f"{self.down_revision or 'base'} -> {self.revision}" if self.is_upgrade \
            else f"{self.revision} -> {self.down_revision or 'base'}"
        # the first line only: a docstring without a blank line after it has "Revision ID: ..." in its doc
        first_line = next(iter(self.message.strip().splitlines()), "")
        return f"{arrow}: {first_line}"


@dataclass
class Plan:
    direction: str                   # 'upgrade' | 'downgrade'
    target: str
    current: tuple[str, ...]
    steps: list[PlannedStep]

    @property
    def is_empty(self) -> bool:
        return not self.steps


def alembic_config(ini_path: Path, database_url: str, *, stdout=None, output_buffer=None, x_arguments: tuple = ()):
    """Alembic's Config for the project whose main file is ``ini_path`` (Project.ini_path): an
    alembic.ini, with the pyproject.toml beside it when that has ``[tool.alembic]``, or a
    pyproject.toml alone, with the alembic.ini beside it (logging, sqlalchemy.url) if there is one."""
    from alembic.config import Config

    from ..config.discovery import has_tool_alembic

    ini_path = Path(ini_path)
    if ini_path.suffix == ".toml":
        toml_file, ini_file = ini_path, ini_path.parent / "alembic.ini"
    else:
        toml_file, ini_file = ini_path.parent / "pyproject.toml", ini_path
    config = Config(str(ini_file) if ini_file.is_file() else None,
                    toml_file=str(toml_file) if has_tool_alembic(toml_file) else None,
                    stdout=stdout or io.StringIO(), output_buffer=output_buffer)
    # ConfigParser interpolation would eat a '%' of a URL-quoted password: double it.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    if x_arguments:     # what `alembic -x KEY=VALUE` gives env.py's context.get_x_argument()
        import argparse

        config.cmd_opts = argparse.Namespace(x=list(x_arguments))
    return config


def script_directory(config):
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    try:
        return ScriptDirectory.from_config(config)
    except CommandError as exc:
        raise ConfigurationError(f"alembic: {exc}") from None


def translate_alembic_error(exc: BaseException) -> Optional[str]:
    """A one-line message for errors that mean 'the user must change something'; None otherwise."""
    from alembic.util import CommandError

    if isinstance(exc, ConfigurationError):
        return str(exc)
    if isinstance(exc, SyntaxError):
        return f"syntax error in revision {exc.filename}:{exc.lineno}: {exc.msg}"
    if isinstance(exc, CommandError):
        return "alembic: " + " ".join(str(exc).split())
    try:
        from alembic.script.revision import RevisionError
        if isinstance(exc, RevisionError):
            return "alembic: " + " ".join(str(exc).split())
    except ImportError:  # pragma: no cover
        pass
    if isinstance(exc, KeyError):   # Alembic's answer to a down_revision that names no revision
        return f"revision graph is broken: unknown revision {exc.args[0] if exc.args else ''!s}"
    return None


def _load_scripts(script) -> None:
    """Load every revision now (read with ast, or imported), so a broken file or graph is a clear
    error before anything runs."""
    try:
        list(script.walk_revisions())
    except Exception as exc:
        message = translate_alembic_error(exc)
        if message is None:
            message = f"cannot load revision scripts: {type(exc).__name__}: {exc}"
        raise ConfigurationError(message) from None


def _revision_being_imported(exc: BaseException) -> Optional[str]:
    """The revision file whose import by Alembic raised ``exc`` (its module-level code: an import
    that fails, a syntax error), None when ``exc`` came from elsewhere. Alembic imports every file
    before its first step."""
    suffix = os.path.join("alembic", "script", "base.py")
    frame = exc.__traceback__
    while frame is not None:
        code = frame.tb_frame.f_code
        if code.co_name == "_from_path" and code.co_filename.endswith(suffix):
            return str(frame.tb_frame.f_locals.get("path", "?"))
        frame = frame.tb_next
    return None


def load_script_directory(config, script=None):
    """Alembic's ScriptDirectory with every revision loaded (errors as one-line messages), for
    planning and describing the graph. The revisions are read with ``ast``, not imported, so the
    first import of a revision module happens where plain Alembic does it, inside the command
    while env.py runs (an env.py that looks at what is already imported behaves as under
    ``alembic upgrade``). A file ``ast`` cannot vouch for (see revision_graph.read_revision_file)
    makes the whole directory load by import, as before. ``script``: the ScriptDirectory env.py
    left (EnvironmentProbe.script), whose version locations may not be the config's."""
    from ..migration_files.revision_file import NotDeclarative

    script = script or script_directory(config)
    try:
        script.revision_map = _declared_revision_map(script)
    except NotDeclarative as exc:
        logging.getLogger(__name__).debug("planning imports the revision files: %s", exc)
    _load_scripts(script)
    return script


class _NotImported:
    """Where a step of Alembic's plan holds the revision module (``module.upgrade``): the
    revisions read with ast are for planning; Alembic imports the file when it runs it."""

    @staticmethod
    def upgrade():
        raise RuntimeError("a revision read with ast for planning cannot run")

    downgrade = upgrade


_NOT_IMPORTED = _NotImported()


def revision_file_paths(script) -> list:
    """The revision source files Alembic would load for ``script`` (its own listing of the version
    locations, as they are after env.py ran), each once. NotDeclarative when this Alembic lists
    them differently."""
    from ..migration_files.revision_file import NotDeclarative

    try:       # Alembic's private listing (1.20): another version may list differently
        from alembic.script.base import Script, _only_source_rev_file

        locations = [location for location in script._version_locations if location.exists()]
        listed = [path.resolve() for location in locations for path in Script._list_py_dir(script, location)]
    except (ImportError, AttributeError, TypeError) as exc:
        raise NotDeclarative(f"this Alembic lists revision files differently ({exc})") from None
    files, seen = [], set()
    for path in listed:
        if path not in seen and _only_source_rev_file.match(path.name):
            seen.add(path)
            files.append(path)
    return files


def _declared_revision_map(script):
    """Alembic's RevisionMap over the files Alembic would load for ``script`` (its own listing of
    the version locations), read with ``ast``. Each revision carries the ``path`` and ``doc`` its
    Script would have. The Revisions are made when the map is first used, as Alembic's own are, so
    a graph error (a loop, an unknown down revision) is raised by the same call with the same
    message. NotDeclarative when a file needs importing."""
    import re

    from alembic.script.revision import Revision, RevisionMap
    from alembic.util import to_tuple

    from ..migration_files.revision_file import NotDeclarative, read_revision_file

    if script.sourceless:
        raise NotDeclarative("sourceless = true: revisions may exist only as compiled files")
    files = [(path, read_revision_file(path)) for path in revision_file_paths(script)]

    def revisions():
        for path, declared in files:
            revision = Revision(declared.revision, declared.down_revision,
                                dependencies=to_tuple(declared.depends_on, default=()),
                                branch_labels=to_tuple(declared.branch_labels, default=()))
            revision.path = str(path)
            revision.doc = re.split("\n\n", declared.docstring.strip())[0]    # as Script.doc
            revision.module = _NOT_IMPORTED        # a plan step names the functions, never calls them
            yield revision

    return RevisionMap(revisions)


def make_plan(script, current: tuple[str, ...], direction: str, target: str) -> Plan:
    """The revisions an upgrade/downgrade to ``target`` would run, in order (no DB access).

    ``current`` goes to Alembic as the tuple of heads, exactly as its own ``command.upgrade`` passes
    ``MigrationContext.get_current_heads()``: joined into one string, two heads would read as one
    unknown revision, and relative targets (``label@-1``) or ``heads`` would be resolved wrongly."""
    try:
        if direction == "upgrade":
            raw_steps = script._upgrade_revs(target, tuple(current))
        else:
            raw_steps = script._downgrade_revs(target, tuple(current))
    except Exception as exc:
        message = translate_alembic_error(exc)
        if message is None:
            raise
        raise ConfigurationError(f"{message} ({direction} to {target} from "
                                 f"{', '.join(current) or 'base'})") from None
    steps = []
    for step in raw_steps:
        revision_script = step.revision
        down = revision_script.down_revision
        if isinstance(down, (tuple, list)):
            down = ",".join(down)
        steps.append(PlannedStep(revision_script.revision, down, revision_script.doc or "",
                                 revision_script.path, step.is_upgrade))
    return Plan(direction, target, current, steps)


@dataclass(frozen=True)
class VersionTable:
    """Where Alembic records the revision(s): env.py may rename the table or put it in a schema.
    The name comes from a setting or from env.py, so it reaches SQL only as a quoted identifier."""
    name: str = "alembic_version"
    schema: Optional[str] = None

    def identifier(self):
        from psycopg2 import sql

        return sql.Identifier(self.schema, self.name) if self.schema else sql.Identifier(self.name)

    def __str__(self) -> str:
        return f"{self.schema}.{self.name}" if self.schema else self.name


@dataclass
class EnvironmentProbe:
    """What env.py itself connects to and reads, learned by running it the way ``alembic
    current`` does (no revision loaded, nothing written): the heads as Alembic sees them, the
    version table it keeps them in, the identity of the database it reached, and the
    ScriptDirectory as env.py left it (``context.script``: the version locations it set), which is
    the one Alembic plans with."""
    heads: tuple
    version_table: "VersionTable"
    identity: Optional[object]        # DatabaseIdentity of env.py's connection (offline env.py: None)
    script: object = None
    autocommit: bool = False          # env.py's migration connection runs in AUTOCOMMIT
    transaction_per_migration: bool = False
    # the lock_timeout env.py leaves for the revisions when it sets its own (``SET LOCAL
    # lock_timeout = '180s'`` before run_migrations, as Langflow's does), as the server shows it;
    # None when the session's value (the wrapper's) is in force
    lock_timeout_override: Optional[str] = None


def probe_environment(config, guard=None, *, purpose: str = "env.py could not run",
                      offline: bool = False) -> EnvironmentProbe:
    """Run env.py once without migrating. Import errors, a missing driver or a broken env.py
    surface here — before any backup — as ConfigurationError (``purpose`` begins its message); a
    connection to another database than ``guard`` protects raises WrongDatabase before its first
    statement. ``offline``: env.py runs in its ``--sql`` branch, connecting to nothing (the heads
    are then unknown: ())."""
    from alembic.runtime.environment import EnvironmentContext

    from ..postgres.identity import IDENTITY_SQL, WrongDatabase, identity_from_row

    script = script_directory(config)
    learned: dict = {}

    def learn(heads, context):
        learned["version_table"] = VersionTable(context.version_table, context.version_table_schema)
        learned["transaction_per_migration"] = bool(context.opts.get("transaction_per_migration"))
        if context.as_sql:
            return []
        learned["heads"] = tuple(sorted(context.get_current_heads()))
        connection = context.connection
        if connection is not None:
            learned["identity"] = identity_from_row(connection.exec_driver_sql(IDENTITY_SQL).fetchone())
            # psycopg2's and SQLAlchemy's asyncpg adapter's flag, as CommitTracker reads it
            learned["autocommit"] = bool(getattr(connection.connection.dbapi_connection, "autocommit", False))
            learned["lock_timeout_override"] = _lock_timeout_override(connection)
        return []

    if offline:
        config.output_buffer = io.StringIO()      # the version table's CREATE that offline mode prints
    try:
        with (guard.watching() if guard is not None else contextlib.nullcontext()), \
                contextlib.redirect_stdout(sys.stderr), \
                EnvironmentContext(config, script, fn=learn, dont_mutate=True, as_sql=offline):
            script.run_env()
    except WrongDatabase:
        raise
    except Exception as exc:
        needs = what_env_py_needs(exc)
        raise ConfigurationError(f"{purpose}, nothing was changed: {describe_environment_error(exc)}"
                                 + (f"; {needs}" if needs else ""),
                                 hint=(f"run it through an adapter env.py: {OWN_RUNNER_DOCS}" if needs else
                                       "a configuration problem of the project (imports, driver, settings), "
                                       "not a failed migration; an env.py that runs only under the project's own "
                                       f"runner needs an adapter: {OWN_RUNNER_DOCS}")) from None
    if "version_table" not in learned:
        raise ConfigurationError(f"{purpose}: env.py did not call context.run_migrations(); nothing was changed")
    return EnvironmentProbe(learned.get("heads", ()), learned["version_table"], learned.get("identity"), script,
                            learned.get("autocommit", False), learned["transaction_per_migration"],
                            learned.get("lock_timeout_override"))


def _lock_timeout_override(connection) -> Optional[str]:
    """The lock_timeout in force where env.py runs the revisions, when it is not the one the session
    started with (the wrapper's, through PGOPTIONS or asyncpg's server_settings): env.py set it."""
    try:
        row = connection.exec_driver_sql(
            "SELECT current_setting('lock_timeout'), setting IS DISTINCT FROM reset_val"
            " FROM pg_settings WHERE name = 'lock_timeout'").fetchone()
    except Exception:  # noqa: BLE001 - a fact we could not read is no reason to stop the probe
        return None
    return row[0] if row is not None and row[1] else None


OWN_RUNNER_DOCS = 'docs/own-project.md, "An env.py that needs its own runner"'


def what_env_py_needs(exc: BaseException) -> Optional[str]:
    """What an env.py that failed outside its project's own runner was missing, when the failure
    says so: an event loop, a connection the runner hands it, an environment variable."""
    text = str(exc)
    if isinstance(exc, RuntimeError) and "event loop" in text:
        return ("env.py needs an event loop that the project's own runner provides "
                "(the tool runs env.py in plain Python, as `alembic` does)")
    frames = []
    trace = exc.__traceback__
    while trace is not None:
        frames.append(trace.tb_frame)
        trace = trace.tb_next
    if isinstance(exc, KeyError) and frames:
        last = frames[-1]
        if last.f_code.co_name == "__getitem__" and last.f_code.co_filename.endswith(("os.py", "<frozen os>")):
            return (f"env.py reads the environment variable {exc.args[0] if exc.args else '?'}, which is not set "
                    "(its project's runner sets it)")
        if exc.args and exc.args[0] == "connection":
            return "env.py expects a connection in config.attributes[\"connection\"], which its project's runner passes"
    return None


def describe_environment_error(exc: BaseException) -> str:
    # env.py's own KeyError is not Alembic's "unknown revision": only Alembic's errors are translated
    message = translate_alembic_error(exc) if not isinstance(exc, KeyError) else None
    if message:
        return message
    original = getattr(exc, "orig", None)
    if original is not None:
        lines = [line for line in str(original).splitlines() if line.strip()]
        return lines[0].strip() if lines else type(original).__name__
    return f"{type(exc).__name__}: {' '.join(mask(str(exc)).split())}"[:300]


def read_current_heads(connection, version_table: VersionTable = VersionTable()) -> tuple[str, ...]:
    """The revision(s) recorded in the version table; () when there is no table yet."""
    from psycopg2 import sql

    identifier = version_table.identifier()
    exists = query_one(connection, "SELECT to_regclass(%s) IS NOT NULL", (identifier.as_string(connection),))[0]
    if not exists:
        return ()
    rows = query_all(connection, sql.SQL("SELECT version_num FROM {} ORDER BY version_num").format(identifier))
    return tuple(row[0] for row in rows)


# Statements that end or start a transaction behind the wrapper's back (op.execute("COMMIT"),
# a script's own BEGIN ... COMMIT, also after a comment or in the middle of a multi-statement string).
_TRANSACTION_CONTROL = re.compile(
    r"^\s*(COMMIT|END|ROLLBACK|ABORT|BEGIN|START\s+TRANSACTION|PREPARE\s+TRANSACTION)\b(?!\s*\.)",
    re.IGNORECASE)
_COMMENTS = re.compile(r"--[^\n]*|/\*.*?\*/", re.DOTALL)
# $$ bodies (DO blocks, functions) hold BEGIN ... END of PL/pgSQL, not transaction control.
_DOLLAR_QUOTED = re.compile(r"\$(\w*)\$.*?\$\1\$", re.DOTALL)


def controls_transactions(statement: str) -> bool:
    """Does ``statement`` (possibly several, separated by semicolons) start, end or roll back a
    transaction itself? Judged without a parser, erring towards yes: a false alarm costs a restore,
    a miss would call a half-committed run unchanged."""
    text = _DOLLAR_QUOTED.sub(" ", _COMMENTS.sub(" ", statement))
    return any(_TRANSACTION_CONTROL.match(part) for part in text.split(";"))


# What one of the run's transactions wrote, read on its own connection just before it commits:
# its transaction id (the xmin of every row it wrote) and the tables it changed rows of.
OWN_CHANGES_SQL = """
SELECT pg_catalog.txid_current_if_assigned(),
       coalesce(array_agg(ARRAY[schemaname::text, relname::text]), '{}'),
       coalesce(array_agg(ARRAY[schemaname::text, relname::text]) FILTER (WHERE n_tup_del > 0), '{}'),
       coalesce(array_agg(ARRAY[schemaname::text, relname::text]) FILTER (WHERE n_tup_upd > 0), '{}')
FROM pg_catalog.pg_stat_xact_user_tables WHERE n_tup_ins + n_tup_upd + n_tup_del > 0
"""


def learn_version_table(config) -> VersionTable:
    """The version table env.py configures, from the MigrationContext Alembic builds (see
    ``probe_environment``). When env.py fails, ConfigurationError: a guess could read the wrong
    table and report the wrong revision."""
    return probe_environment(config, purpose="cannot learn the version table from env.py").version_table


@dataclass
class CommitTracker:
    """The facts that say whether a failed run left anything behind, gathered while Alembic
    runs: commits and statements in autocommit mode (``autocommit_block``) seen through
    SQLAlchemy's events, ``COMMIT`` statements run through it, connections a revision opened
    on the side with psycopg2 (whose commits SQLAlchemy never sees), and connections opened on
    the side with a driver whose commits nothing here can see (asyncpg), which count as having
    committed.

    It also tells the run's own writes from other sessions': each commit it sees records the
    committing transaction's id and the tables it changed (``own_xids``, ``own_tables``). Where a
    commit happens out of its sight (a side connection, autocommit, a script's own COMMIT) the
    attribution is incomplete and ``unattributed`` says why; the restore then treats every row it
    cannot prove the run's as another session's."""
    commits: int = 0
    autocommit_statements: int = 0
    backend_pids: set = field(default_factory=set)     # server processes SQLAlchemy connected to
    side_pids: set = field(default_factory=set)        # driver connections SQLAlchemy did not make
    unwatched: dict = field(default_factory=dict)      # pid -> driver: side connections whose commits are unseen
    engines: list = field(default_factory=list)
    own_xids: set = field(default_factory=set)         # ids of the run's committed transactions
    own_tables: set = field(default_factory=set)       # (schema, table) those transactions changed rows of
    # of those, the tables they deleted rows from and updated rows of: a row missing from such a
    # table when the restore begins may be the run's doing (an update can change a row's key)
    own_deletes: set = field(default_factory=set)
    own_updates: set = field(default_factory=set)
    unattributed_reasons: list = field(default_factory=list)
    announced: set = field(default_factory=set)        # id() of DBAPI connections about to commit through us

    @property
    def committed_anything(self) -> bool:
        return self.commits > 0 or self.autocommit_statements > 0

    @property
    def all_pids(self) -> set:
        return self.backend_pids | self.side_pids

    @property
    def unwatched_connections(self) -> list:
        """The side connections whose commits nothing could see, described ('asyncpg pid 123')."""
        return [f"{driver} pid {pid}" for pid, driver in sorted(self.unwatched.items())]

    @property
    def unattributed(self) -> list:
        """Why some of the run's commits cannot be told from other sessions' (empty: all can)."""
        reasons = list(dict.fromkeys(self.unattributed_reasons))       # each reason once, in order
        if self.side_pids:
            reasons.append("a revision opened connections of its own")
        if self.autocommit_statements:
            reasons.append("statements ran in autocommit mode")
        return reasons

    def record_own_commit(self, dbapi_connection) -> bool:
        """Just before ``dbapi_connection`` (psycopg2) commits: what its transaction wrote. False
        when it provably wrote nothing (no transaction id was assigned)."""
        try:
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute(OWN_CHANGES_SQL)
                xid, tables, deleted_from, updated = cursor.fetchone()
            finally:
                cursor.close()
        except Exception as exc:  # an aborted transaction cannot commit anyway; anything else: unknown
            self.unattributed_reasons.append(f"could not read what a commit wrote ({type(exc).__name__})")
            return True
        if xid is not None:
            self.own_xids.add(int(xid))
        self.own_tables.update((schema, table) for schema, table in tables)
        self.own_deletes.update((schema, table) for schema, table in deleted_from)
        self.own_updates.update((schema, table) for schema, table in updated)
        return xid is not None

    def transaction_control_seen(self, statement: str) -> None:
        self.commits += 1
        self.unattributed_reasons.append(f"a statement controls transactions itself: {' '.join(statement.split())[:80]}")

    def announce_commit(self, dbapi_connection) -> None:
        """The wrapper (SQLAlchemy's Transaction, the SQL folder runner) is about to commit it."""
        self.announced.add(id(dbapi_connection))

    def dbapi_commit(self, dbapi_connection) -> None:
        """A psycopg2 connection opened during the run commits: nobody announced it, so a revision
        called commit() on a DBAPI connection itself (``op.get_bind().connection.commit()``)."""
        if id(dbapi_connection) in self.announced:
            self.announced.discard(id(dbapi_connection))
            return
        if self.record_own_commit(dbapi_connection):
            self.commits += 1
            self.unattributed_reasons.append("a revision called commit() on a DBAPI connection")

    def _on_commit(self, connection) -> None:
        self.commits += 1
        dbapi_connection = connection.connection.dbapi_connection
        self.announce_commit(dbapi_connection)
        self.record_own_commit(dbapi_connection)

    def _on_pool_connect(self, dbapi_connection, connection_record) -> None:
        pid = _backend_pid(dbapi_connection)
        if pid is not None:
            self.backend_pids.add(pid)
            self.side_pids.discard(pid)
            self.unwatched.pop(pid, None)

    def _on_engine_connect(self, connection) -> None:
        if all(engine is not connection.engine for engine in self.engines):
            self.engines.append(connection.engine)

    def close_connections(self) -> None:
        """Close what env.py's engines keep pooled, so those backends end and flush their
        statistics (the selective restore and the committed-changes check read them)."""
        for engine in self.engines:
            try:
                engine.dispose()
            except Exception:  # a broken pool must not stop the restore
                pass

    def _on_execute(self, connection, cursor, statement, parameters, context, executemany) -> None:
        # the DBAPI connection through SQLAlchemy's Connection: asyncpg's adapted cursor has none
        dbapi_connection = connection.connection.dbapi_connection
        if getattr(dbapi_connection, "autocommit", False):
            self.autocommit_statements += 1
        elif controls_transactions(statement):
            if hasattr(dbapi_connection, "get_backend_pid"):   # what the transaction it may end wrote
                self.record_own_commit(dbapi_connection)
            self.transaction_control_seen(statement)

    @contextlib.contextmanager
    def _psycopg2_connections(self, guard) -> Iterator[None]:
        """Every psycopg2 connection opened meanwhile: SQLAlchemy's are told apart by the pool
        event that follows; the others are side connections. Each is checked by ``guard``."""
        import psycopg2

        original = psycopg2.connect

        tracked_class = _tracked_connection_class(self)

        def connect(*args, **kwargs):
            if len(args) <= 1 and kwargs.get("connection_factory") is None:
                kwargs["connection_factory"] = tracked_class     # its commit() records what it wrote
            dbapi_connection = original(*args, **kwargs)
            self.side_pids.add(dbapi_connection.get_backend_pid())
            if guard is not None:
                guard.check(dbapi_connection, "a connection opened by a revision or env.py")
            return dbapi_connection

        psycopg2.connect = connect
        try:
            yield
        finally:
            psycopg2.connect = original

    def _unwatched_connected(self, driver: str, pid: int) -> None:
        """A connection of ``driver`` was opened: a side connection unless SQLAlchemy's pool
        event claims it next (SQLAlchemy's asyncpg dialect connects through the same function)."""
        self.side_pids.add(pid)
        self.unwatched[pid] = driver

    def _watch_asyncpg(self, connect_utils):
        """Wrap ``connect_utils._connect``, the coroutine every asyncpg connection is opened by;
        returns what undoes it."""
        original = connect_utils._connect

        async def _connect(*args, **kwargs):
            connection = await original(*args, **kwargs)
            self._unwatched_connected("asyncpg", connection.get_server_pid())
            return connection

        connect_utils._connect = _connect
        return lambda: setattr(connect_utils, "_connect", original)

    @contextlib.contextmanager
    def _unwatched_drivers(self) -> Iterator[None]:
        """Drivers whose commits no hook can see (asyncpg has no commit(): a statement outside a
        transaction block commits as it runs), watched where every connection of theirs is opened,
        whatever entry point the caller used (``asyncpg.connect``, a pool, a name imported before
        the run). Patched at once when the driver is already imported (env.py's dialect, a module
        env.py imports), else the moment the run imports it (``import``, ``importlib``): a driver
        the project does not use is never imported."""
        undo = []
        watchers = {"asyncpg.connect_utils": self._watch_asyncpg}      # module -> how to watch it
        for module, watch in watchers.items():
            if module in sys.modules:
                undo.append(watch(sys.modules[module]))
        pending = {module: watch for module, watch in watchers.items() if module not in sys.modules}
        finder = _AfterImport(pending, lambda module, watch: undo.append(watch(module)))
        if pending:
            sys.meta_path.insert(0, finder)
        try:
            yield
        finally:
            if finder in sys.meta_path:
                sys.meta_path.remove(finder)
            for restore in reversed(undo):
                restore()

    @contextlib.contextmanager
    def _programs(self) -> Iterator[None]:
        """A program a revision starts (``psql -c ...``, a script) may connect and commit where
        nothing here can see it: counted as a commit the run cannot attribute."""
        import subprocess

        original = subprocess.Popen

        class WatchedPopen(original):
            def __init__(popen, args, *rest, **kwargs):
                program = args if isinstance(args, (str, bytes)) else (list(args)[:1] or [""])[0]
                self.commits += 1
                self.unattributed_reasons.append(f"a revision started a program ({os.path.basename(str(program))[:40]})")
                super().__init__(args, *rest, **kwargs)

        subprocess.Popen = WatchedPopen
        try:
            yield
        finally:
            subprocess.Popen = original

    @contextlib.contextmanager
    def listening(self, guard=None) -> Iterator["CommitTracker"]:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine
        from sqlalchemy.pool import Pool

        listeners = [(Engine, "commit", self._on_commit), (Engine, "before_cursor_execute", self._on_execute),
                     (Engine, "engine_connect", self._on_engine_connect), (Pool, "connect", self._on_pool_connect)]
        for target, name, function in listeners:
            event.listen(target, name, function)
        try:
            with self._psycopg2_connections(guard), self._unwatched_drivers(), self._programs(), \
                    (guard.watching() if guard else contextlib.nullcontext()):
                yield self
        finally:
            for target, name, function in listeners:
                event.remove(target, name, function)


def _backend_pid(dbapi_connection) -> Optional[int]:
    """The server process of a connection SQLAlchemy's pool made, so it is known as the run's own
    (the server's list of the run's backends is checked against it): psycopg2 asks libpq, psycopg 3
    keeps it in ``info``, SQLAlchemy's asyncpg adapter wraps the asyncpg connection."""
    if hasattr(dbapi_connection, "get_backend_pid"):
        return dbapi_connection.get_backend_pid()
    if hasattr(getattr(dbapi_connection, "info", None), "backend_pid"):
        return dbapi_connection.info.backend_pid
    if hasattr(getattr(dbapi_connection, "_connection", None), "get_server_pid"):
        return dbapi_connection._connection.get_server_pid()
    return None


class _AfterImport:
    """A ``sys.meta_path`` finder that calls ``then(module, value)`` right after a module named in
    ``pending`` (name -> value) has been executed by its first import. It finds nothing itself:
    the module is found and loaded by the finders after it, as it would be without this one."""

    def __init__(self, pending: dict, then) -> None:
        self.pending, self.then = pending, then

    def find_spec(self, fullname, path, target=None):
        if fullname not in self.pending:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        if spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        execute, value = spec.loader.exec_module, self.pending.pop(fullname)

        def exec_module(module):
            execute(module)
            self.then(module, value)

        spec.loader.exec_module = exec_module       # this spec's own loader, made for this import
        return spec


def _tracked_connection_class(tracker: CommitTracker):
    """A psycopg2 connection class whose commit() first records, for ``tracker``, what the
    transaction wrote (``with connection:`` commits through it too)."""
    import psycopg2.extensions

    class TrackedConnection(psycopg2.extensions.connection):
        def commit(self):
            if not self.autocommit and not self.closed:
                tracker.dbapi_commit(self)
            return super().commit()

    return TrackedConnection


# The name every connection opened while Alembic runs carries (through PGOPTIONS), so they can be
# told apart from the wrapper's own and waited for.
RUN_APPLICATION_NAME = "migration_safety_run"
# The name of the connections env.py opens while it is probed (before the run): the tool's own too.
PROBE_APPLICATION_NAME = "migration_safety_probe"


@contextlib.contextmanager
def session_options(lock_timeout: str, statement_timeout: str,
                    application_name: str = RUN_APPLICATION_NAME, *, server_major: int = 0) -> Iterator[None]:
    """Apply timeouts to every connection opened in this process meanwhile (env.py's): libpq
    drivers (psycopg2, psycopg) read ``PGOPTIONS``; asyncpg does not, so it gets the same
    settings as ``server_settings`` (sent in the startup packet, like ``PGOPTIONS``) through
    SQLAlchemy's ``do_connect`` event, which sees every connection any engine opens.

    From PostgreSQL 14 (``server_major``) the server also checks every second, while a statement
    runs, that the client is still there: a run killed with its machine (a cancelled CI job) does
    not leave a revision waiting in the lock queue, or updating a large table, for nobody. An older
    server would refuse the unknown setting at connection time, so it is not sent there."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    settings = {"lock_timeout": lock_timeout, "statement_timeout": statement_timeout,
                "application_name": application_name}
    settings.update(client_check_settings(server_major))

    def asyncpg_server_settings(dialect, connection_record, cargs, cparams) -> None:
        if dialect.driver == "asyncpg":
            # as with libpq, settings the user put on the connection itself win
            cparams["server_settings"] = {**settings, **(cparams.get("server_settings") or {})}

    previous = os.environ.get("PGOPTIONS")
    os.environ["PGOPTIONS"] = " ".join(f"-c {name}={value}" for name, value in settings.items())
    event.listen(Engine, "do_connect", asyncpg_server_settings)
    try:
        yield
    finally:
        event.remove(Engine, "do_connect", asyncpg_server_settings)
        if previous is None:
            os.environ.pop("PGOPTIONS", None)
        else:
            os.environ["PGOPTIONS"] = previous


@contextlib.contextmanager
def displayable_log_records() -> Iterator[None]:
    """Meanwhile every log record's message is made displayable (redaction.displayable: control
    characters stripped, the password masked): Alembic logs each revision's message ("Running
    upgrade a -> b, <message>") through whatever handlers env.py's fileConfig() installs, so the
    records themselves are cleaned, at creation, whoever prints them."""
    import logging
    import threading

    from ..base.redaction import displayable

    previous = logging.getLogRecordFactory()
    # Only the run's own thread: in the service other threads log too (uvicorn's access log,
    # whose formatter needs its record's arguments), and their records are not the run's.
    run_thread = threading.get_ident()

    def factory(*args, **kwargs):
        record = previous(*args, **kwargs)
        if record.thread != run_thread:
            return record
        try:
            record.msg, record.args = displayable(record.getMessage()), ()
        except Exception:       # a malformed record: logging reports it when it is emitted
            pass
        return record

    logging.setLogRecordFactory(factory)
    try:
        yield
    finally:
        logging.setLogRecordFactory(previous)


def run_command(config, direction: str, target: str, *, sql: bool = False) -> None:
    """Alembic's own command; anything it prints goes to stderr so stdout stays ours (JSON), and
    what it logs is displayable."""
    import sys

    from alembic import command

    with contextlib.redirect_stdout(sys.stderr), displayable_log_records():
        try:
            if direction == "upgrade":
                command.upgrade(config, target, sql=sql)
            else:
                command.downgrade(config, target, sql=sql)
        except Exception as exc:
            # Planning reads the files without importing them; Alembic imports them all before its
            # first step, so a revision that cannot be imported stops the run before any change.
            path = _revision_being_imported(exc)
            if path is None:
                raise
            raise ConfigurationError(f"cannot import revision {Path(path).name}: "
                                     f"{type(exc).__name__}: {' '.join(mask(str(exc)).split())}"[:300],
                                     hint="a configuration problem of the project (what a revision file "
                                          "imports), not a failed migration") from None


def offline_sql(ini_path: Path, database_url: str, plan: Plan, *, env_decides_plan: bool = False,
                x_arguments: tuple = ()) -> str:
    """The SQL Alembic would run for the planned revisions (offline ``--sql`` mode), revision by
    revision: a revision that cannot be rendered offline (it reads data, or ``batch_alter_table``
    needs to reflect the table) is shown as "not renderable offline: <why>" and the others still
    render, so a dry run always shows the plan.

    Each revision runs in its own ``EnvironmentContext`` whose starting heads are the heads the
    plan has reached at that step (a tuple: several heads are normal), so the version-table
    statements are the ones the real run would issue. ``env_decides_plan``: the revisions are
    where env.py puts them, so env.py runs first (offline) to say where."""
    config = alembic_config(ini_path, database_url, x_arguments=x_arguments)   # first: Alembic enters through it
    if env_decides_plan:
        script = probe_environment(config, offline=True, purpose="cannot render the SQL offline").script
    else:
        script = script_directory(config)        # loaded once: every step reuses its modules
    from alembic.runtime.migration import RevisionStep
    heads = tuple(plan.current)
    parts = []
    for step in plan.steps:
        revision_step = RevisionStep(script.revision_map, script.get_revision(step.revision), step.is_upgrade)
        try:
            parts.append(f"-- {step.label}\n{_render_offline(config, script, revision_step, heads)}")
        except Exception as exc:
            why = translate_alembic_error(exc) or (f"{type(exc).__name__}: {' '.join(mask(str(exc)).split())}"[:300]
                                                   + " (it needs a live connection: it reads data or reflects a table)")
            parts.append(f"-- {step.label}\n-- not renderable offline: {why}\n")
        heads = _heads_after(heads, step)
    return "\n".join(parts)


def _render_offline(config, script, revision_step, heads: tuple) -> str:
    """One revision's SQL: Alembic's ``upgrade --sql`` body with ``heads`` as the starting point
    (offline mode reads them from ``starting_rev`` instead of the database)."""
    from alembic.runtime.environment import EnvironmentContext

    buffer = config.output_buffer = io.StringIO()
    with contextlib.redirect_stdout(sys.stderr), \
            EnvironmentContext(config, script, fn=lambda _heads, _context: [revision_step], as_sql=True,
                               starting_rev=heads or None, destination_rev=revision_step.revision.revision):
        script.run_env()
    return buffer.getvalue()


def _heads_after(heads: tuple, step: PlannedStep) -> tuple:
    downs = tuple(step.down_revision.split(",")) if step.down_revision else ()
    if step.is_upgrade:
        return tuple(h for h in heads if h not in downs) + (step.revision,)
    return tuple(h for h in heads if h != step.revision) + tuple(d for d in downs if d not in heads)


def unresolvable_imports(paths) -> list:
    """``(file, module)`` for each module a revision file imports at its top level, outside any
    ``try``, that Python cannot find: the file would fail when Alembic imports it. Found without
    importing anything (``importlib.util.find_spec`` of the top-level package, on the ``sys.path``
    the env.py probe left, ``prepend_sys_path`` included), so a run that cannot import its
    revisions stops as a configuration error before the backup, as plain Alembic's would before
    its first step."""
    import ast
    import importlib.util

    missing = []
    for path in paths:
        try:
            tree = ast.parse(Path(path).read_bytes(), filename=str(path))
        except (OSError, SyntaxError, ValueError):
            continue                    # the validator reports a file it cannot read
        for node in tree.body:
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.partition(".")[0]
                try:
                    found = top in sys.modules or importlib.util.find_spec(top) is not None
                except (ImportError, ValueError):
                    found = False
                if not found:
                    missing.append((str(path), name))
    return missing
