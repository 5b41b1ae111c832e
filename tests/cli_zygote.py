"""A process that has already imported what the CLI imports and forks a fresh CLI process for
each ``harness.run_cli`` call (a fork server, as multiprocessing's ``forkserver``).

Why: every CLI run pays about half a CPU-second importing Alembic, SQLAlchemy, psycopg2, pglast
and rich before it does anything; the suite runs the CLI hundreds of times on two cores. A fork of
a process that has done those imports starts in milliseconds.

What stays real: each run is its own OS process (its own pid, which the run records in its lock
and journal) with the caller's argv, environment (``os.environ`` and the C environment libpq and
the tools read), working directory, umask and stdin/stdout/stderr (the caller's pipes, passed
over a Unix socket), running ``migrations/migration_utils.py`` as ``__main__``, and its exit status
(a signal included) goes back to the caller. What differs from a new interpreter: the modules the
zygote imported are not imported again (a module that imports only when another was imported
before it would go unnoticed here), and Python's start-up options (``-X``, ``PYTHON*`` variables
read at start-up) are the zygote's. The tests that start the CLI with ``subprocess.Popen``, the
shell examples of the docs and ``MIGRATION_TEST_FRESH_CLI=1`` (every ``run_cli`` a new interpreter)
keep that covered.

    python tests/cli_zygote.py SOCKET_PATH

Protocol, one connection per run: the caller sends one JSON request (argv, env, cwd, umask) with
three descriptors (stdin, stdout, stderr); the zygote answers with the run's pid as a line, then,
when the run has ended, its status as a second line: the exit code, or minus the signal that
ended it.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SCRIPT = REPO_ROOT / "migrations" / "migration_utils.py"
# What a CLI run imports on its common paths (upgrade, downgrade, validate, status, restore,
# backups, recover, history, create, fix); anything else is imported by the run itself.
PRELOAD = (
    "migration_safety.face.cli", "migration_safety.face.dispatch", "migration_safety.face.render",
    "migration_safety.face.validation_report", "migration_safety.commands", "migration_safety.api",
    "migration_safety.run.pipeline", "migration_safety.run.rehearsal", "migration_safety.sources.alembic_source",
    "migration_safety.sources.sql_folder", "migration_safety.backup.restore", "migration_safety.backup.scope",
    "migration_safety.validation.checker", "migration_safety.validation.live", "migration_safety.validation.fixes",
    "alembic.command", "alembic.config", "alembic.runtime.migration", "alembic.autogenerate",
    "sqlalchemy", "sqlalchemy.dialects.postgresql", "psycopg2", "psycopg2.extras", "pglast", "yaml",
    "rich.console", "rich.table", "rich.progress", "libcst",
)


def preload() -> list:
    sys.path.insert(0, str(SCRIPT.parent))
    import importlib

    for name in PRELOAD:
        importlib.import_module(name)
    return list(sys.path[1:])


def run_cli_in_this_process(request: dict, base_path: list) -> None:
    """Become the CLI process the request describes; never returns."""
    code = 1
    try:
        os.chdir(request["cwd"])
        os.umask(request["umask"])
        os.environ.clear()
        os.environ.update(request["env"])
        import tempfile
        import time

        time.tzset()
        tempfile.tempdir = None
        extra = [p for p in request["env"].get("PYTHONPATH", "").split(os.pathsep) if p]
        sys.path[:] = [str(SCRIPT.parent), *extra, *base_path]
        sys.argv = [str(SCRIPT), *request["argv"]]
        sys.stdin = open(0, "r", encoding="utf-8", closefd=False)
        sys.stdout = open(1, "w", encoding="utf-8", closefd=False, buffering=1 if os.isatty(1) else -1)
        sys.stderr = open(2, "w", encoding="utf-8", closefd=False, buffering=1, errors="backslashreplace")
        import runpy

        runpy.run_path(str(SCRIPT), run_name="__main__")   # the CLI leaves with os._exit itself
        code = 0
    except SystemExit as exc:
        if isinstance(exc.code, int) or exc.code is None:
            code = exc.code or 0
        else:
            sys.stderr.write(f"{exc.code}\n")
    except BaseException:  # what an interpreter prints for an uncaught exception, as it would
        import traceback

        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        os._exit(code)


def serve_one(connection: socket.socket, base_path: list) -> None:
    """In a child of the zygote: start the run, tell its pid, wait for it, tell its status."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    message, fds, _, _ = socket.recv_fds(connection, 1 << 20, 3)
    request = json.loads(message)
    pid = os.fork()
    if pid == 0:
        connection.close()
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        run_cli_in_this_process(request, base_path)
    for fd in fds:
        os.close(fd)
    connection.sendall(f"{pid}\n".encode())
    _, status = os.waitpid(pid, 0)
    code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
    try:
        connection.sendall(f"{code}\n".encode())
    except BrokenPipeError:         # the test gave up on the run (a timeout) and killed it
        pass
    os._exit(0)


def main(socket_path: str) -> None:
    """Serve until stdin closes (the test process that started the zygote ended)."""
    import selectors

    base_path = preload()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)     # the per-run children reap themselves
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(socket_path)
    server.listen(16)
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    watched = selectors.DefaultSelector()
    watched.register(server, selectors.EVENT_READ)
    watched.register(sys.stdin, selectors.EVENT_READ)
    while True:
        for key, _ in watched.select():
            if key.fileobj is sys.stdin:
                return
            connection, _ = server.accept()
            if os.fork() == 0:
                watched.close()
                server.close()
                serve_one(connection, base_path)
            connection.close()


if __name__ == "__main__":
    main(sys.argv[1])
