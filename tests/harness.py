"""Test helpers: one throwaway PostgreSQL cluster per session, a fresh database per test, the
CLI as a subprocess, and fingerprint() — the database's state, compared before and after."""
from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import subprocess
import tempfile
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT / "scripts"))
for path in (REPO_ROOT, REPO_ROOT / "migrations"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import local_postgres  # noqa: E402

APP_USER = "app_user"
APP_PASSWORD = "s3cr@t%:/!pass"          # special characters on purpose


@dataclass
class Database:
    cluster: "local_postgres.Cluster"
    name: str
    user: str = APP_USER
    password: str = field(default=APP_PASSWORD, repr=False)

    @property
    def host(self) -> str:
        return self.cluster.host

    @property
    def port(self) -> int:
        return self.cluster.port

    @property
    def url(self) -> str:
        return (f"postgresql://{quote(self.user, safe='')}:{quote(self.password, safe='')}"
                f"@{self.host}:{self.port}/{self.name}")

    def env(self) -> dict:
        environment = {k: v for k, v in os.environ.items()
                       if not k.startswith(("POSTGRES_", "PG", "MIGRATION_")) and k != "DATABASE_URL"}
        environment.update(POSTGRES_HOST=self.host, POSTGRES_PORT=str(self.port), POSTGRES_DB=self.name,
                           POSTGRES_USER=self.user, POSTGRES_PASSWORD=self.password)
        return environment

    def connect(self):
        import psycopg2
        connection = psycopg2.connect(host=self.host, port=self.port, user=self.user, password=self.password,
                                      dbname=self.name)
        connection.autocommit = True
        return connection

    def observe(self, query: str, params=None) -> list:
        """``query`` from the cluster's ``postgres`` database: watching this database from outside
        (pg_stat_activity, pg_locks) without being one of its sessions, which the tool would count
        as an application's (then leaving the sequences it drew from advanced, for one)."""
        connection = self.cluster.admin_connect("postgres")
        try:
            with connection.cursor() as cursor:
                cursor.execute(query, params)
                return cursor.fetchall() if cursor.description else []
        finally:
            connection.close()

    def sql(self, query: str, params=None) -> list:
        connection = self.connect()
        try:
            with connection.cursor() as cursor:
                cursor.execute(query, params)
                return cursor.fetchall() if cursor.description else []
        finally:
            connection.close()


def new_database(cluster) -> Database:
    name = "t_" + uuid.uuid4().hex[:12]
    cluster.create_database(name, APP_USER)
    return Database(cluster, name)


def _normalized_schema(text: str) -> str:
    lines = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("--") or stripped.startswith(("\\restrict", "\\unrestrict")):
            continue
        lines.append(line.rstrip())
    return "\n".join(lines)


def fingerprint(database: Database) -> dict:
    """Schema (pg_dump --schema-only, every schema but the wrapper's audit trail), each table's
    row count and content hash, each sequence's position, and the version table."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["PGPASSWORD"] = database.password
    dump = subprocess.run(
        ["pg_dump", "--schema-only", "--no-password", "--exclude-schema=migration_safety",
         f"--dbname=host={database.host} port={database.port} user={database.user} dbname={database.name}"],
        capture_output=True, text=True, env=env, check=True).stdout
    tables = database.sql(
        "SELECT quote_ident(schemaname) || '.' || quote_ident(tablename) FROM pg_tables"
        " WHERE schemaname NOT IN ('pg_catalog', 'information_schema', 'migration_safety') ORDER BY 1")
    contents = {}
    for (table,) in tables:
        count, digest = database.sql(
            f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {table} t")[0]
        contents[table] = (count, digest)
    sequences = {}
    for (sequence,) in database.sql(
            "SELECT quote_ident(schemaname) || '.' || quote_ident(sequencename) FROM pg_sequences"
            " WHERE schemaname <> 'migration_safety' ORDER BY 1"):
        sequences[sequence] = database.sql(f"SELECT last_value, is_called FROM {sequence}")[0]
    return {"schema_sha256": hashlib.sha256(_normalized_schema(dump).encode()).hexdigest(),
            "schema": _normalized_schema(dump), "tables": contents, "sequences": sequences}


# The example project's own revisions. Tests use a copy holding only these, so a revision a
# developer creates in migrations/versions/ by following the README cannot change the suite.
EXAMPLE_REVISIONS = ("001_initial_schema.py", "002_crops_and_harvests.py", "003_field_soil_profile.py")
_example_copy: list = []


def example_project() -> Path:
    """alembic.ini of a copy of the example project (made once per test session)."""
    if not _example_copy:
        root = Path(tempfile.mkdtemp(prefix="migration_safety_example_"))
        atexit.register(shutil.rmtree, root, True)
        source = REPO_ROOT / "migrations"
        (root / "versions").mkdir()
        for name in ("env.py", "script.py.mako"):
            shutil.copy2(source / name, root / name)
        for name in EXAMPLE_REVISIONS:
            shutil.copy2(source / "versions" / name, root / "versions" / name)
        ini = (source / "alembic.ini").read_text()
        assert "prepend_sys_path = %(here)s/..\n" in ini, "the example alembic.ini changed"
        # env.py imports the example application (infrastructure/) from the repository
        (root / "alembic.ini").write_text(ini.replace("prepend_sys_path = %(here)s/..\n",
                                                      f"prepend_sys_path = {REPO_ROOT}\n"))
        _example_copy.append(root / "alembic.ini")
    return _example_copy[0]


def _names_a_project(args, env) -> bool:
    return any(a in ("-c", "--config") or a.startswith("--config=") for a in args) or "ALEMBIC_CONFIG" in env


def run_cli(*args, env=None, cwd=None, timeout: float = 180, input=None) -> subprocess.CompletedProcess:
    """The CLI as a user runs it. A bug of ours ('internal error') fails any test, whatever exit
    code the test expected, so no test can pass because of one. Without a project named (by
    --config, ALEMBIC_CONFIG or ``cwd``) it runs on a copy of the example project, never on the
    repository's working tree."""
    env = dict(os.environ if env is None else env)
    if cwd is None and not _names_a_project(args, env):
        env["ALEMBIC_CONFIG"] = str(example_project())
    zygote = _zygote_socket()
    if zygote is None:
        result = subprocess.run([sys.executable, str(CLI_SCRIPT), *args], cwd=cwd or REPO_ROOT, env=env,
                                capture_output=True, text=True, timeout=timeout, input=input if input is not None else "")
    else:
        result = _run_forked(zygote, [str(a) for a in args], env, str(cwd or REPO_ROOT), timeout, input or "")
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr, result.stderr
    return result


def cli_json(*args, env, expect: int = 0):
    """``run_cli`` with ``--format json``: its exit code checked against ``expect``, its one JSON
    document returned (None when it printed nothing)."""
    import json

    result = run_cli("--format", "json", *args, env=env)
    assert result.returncode == expect, result.stdout + result.stderr
    return json.loads(result.stdout) if result.stdout.strip() else None


CLI_SCRIPT = REPO_ROOT / "migrations" / "migration_utils.py"
_zygote: list = []


def _zygote_socket():
    """The Unix socket of this process's CLI fork server (tests/cli_zygote.py), started on first
    use; None when ``MIGRATION_TEST_FRESH_CLI=1`` asks for a new interpreter per run."""
    if os.environ.get("MIGRATION_TEST_FRESH_CLI") == "1":
        return None
    if _zygote and _zygote[0].poll() is None:
        return _zygote[1]
    socket_path = os.path.join(tempfile.mkdtemp(prefix="migration_safety_zygote_"), "cli.sock")
    process = subprocess.Popen([sys.executable, str(REPO_ROOT / "tests" / "cli_zygote.py"), socket_path],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=REPO_ROOT, text=True)
    if process.stdout.readline().strip() != "ready":
        raise RuntimeError("the CLI fork server (tests/cli_zygote.py) did not start")
    atexit.register(process.stdin.close)      # its stdin closing ends it
    _zygote[:] = [process, socket_path]
    return socket_path


def _run_forked(socket_path: str, args: list, env: dict, cwd: str, timeout: float, input: str):
    """One CLI run forked by the zygote: what subprocess.run(..., capture_output=True, text=True)
    returns, from the same pipes and exit status."""
    import json
    import selectors
    import signal
    import socket
    import threading
    import time

    stdin_read, stdin_write = os.pipe()
    stdout_read, stdout_write = os.pipe()
    stderr_read, stderr_write = os.pipe()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.connect(socket_path)
        request = {"argv": args, "env": env, "cwd": cwd, "umask": _current_umask()}
        socket.send_fds(connection, [json.dumps(request).encode()], [stdin_read, stdout_write, stderr_write])
        for fd in (stdin_read, stdout_write, stderr_write):
            os.close(fd)
        answers = connection.makefile("r")
        pid = int(answers.readline())

        def feed():
            try:
                os.write(stdin_write, input.encode())
            except BrokenPipeError:
                pass
            finally:
                os.close(stdin_write)

        threading.Thread(target=feed, daemon=True).start()
        captured = {stdout_read: bytearray(), stderr_read: bytearray()}
        watched = selectors.DefaultSelector()
        for fd in captured:
            watched.register(fd, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        try:
            while watched.get_map():
                remaining = deadline - time.monotonic()
                ready = watched.select(max(remaining, 0)) if remaining > 0 else []
                if not ready:
                    os.kill(pid, signal.SIGKILL)
                    raise subprocess.TimeoutExpired([str(CLI_SCRIPT), *args], timeout)
                for key, _ in ready:
                    chunk = os.read(key.fd, 65536)
                    if chunk:
                        captured[key.fd] += chunk
                    else:
                        watched.unregister(key.fd)
                        os.close(key.fd)
        finally:        # a run that timed out: its pipes are not left open for the rest of the session
            for fd in list(watched.get_map()):
                os.close(fd)
            watched.close()
        returncode = int(answers.readline())

    def text(data: bytearray) -> str:
        return data.decode().replace("\r\n", "\n").replace("\r", "\n")

    return subprocess.CompletedProcess([sys.executable, str(CLI_SCRIPT), *args], returncode,
                                       text(captured[stdout_read]), text(captured[stderr_read]))


def _current_umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def wait_for(predicate, what: str, timeout: float = 60.0):
    """Poll ``predicate`` until it returns something true (returned), or fail naming ``what``:
    tests wait on the state they need (a backend waiting for a lock), never on a fixed sleep."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def backup_files(directory: Path) -> list:
    """The backup archives in ``directory`` whatever their format (``.dump.zst``, ``.dump``,
    ``.sql``), oldest first (their names carry the time); none when it does not exist."""
    from migration_safety.backup.catalog import FORMAT_SUFFIXES

    directory = Path(directory)
    if not directory.exists():
        return []
    return sorted({path for suffix in FORMAT_SUFFIXES.values() for path in directory.glob(f"backup_*{suffix}")})


def sidecar_of(archive: Path) -> Path:
    from migration_safety.backup.catalog import sidecar_path

    return sidecar_path(Path(archive))


def files_of_backup(archive: Path) -> list:
    """The archive and the files written beside it: its sidecar and, for a scoped backup, its
    photograph and restore list (backup/scope.py)."""
    from migration_safety.backup.catalog import photograph_path, scope_list_path

    archive = Path(archive)
    companions = [photograph_path(archive), scope_list_path(archive)]
    return [archive, sidecar_of(archive), *(path for path in companions if path.exists())]
