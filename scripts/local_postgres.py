#!/usr/bin/env python3
"""The project's embedded default database: a throwaway PostgreSQL cluster in .pgdata/.

    python scripts/local_postgres.py start|stop|status|env

`start` initialises the cluster on first use (on a free port, listening on 127.0.0.1 only,
password authentication over TCP), creates the role fataplus_user with a generated password and
the database fataplus_dev, and starts it; it is idempotent. `env` prints the POSTGRES_* settings
(and libpq's PG* with the same values) as shell exports. PostgreSQL refuses to run as root, so as root the server runs as `postgres`.
The same code starts the test suite's cluster (start_cluster).
"""
from __future__ import annotations

import glob
import json
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = Path(os.environ.get("LOCAL_PG_DIR") or REPO_ROOT / ".pgdata")
APP_ROLE = "fataplus_user"
APP_DATABASE = "fataplus_dev"


class ClusterError(RuntimeError):
    pass


def find_pg_bin_dir() -> Path:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                        key=lambda p: int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0,
                        reverse=True)
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(os.path.realpath(on_path))
    for candidate in candidates:
        if os.access(candidate, os.X_OK):
            return Path(candidate).parent
    raise ClusterError("PostgreSQL server binaries (initdb) not found; install Debian's 'postgresql' package "
                       "(scripts/bootstrap.sh does it when run as root)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_server_user(argv: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--"] + argv
    return argv


def _chown_to_server_user(path: Path) -> None:
    if os.geteuid() == 0:
        entry = pwd.getpwnam("postgres")
        os.chown(path, entry.pw_uid, entry.pw_gid)


@dataclass
class Cluster:
    data_dir: Path
    port: int
    bin_dir: Path
    host: str = "127.0.0.1"
    superuser: str = "postgres"

    @property
    def socket_dir(self) -> Path:
        return self.data_dir.parent / "socket"

    @property
    def pgdata(self) -> Path:
        return self.data_dir

    def admin_connect(self, dbname: str = "postgres"):
        import psycopg2

        # trust over the private unix socket: only the superuser bootstrap uses it
        connection = psycopg2.connect(host=str(self.socket_dir), port=self.port, user=self.superuser, dbname=dbname)
        connection.autocommit = True
        return connection

    def execute(self, sql: str, params=None, dbname: str = "postgres") -> None:
        connection = self.admin_connect(dbname)
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
        finally:
            connection.close()

    def create_role(self, name: str, password: str, createdb: bool = True) -> None:
        from psycopg2 import sql
        connection = self.admin_connect()
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,))
                verb = "ALTER" if cursor.fetchone() else "CREATE"
                cursor.execute(sql.SQL(verb + " ROLE {} LOGIN NOSUPERUSER " + ("CREATEDB" if createdb else "NOCREATEDB")
                                       + " PASSWORD %s").format(sql.Identifier(name)), (password,))
        finally:
            connection.close()

    def create_database(self, name: str, owner: str) -> None:
        from psycopg2 import sql
        self.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name), sql.Identifier(owner)))

    def database_exists(self, name: str) -> bool:
        connection = self.admin_connect()
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
                return cursor.fetchone() is not None
        finally:
            connection.close()

    def drop_database(self, name: str) -> None:
        from psycopg2 import sql
        self.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                     (name,))
        self.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))

    def is_running(self) -> bool:
        result = subprocess.run(_as_server_user([str(self.bin_dir / "pg_ctl"), "status", "-D", str(self.data_dir)]),
                                capture_output=True, text=True)
        return result.returncode == 0

    def stop(self) -> None:
        if self.data_dir.exists():
            subprocess.run(_as_server_user([str(self.bin_dir / "pg_ctl"), "stop", "-D", str(self.data_dir),
                                            "-m", "fast", "-w"]), capture_output=True, text=True)


def _start_server(cluster: Cluster, fast: bool) -> Optional[str]:
    """Starts the server of ``cluster`` on its port; None when it runs, else why not (a bind error first)."""
    options = [f"-p {cluster.port}", "-c listen_addresses=127.0.0.1", f"-c unix_socket_directories={cluster.socket_dir}"]
    if fast:
        # a throwaway cluster (the tests'): nothing needs to survive a crash of the machine
        options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
    log = cluster.data_dir.parent / "server.log"
    log.touch()
    _chown_to_server_user(log)
    lines_before = len(log.read_text(errors="replace").splitlines())
    result = subprocess.run(_as_server_user([str(cluster.bin_dir / "pg_ctl"), "start", "-D", str(cluster.data_dir),
                                             "-w", "-t", "60", "-l", str(log), "-o", " ".join(options)]),
                            capture_output=True, text=True)
    if result.returncode == 0:
        return None
    new_lines = log.read_text(errors="replace").strip().splitlines()[lines_before:]
    bind_errors = [line for line in new_lines if "could not bind" in line or "already in use" in line]
    return (bind_errors or new_lines[-1:] or [result.stderr.strip()])[0]


def start_cluster(data_dir: Path, port: Optional[int] = None, *, fast: bool = False,
                  bin_dir: Optional[Path] = None) -> Cluster:
    """Initialise (first time) and start a cluster in ``data_dir``; returns it running.
    ``bin_dir`` picks another PostgreSQL build (the tests use a newer server than the tools)."""
    bin_dir = Path(bin_dir) if bin_dir else find_pg_bin_dir()
    data_dir = Path(data_dir).resolve()
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    _chown_to_server_user(data_dir.parent)
    cluster = Cluster(data_dir, port or free_port(), bin_dir)
    cluster.socket_dir.mkdir(exist_ok=True)
    _chown_to_server_user(cluster.socket_dir)
    if os.geteuid() == 0 and subprocess.run(["runuser", "-u", "postgres", "--", "test", "-w", str(data_dir.parent)],
                                            capture_output=True).returncode != 0:
        raise ClusterError(f"the postgres user cannot reach {data_dir.parent} (a parent folder is private); "
                           "set LOCAL_PG_DIR to a folder it can reach, e.g. /tmp/fataplus_pg")
    if not (data_dir / "PG_VERSION").exists():
        result = subprocess.run(_as_server_user([
            str(bin_dir / "initdb"), "-D", str(data_dir), "-U", "postgres", "--auth-local=trust",
            "--auth-host=scram-sha-256", "--encoding=UTF8", "--locale=C.UTF-8"]
            + (["--no-sync"] if fast else [])), capture_output=True, text=True)
        if result.returncode != 0:
            raise ClusterError(f"initdb failed: {result.stderr.strip().splitlines()[-1] if result.stderr.strip() else ''}")
    if not cluster.is_running():
        # A port picked here is free only until someone else binds it (another test worker starting
        # its own cluster at the same moment): when the server cannot bind it, try another one.
        for _ in range(1 if port else 5):
            failure = _start_server(cluster, fast)
            if failure is None:
                break
            if port or "could not bind" not in failure and "already in use" not in failure:
                raise ClusterError(f"PostgreSQL did not start: {failure}")
            cluster.port = free_port()
        else:
            raise ClusterError(f"PostgreSQL did not start: {failure}")
    return cluster


# -- the project's local database (.pgdata/) ---------------------------------------------------------

def _state_file(root: Path) -> Path:
    return root / "state.json"


def _load_state(root: Path) -> dict:
    try:
        return json.loads(_state_file(root).read_text())
    except (OSError, ValueError):
        return {}


def _save_state(root: Path, state: dict) -> None:
    path = _state_file(root)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(state, handle)


def start_local(root: Path = DEFAULT_DATA) -> dict:
    root.mkdir(parents=True, exist_ok=True)
    state = _load_state(root)
    port = state.get("port")
    if port is None:
        port = free_port()
    cluster = start_cluster(root / "data", port)
    if "password" not in state:
        state["password"] = secrets.token_urlsafe(18)
    state["port"] = cluster.port
    cluster.create_role(APP_ROLE, state["password"])
    if not cluster.database_exists(APP_DATABASE):
        cluster.create_database(APP_DATABASE, APP_ROLE)
    _save_state(root, state)
    return state


def stop_local(root: Path = DEFAULT_DATA) -> None:
    state = _load_state(root)
    if state.get("port") and (root / "data").exists():
        Cluster(root / "data", state["port"], find_pg_bin_dir()).stop()


def shell_environment(host: str, port: int, database: str, user: str, password: str) -> dict:
    """The variables `env` exports: POSTGRES_* for the wrapper, and the same values as libpq's PG*
    so that psql, pg_restore and createdb in that shell reach the same database (the README's
    recovery commands run there). tests/test_doc_examples.py builds its shell with this too."""
    values = {"POSTGRES_HOST": host, "POSTGRES_PORT": str(port), "POSTGRES_DB": database,
              "POSTGRES_USER": user, "POSTGRES_PASSWORD": password}
    values.update(PGHOST=host, PGPORT=str(port), PGDATABASE=database, PGUSER=user, PGPASSWORD=password)
    return values


def exports(state: dict) -> str:
    import shlex
    values = shell_environment("127.0.0.1", state["port"], APP_DATABASE, APP_ROLE, state["password"])
    return "\n".join(f"export {k}={shlex.quote(v)}" for k, v in values.items())


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "status"
    try:
        if command == "start":
            state = start_local()
            print(f"local PostgreSQL running on 127.0.0.1:{state['port']} (data in {DEFAULT_DATA})", file=sys.stderr)
        elif command == "stop":
            stop_local()
            print("local PostgreSQL stopped", file=sys.stderr)
        elif command == "env":
            state = _load_state(DEFAULT_DATA)
            if "port" not in state:
                raise ClusterError("no local database yet: run `scripts/local_postgres.py start` first")
            print(exports(state))
        elif command == "status":
            state = _load_state(DEFAULT_DATA)
            running = bool(state.get("port")) and Cluster(DEFAULT_DATA / "data", state["port"],
                                                          find_pg_bin_dir()).is_running()
            print(f"running on 127.0.0.1:{state['port']}" if running else "not running")
            return 0 if running else 1
        else:
            print("usage: local_postgres.py start|stop|status|env", file=sys.stderr)
            return 2
    except ClusterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
