"""The backup catalog: writing verified pg_dump archives and reading them back.

A backup is two files in the backup directory:
``backup_YYYYMMDD_HHMMSS.dump`` (pg_dump custom format, mode 0600) and its sidecar
``backup_YYYYMMDD_HHMMSS.json`` (database, server version, revision at backup time, size,
SHA-256, duration, tool versions; never the password). The archive is written under a hidden
``.partial`` name, hashed while it streams, proven readable with ``pg_restore --list``, fsynced
and only then renamed, so a run killed at any point leaves no half-written backup that looks
valid.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import shutil
import socket
import subprocess
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Optional

from .errors import BackupError, PreflightError, ToolError
from .pgtools import Tool, first_error_line, run_tool, start_tool, stop_tool

ARCHIVE_SUFFIX = ".dump"
SIDECAR_SUFFIX = ".json"
PARTIAL_PREFIX = ".backup_"
PARTIAL_SUFFIX = ".partial"
CHUNK = 1 << 20

ProgressCallback = Callable[[int, Optional[int]], None]


@dataclass
class BackupInfo:
    """What the sidecar records about one archive."""
    file: str
    database: str
    host: str
    port: int
    user: str
    created_at: str
    server_version: str
    revision: list
    size_bytes: int
    sha256: str
    duration_seconds: float
    database_size_bytes: int
    reason: str
    format: str = "custom"
    compression: int = 1
    toc_entries: int = 0
    tools: dict = field(default_factory=dict)
    created_by: str = ""

    @property
    def path(self) -> Path:
        return Path(self.file)


@dataclass
class CatalogEntry:
    archive: Path
    info: Optional[BackupInfo]          # None: no (readable) sidecar

    @property
    def created(self) -> _dt.datetime:
        if self.info:
            return _dt.datetime.fromisoformat(self.info.created_at)
        return _dt.datetime.fromtimestamp(self.archive.stat().st_mtime, _dt.timezone.utc)


def archive_name(moment: _dt.datetime, directory: Path) -> Path:
    """``backup_YYYYMMDD_HHMMSS.dump``; a second backup within the same second gets ``_2``, ``_3``..."""
    stem = moment.strftime("backup_%Y%m%d_%H%M%S")
    candidate = directory / f"{stem}{ARCHIVE_SUFFIX}"
    counter = 2
    while candidate.exists() or candidate.with_suffix(SIDECAR_SUFFIX).exists():
        candidate = directory / f"{stem}_{counter}{ARCHIVE_SUFFIX}"
        counter += 1
    return candidate


def sidecar_path(archive: Path) -> Path:
    return archive.with_suffix(SIDECAR_SUFFIX)


def remove_partial_backups(directory: Path) -> list[Path]:
    """Delete what a killed run left behind; such files never carry a valid name."""
    removed = []
    if directory.is_dir():
        for partial in directory.glob(f"{PARTIAL_PREFIX}*{PARTIAL_SUFFIX}"):
            try:
                partial.unlink()
                removed.append(partial)
            except OSError:
                pass
    return removed


def estimate_backup_size(directory: Path, database: str, database_size: int) -> int:
    """Bytes the next backup is expected to need: the last backup's compression ratio applied
    to today's database size (with 20% headroom), or the database size when there is none."""
    for entry in list_backups(directory):
        info = entry.info
        if info and info.database == database and info.database_size_bytes > 0:
            ratio = info.size_bytes / info.database_size_bytes
            return int(database_size * ratio * 1.2) + CHUNK
    return database_size


def check_free_space(directory: Path, needed: int) -> None:
    free = shutil.disk_usage(directory).free
    if free < needed:
        raise PreflightError(
            f"not enough space for the backup in {directory}: {human_bytes(free)} free, "
            f"about {human_bytes(needed)} needed")


class BackupCancelled(BackupError):
    """The run decided it needs no backup after all (nothing to do, validation failed)."""


class BackgroundBackup:
    """A backup running in a thread while the caller does other work (importing Alembic,
    loading and validating the revisions): the dump is the long pole, so the rest costs no wall
    time. ``wait`` returns the verified backup or raises its error; ``cancel`` stops pg_dump and
    leaves no file behind."""

    def __init__(self, **create_backup_arguments) -> None:
        self._arguments = create_backup_arguments
        self._lock = threading.Lock()
        self._cancelled = False
        self._process: Optional[subprocess.Popen] = None
        self._info: Optional[BackupInfo] = None
        self._error: Optional[BaseException] = None
        self._thread = threading.Thread(target=self._run, name="backup", daemon=True)

    def start(self) -> "BackgroundBackup":
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            self._info = create_backup(**self._arguments, still_wanted=self._attach)
        except BaseException as exc:  # handed to the waiting thread
            self._error = exc

    def _attach(self, process: subprocess.Popen) -> bool:
        with self._lock:
            self._process = process
            return not self._cancelled

    def wait(self) -> BackupInfo:
        while self._thread.is_alive():
            self._thread.join(timeout=0.1)      # short joins: signals still reach the main thread
        if self._error is not None:
            raise self._error
        return self._info

    def cancel(self) -> None:
        with self._lock:
            self._cancelled = True
            if self._process is not None and self._process.poll() is None:
                self._process.kill()
        self._thread.join()
        if self._info is not None:          # it had already finished: a backup nobody needs
            for path in (self._info.path, sidecar_path(self._info.path)):
                path.unlink(missing_ok=True)


def create_backup(settings, directory: Path, *, pg_dump: Tool, pg_restore: Tool, server_version: str,
                  revision: Iterable[str], database_size: int, reason: str, compression: int = 1,
                  lock_wait_timeout: str = "60s", progress: Optional[ProgressCallback] = None,
                  still_wanted: Optional[Callable[[subprocess.Popen], bool]] = None) -> BackupInfo:
    """Dump the database to a new, verified, owner-only archive with its sidecar.
    ``still_wanted`` is given the running pg_dump; when it answers False the backup is cancelled."""
    directory.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    moment = _dt.datetime.now(_dt.timezone.utc)
    final = archive_name(moment.astimezone(), directory)
    partial = directory / f"{PARTIAL_PREFIX}{final.stem[len('backup_'):]}_{os.getpid()}{PARTIAL_SUFFIX}"
    argv = [pg_dump.path, "--format=custom", f"--compress={compression}",
            f"--lock-wait-timeout={lock_wait_timeout}", "--no-password", f"--dbname={settings.conninfo()}"]
    digest = hashlib.sha256()
    written = 0
    try:
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as sink:
            process = start_tool(argv, settings.child_environment(), stdout=subprocess.PIPE)
            if still_wanted is not None and not still_wanted(process):
                stop_tool(process)
                raise BackupCancelled("backup cancelled; nothing was changed")
            source = process.stdout.fileno()
            _widen_pipe(source)
            try:
                while True:
                    chunk = os.read(source, CHUNK)   # whatever is there: pg_dump never waits on us
                    if not chunk:
                        break
                    sink.write(chunk)
                    digest.update(chunk)
                    written += len(chunk)
                    if progress:
                        progress(written, database_size)
                stderr = process.stderr.read().decode("utf-8", "replace")
                process.wait()
            except BaseException:
                stop_tool(process)
                raise
            if process.returncode != 0:
                if still_wanted is not None and not still_wanted(process):
                    raise BackupCancelled("backup cancelled; nothing was changed")
                raise BackupError(f"pg_dump failed: {first_error_line(stderr)}; nothing was changed")
            sink.flush()
            os.fsync(sink.fileno())
        toc_entries = verify_archive_readable(partial, pg_restore)
        info = BackupInfo(
            file=str(final), database=settings.database, host=settings.host, port=settings.port,
            user=settings.user, created_at=moment.isoformat(timespec="seconds"), server_version=server_version,
            revision=sorted(revision), size_bytes=written, sha256=digest.hexdigest(),
            duration_seconds=round(time.monotonic() - started, 3), database_size_bytes=database_size,
            reason=reason, compression=compression, toc_entries=toc_entries,
            tools={"pg_dump": pg_dump.version, "pg_restore": pg_restore.version},
            created_by=f"{_os_user()}@{socket.gethostname()}")
        os.rename(partial, final)
        write_sidecar(info)
        _fsync_directory(directory)
        return info
    except OSError as exc:
        raise BackupError(f"could not write the backup in {directory}: {exc.strerror or exc}; "
                          "nothing was changed") from None
    except ToolError as exc:
        raise BackupError(f"backup is not readable ({exc}); nothing was changed") from None
    finally:
        if partial.exists():
            partial.unlink()


def _widen_pipe(descriptor: int) -> None:
    """A 1 MiB pipe instead of 64 KiB lets pg_dump keep compressing while we hash and write."""
    try:
        import fcntl
        fcntl.fcntl(descriptor, getattr(fcntl, "F_SETPIPE_SZ", 1031), CHUNK)
    except (ImportError, OSError):
        pass


def verify_archive_readable(archive: Path, pg_restore: Tool) -> int:
    """``pg_restore --list`` reads the whole table of contents; returns its entry count."""
    result = run_tool([pg_restore.path, "--list", str(archive)], os.environ.copy(), what="pg_restore --list")
    return sum(1 for line in result.stdout.splitlines() if line and not line.startswith(";"))


def write_sidecar(info: BackupInfo) -> None:
    target = sidecar_path(info.path)
    temporary = target.with_name(f".{target.name}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(asdict(info), handle, indent=2, sort_keys=True)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.rename(temporary, target)


def read_sidecar(archive: Path) -> Optional[BackupInfo]:
    try:
        data = json.loads(sidecar_path(archive).read_text())
        known = {k: v for k, v in data.items() if k in BackupInfo.__dataclass_fields__}
        info = BackupInfo(**known)
        info.file = str(archive)       # the directory may have moved since it was written
        return info
    except (OSError, ValueError, TypeError):
        return None


def list_backups(directory: Path) -> list[CatalogEntry]:
    """Every archive in the directory, newest first."""
    if not directory.is_dir():
        return []
    entries = [CatalogEntry(path, read_sidecar(path)) for path in directory.glob(f"backup_*{ARCHIVE_SUFFIX}")]
    entries.sort(key=lambda entry: (entry.created, entry.archive.name), reverse=True)
    return entries


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def human_bytes(count: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(count) < 1024 or unit == "TB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} TB"


def _os_user() -> str:
    try:
        import getpass
        return getpass.getuser()
    except Exception:
        return str(os.getuid())


def _fsync_directory(directory: Path) -> None:
    try:
        descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
    except OSError:
        pass


@dataclass
class Verification:
    archive: Path
    ok: bool
    checks: list                       # (check, passed, detail)

    @property
    def reason(self) -> str:
        failed = [f"{name}: {detail}" for name, passed, detail in self.checks if not passed]
        return "; ".join(failed) if failed else "verified"


def verify_backup(archive: Path, pg_restore: Tool) -> Verification:
    """SHA-256 against the sidecar, then the archive's table of contents through pg_restore."""
    checks = []
    info = read_sidecar(archive)
    if info is None:
        checks.append(("metadata", False, f"no readable sidecar {sidecar_path(archive).name}"))
    else:
        checks.append(("metadata", True, sidecar_path(archive).name))
        actual = sha256_of(archive)
        checks.append(("sha256", actual == info.sha256,
                       "matches the sidecar" if actual == info.sha256 else "differs from the sidecar (file changed)"))
        size = archive.stat().st_size
        checks.append(("size", size == info.size_bytes, f"{size} bytes" if size == info.size_bytes
                       else f"{size} bytes, sidecar says {info.size_bytes}"))
    try:
        entries = verify_archive_readable(archive, pg_restore)
        checks.append(("pg_restore --list", True, f"{entries} entries"))
    except ToolError as exc:
        checks.append(("pg_restore --list", False, str(exc)))
    return Verification(archive, all(passed for _, passed, _ in checks), checks)


def resolve_backup(directory: Path, name: str) -> Path:
    """``latest``, a path, or a file name inside the backup directory."""
    if name == "latest":
        entries = list_backups(directory)
        if not entries:
            raise PreflightError(f"no backups in {directory}")
        return entries[0].archive
    candidate = Path(name).expanduser()
    for path in (candidate, directory / name):
        if path.is_file():
            return path.resolve()
    raise PreflightError(f"backup {name} not found (looked for it as a path and in {directory})")


def prune_selection(entries: list[CatalogEntry], *, keep_days: Optional[int], keep_last: Optional[int],
                    now: Optional[_dt.datetime] = None) -> list[CatalogEntry]:
    """The backups retention removes: older than ``keep_days`` and beyond the newest ``keep_last``
    per database. The newest backup of each database is always kept."""
    if keep_days is None and keep_last is None:
        return []
    now = now or _dt.datetime.now(_dt.timezone.utc)
    by_database: dict = {}
    for entry in entries:                                   # entries are newest first
        key = entry.info.database if entry.info else None
        by_database.setdefault(key, []).append(entry)
    doomed = []
    for group in by_database.values():
        for position, entry in enumerate(group):
            if position == 0:
                continue                                    # never the only/newest backup of a database
            too_many = keep_last is not None and position >= keep_last
            too_old = keep_days is not None and (now - entry.created) > _dt.timedelta(days=keep_days)
            if keep_days is not None and keep_last is not None:
                remove = too_many and too_old
            else:
                remove = too_many or too_old
            if remove:
                doomed.append(entry)
    return doomed


def delete_backup(entry: CatalogEntry) -> None:
    for path in (entry.archive, sidecar_path(entry.archive)):
        try:
            path.unlink()
        except FileNotFoundError:
            pass
