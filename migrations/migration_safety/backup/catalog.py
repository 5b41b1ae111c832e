"""The backup catalog: writing verified pg_dump archives and reading them back.

A backup is two files in the backup directory:
``backup_YYYYMMDD_HHMMSS.dump.zst`` (pg_dump's custom format compressed by zstd, mode 0600; ``.dump``
when pg_dump compresses it itself or ``MIGRATION_BACKUP_FORMAT=custom``, ``.sql`` for a plain-SQL
dump, ``MIGRATION_BACKUP_FORMAT=plain``; see backup_formats) and its sidecar
``backup_YYYYMMDD_HHMMSS.json`` (database, server version, revision at backup time, size,
SHA-256, duration, tool versions; never the password). The archive is written under a hidden
``.partial`` name, hashed while it streams, proven readable with ``pg_restore --list`` (a plain dump: read through
to pg_dump's closing line, plain_dump.read_outline; a ``.dump.zst`` also whole by ``zstd -t``, fed the
bytes as they are written: formats.StreamCheck), fsynced
and only then renamed, so a run killed at any point leaves no half-written backup that looks
valid. The writer holds an exclusive ``flock`` on its partial file, so a concurrent run only
removes partial files whose writer is gone.

The sidecar is signed (backup_integrity) and records which server and database the backup
came from; the catalog trusts only regular files of this user inside the directory
(backup_directory), and a malformed sidecar makes its backup unverified, never an error.
"""
from __future__ import annotations

import datetime as _dt
import fcntl
import hashlib
import json
import os
import re
import shutil
import socket
import stat
import subprocess
import sys
import threading
import time
from dataclasses import MISSING, asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Optional

from ..base.cache_files import make_private_directories
from ..base.errors import BackupError, ConfigurationError, PreflightError, ToolError
from ..config.settings import tool_environment
from ..postgres.tools import Tool, client_check_settings, first_error_line, run_tool, start_tool, stop_tool
from .directory import create_private_file, is_inside, owned_regular_file, replace_privately
from .formats import ZSTD_SUFFIX, DumpPlan, StreamCheck, plan_dump, run_on_decompressed, start_integrity_check
from .integrity import KEY_VARIABLE, MacCheck, key_file_path, load_key, sign_sidecar, verify_sidecar_mac
from .plain_dump import PlainDumpInvalid, archive_format, read_outline

ARCHIVE_SUFFIX = ".dump"
# The backup file's suffix per recorded format; all share the ``.json`` sidecar name.
FORMAT_SUFFIXES = {"custom": ARCHIVE_SUFFIX, "custom-zstd": ZSTD_SUFFIX, "plain": ".sql"}
SIDECAR_SUFFIX = ".json"
PARTIAL_PREFIX = ".backup_"
PARTIAL_SUFFIX = ".partial"
CHUNK = 1 << 20
# A sidecar is a few hundred bytes; anything past this is not one of ours (and is not read).
MAX_SIDECAR_BYTES = 1 << 20
# Clocks of machines sharing a directory differ a little; a sidecar dated further ahead is no candidate for latest.
FUTURE_TOLERANCE = _dt.timedelta(minutes=5)

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
    server: dict = field(default_factory=dict)   # pgtools.server_identity() of the origin
    # backup/scope.py: the tables whose data the archive holds (every other table's data is left
    # out), or None for a whole-database backup; ``scope_note`` says why it is whole, or what a
    # scoped one is for; ``scope_photograph_sha256`` the digest of the photograph kept beside it.
    scope_tables: Optional[list] = None
    scope_note: str = ""
    scope_photograph_sha256: str = ""
    scope_list_sha256: str = ""                  # the digest of backup_X.scope.list, when it was written
    mac: str = ""                                # backup_integrity: HMAC over the rest

    @property
    def path(self) -> Path:
        return Path(self.file)

    @property
    def is_scoped(self) -> bool:
        return self.scope_tables is not None


@dataclass
class CatalogEntry:
    archive: Path
    info: Optional[BackupInfo]          # None: no (readable) sidecar

    @property
    def created(self) -> _dt.datetime:
        if self.info:
            return _dt.datetime.fromisoformat(self.info.created_at)
        return _dt.datetime.fromtimestamp(self.archive.stat().st_mtime, _dt.timezone.utc)


def archive_name(moment: _dt.datetime, directory: Path, suffix: str = ARCHIVE_SUFFIX) -> Path:
    """``backup_YYYYMMDD_HHMMSS.dump``; a second backup within the same second gets ``_2``, ``_3``...
    A name is taken when any format's file or the sidecar they would share exists."""
    stem = moment.strftime("backup_%Y%m%d_%H%M%S")
    candidate = directory / f"{stem}{suffix}"
    counter = 2
    while any(os.path.lexists(f"{_without_format_suffix(candidate)}{taken}")
              for taken in (SIDECAR_SUFFIX, *FORMAT_SUFFIXES.values())):
        candidate = directory / f"{stem}_{counter}{suffix}"
        counter += 1
    return candidate


def sidecar_path(archive: Path) -> Path:
    """``backup_X.json`` beside ``backup_X.dump``, ``backup_X.dump.zst`` or ``backup_X.sql``."""
    return Path(f"{_without_format_suffix(archive)}{SIDECAR_SUFFIX}")


def _without_format_suffix(archive: Path) -> Path:
    for suffix in sorted(FORMAT_SUFFIXES.values(), key=len, reverse=True):   # .dump.zst before .dump
        if archive.name.endswith(suffix) and archive.name != suffix:
            return archive.with_name(archive.name[:-len(suffix)])
    return archive.with_suffix("")


def remove_partial_backups(directory: Path) -> list[Path]:
    """Delete what killed runs left behind. A partial file whose writer still runs (another run,
    perhaps of another database sharing the directory) is locked by it and left alone."""
    removed = []
    if not directory.is_dir():
        return removed
    for partial in directory.glob(f"{PARTIAL_PREFIX}*{PARTIAL_SUFFIX}"):
        if not owned_regular_file(partial):
            continue
        try:
            descriptor = os.open(partial, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            continue
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if os.fstat(descriptor).st_ino == os.lstat(partial).st_ino:   # still the file we locked
                partial.unlink()
                removed.append(partial)
        except OSError:                       # locked: its writer is alive; or already gone
            pass
        finally:
            os.close(descriptor)
    return removed


def expected_backup_bytes(directory: Path, database: str, database_size: int) -> Optional[int]:
    """The next backup's likely size: the last backup's compression ratio applied to today's
    database size; None when there is no earlier backup of this database to learn it from."""
    for entry in list_backups(directory):
        info = entry.info
        if info and info.database == database and info.database_size_bytes > 0:
            return int(database_size * info.size_bytes / info.database_size_bytes)
    return None


def estimate_backup_size(directory: Path, database: str, database_size: int) -> int:
    """Bytes the next backup may need on disk: the expected size with 20% headroom, or the
    database size when there is nothing to learn the compression ratio from."""
    expected = expected_backup_bytes(directory, database, database_size)
    return database_size if expected is None else int(expected * 1.2) + CHUNK


def backup_progress(directory: Path, database: str, database_size: int) -> tuple:
    """Label and total of a backup's progress bar. The bar counts archive bytes written; the
    database size is no total for them (compression), so the total is the size the last backup's
    ratio predicts, labelled as an estimate, or none (an open bar with bytes and time)."""
    expected = expected_backup_bytes(directory, database, database_size)
    return ("Backup", None) if expected is None else ("Backup (size estimated from the last backup)", expected)


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


def signing_key(directory: Path) -> bytes:
    """The key new backups in ``directory`` are signed with, made on first use — but not when
    backups signed with a key are there already: a new key would leave them unverifiable without a
    word, so its absence is said instead, with what it means and how to go on."""
    key = load_key(create=False, backup_dir=directory)
    if key is not None:
        return key
    signed = [entry for entry in list_backups(directory) if entry.info is not None and entry.info.mac]
    if signed:
        path = key_file_path()
        raise ConfigurationError(
            f"the backup key is missing ({KEY_VARIABLE} unset, no {path}), yet {len(signed)} backup(s) in {directory} "
            "are signed with one: without it they cannot be verified, and restore refuses them unless "
            f"--trust-unsigned-backup; put the key back ({path} or {KEY_VARIABLE}), or to start a new key "
            "knowingly make one yourself: (umask 077; python3 -c 'import secrets; print(secrets.token_hex(32))' "
            f"> {path})")
    return load_key(create=True, backup_dir=directory)


def create_backup(settings, directory: Path, *, pg_dump: Tool, pg_restore: Tool, server_version: str,
                  revision: Iterable[str], database_size: int, reason: str, compression: int = 1,
                  lock_wait_timeout: str = "60s", progress: Optional[ProgressCallback] = None,
                  still_wanted: Optional[Callable[[subprocess.Popen], bool]] = None,
                  server_identity: Optional[dict] = None, backup_format: str = "custom",
                  snapshot: Optional[str] = None, scope=None) -> BackupInfo:
    """Dump the database to a new, verified, owner-only archive with its signed sidecar.
    ``still_wanted`` is given the running pg_dump; when it answers False the backup is cancelled.
    ``server_identity`` (pgtools.server_identity) is asked of the server when not given.
    ``backup_format`` is MIGRATION_BACKUP_FORMAT (backup_formats.plan_dump says what each means;
    ``plain`` writes an uncompressed SQL script, ``compression`` does not apply). ``snapshot``: an
    exported snapshot (``pg_export_snapshot()``) the dump reads, so the caller knows exactly which
    transactions the backup holds. ``scope``
    (scope.BackupScope) leaves out the data of every table outside it and is recorded in the sidecar."""
    started = time.monotonic()
    moment = _dt.datetime.now(_dt.timezone.utc)
    plan = plan_dump(backup_format, compression, pg_dump)
    argv = [pg_dump.path, *plan.dump_options, f"--lock-wait-timeout={lock_wait_timeout}", "--no-password",
            *(scope.dump_options() if scope is not None else ()),
            f"--dbname={settings.conninfo(options=_client_check_option(server_version))}"]
    if snapshot is not None:
        argv.insert(-1, f"--snapshot={snapshot}")
    digest = hashlib.sha256()
    written = 0
    partial: Optional[Path] = None
    checker: Optional[StreamCheck] = None
    try:
        make_private_directories(directory)
        key = signing_key(directory)          # before the dump: a key problem costs no dump
        identity = server_identity or _ask_server_identity(settings)
        descriptor, partial = create_private_file(directory, PARTIAL_PREFIX, PARTIAL_SUFFIX)
        # Held until the archive has its final name: tells other runs this file is not a leftover.
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        with os.fdopen(descriptor, "wb") as sink:
            # started first: if it cannot start, no dump is left running
            checker = StreamCheck(_widen_pipe) if plan.compressor is not None else None
            process, compressor = _start_dump(argv, plan, settings.child_environment())
            if still_wanted is not None and not still_wanted(process):
                _stop_all(process, compressor)
                raise BackupCancelled("backup cancelled; nothing was changed")
            source = (compressor or process).stdout.fileno()
            _widen_pipe(source)
            # one buffer read into again and again: a new bytes object per read is a fresh
            # mapping whose pages the kernel zeroes and faults in (15% of this loop's CPU)
            buffer = bytearray(CHUNK)
            view = memoryview(buffer)
            try:
                while True:
                    count = os.readv(source, [buffer])   # whatever is there: pg_dump never waits on us
                    if not count:
                        break
                    chunk = view[:count]
                    sink.write(chunk)
                    digest.update(chunk)
                    if checker is not None:
                        checker.feed(chunk)
                    written += len(chunk)
                    if progress:
                        progress(written)
                stderr = process.stderr.read().decode("utf-8", "replace")
                process.wait()
                compressor_stderr = compressor.stderr.read().decode("utf-8", "replace") if compressor else ""
                if compressor is not None:
                    compressor.wait()
            except BaseException:
                _stop_all(process, compressor)
                raise
            if process.returncode != 0:
                if still_wanted is not None and not still_wanted(process):
                    raise BackupCancelled("backup cancelled; nothing was changed")
                raise BackupError(f"pg_dump failed: {first_error_line(stderr)}; nothing was changed")
            if compressor is not None and compressor.returncode != 0:
                raise BackupError(f"zstd failed: {first_error_line(compressor_stderr)}; nothing was changed")
            sink.flush()
            os.fsync(sink.fileno())
            if checker is not None:
                checker.finish()
            toc_entries = verify_archive_readable(partial, pg_restore, whole_file_checked=checker is not None)
            final = _publish(partial, moment.astimezone(), directory, plan.suffix)
            info = BackupInfo(
                file=str(final), database=settings.database, host=settings.host, port=settings.port,
                user=settings.user, created_at=moment.isoformat(timespec="seconds"), server_version=server_version,
                revision=sorted(revision), size_bytes=written, sha256=digest.hexdigest(),
                duration_seconds=round(time.monotonic() - started, 3), database_size_bytes=database_size,
                reason=reason, format=plan.format, compression=plan.compression, toc_entries=toc_entries,
                tools={"pg_dump": pg_dump.version, "pg_restore": pg_restore.version, **plan.tools},
                created_by=f"{_os_user()}@{socket.gethostname()}", server=identity)
            if scope is not None:
                scope.record(info)
            try:
                write_sidecar(info, key)
            except BaseException:
                final.unlink(missing_ok=True)
                raise
            partial.unlink(missing_ok=True)       # still locked: no other run mistakes it for a leftover
        _fsync_directory(directory)
        return info
    except OSError as exc:
        raise BackupError(f"could not write the backup in {directory}: {exc.strerror or exc}; "
                          "nothing was changed") from None
    except ToolError as exc:
        raise BackupError(f"backup is not readable ({exc}); nothing was changed") from None
    finally:
        if checker is not None:
            checker.stop()
        if partial is not None and os.path.lexists(partial):
            partial.unlink()


def _start_dump(argv: list, plan: DumpPlan, env: dict) -> tuple:
    """(pg_dump, the compressor or None); the archive's bytes come out of the last one's stdout.
    pg_dump writes straight into the compressor through an OS pipe: no byte passes through Python
    uncompressed."""
    if plan.compressor is None:
        return start_tool(argv, env, stdout=subprocess.PIPE), None
    read_end, write_end = os.pipe()
    try:
        dump = start_tool(argv, env, stdout=write_end)
    except BaseException:
        os.close(read_end)
        raise
    finally:
        os.close(write_end)
    try:
        compressor = start_tool(plan.compressor, tool_environment(), stdin=read_end, stdout=subprocess.PIPE)
    except BaseException:
        stop_tool(dump)
        raise
    finally:
        os.close(read_end)
    return dump, compressor


def _client_check_option(server_version: str) -> str:
    """pg_dump's session asks the server to check that pg_dump is still there
    (postgres.tools.client_check_settings): pg_dump killed while it waits for a table's lock (it
    dies with the wrapper, start_tool) leaves the lock queue at once instead of holding up the
    application's statements behind its request until the lock wait timeout."""
    major = re.match(r"\d+", server_version or "")
    settings = client_check_settings(int(major.group())) if major else {}
    return " ".join(f"-c {name}={value}" for name, value in settings.items())


def _stop_all(*processes: Optional[subprocess.Popen]) -> None:
    for process in processes:
        if process is not None:
            stop_tool(process)


def _ask_server_identity(settings) -> dict:
    from ..postgres.tools import connect, server_identity

    connection = connect(settings)
    try:
        return server_identity(connection)
    finally:
        connection.close()


def _publish(partial: Path, moment: _dt.datetime, directory: Path, suffix: str) -> Path:
    """Give the finished archive its final name without ever replacing a file: a hard link fails
    when the name is taken (another run in the same second, a planted file), then the next
    name is tried. The partial name is removed by the caller, still holding its lock."""
    for _ in range(1000):
        final = archive_name(moment, directory, suffix)
        try:
            os.link(partial, final, follow_symlinks=False)
            return final
        except FileExistsError:
            continue
        except OSError:                  # a filesystem without hard links
            if os.path.lexists(final):
                continue
            os.rename(partial, final)
            return final
    raise FileExistsError(f"no free backup name in {directory}")


def _widen_pipe(descriptor: int) -> None:
    """A 1 MiB pipe instead of 64 KiB lets pg_dump keep compressing while we hash and write."""
    try:
        import fcntl
        fcntl.fcntl(descriptor, getattr(fcntl, "F_SETPIPE_SZ", 1031), CHUNK)
    except (ImportError, OSError):
        pass


def verify_archive_readable(archive: Path, pg_restore: Tool, *, whole_file_checked: bool = False) -> int:
    """``pg_restore --list`` reads the whole table of contents; returns its entry count. A plain
    dump is read through instead (plain_dump.read_outline); ToolError says why it is not readable.
    ``whole_file_checked``: a ``.dump.zst`` whose every byte zstd already checked as it was written
    (StreamCheck) is not read through again."""
    kind = file_format(archive)
    if kind == "custom-zstd":
        return _zstd_archive_readable(archive, pg_restore, whole_file=not whole_file_checked)
    if kind == "plain":
        descriptor = os.open(archive, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        try:
            return len(read_outline(descriptor).entries)
        except PlainDumpInvalid as exc:
            raise ToolError(f"the plain SQL dump {exc}") from None
        finally:
            os.close(descriptor)
    result = run_tool([pg_restore.path, "--list", str(archive)], tool_environment(), what="pg_restore --list")
    return sum(1 for line in result.stdout.splitlines() if line and not line.startswith(";"))


def _zstd_archive_readable(archive: Path, pg_restore: Tool, *, whole_file: bool = True) -> int:
    """A ``.dump.zst``: its table of contents through ``zstd -dc | pg_restore --list``, and with
    ``whole_file`` the whole file through ``zstd -t`` (the frame's checksum) at the same time, on
    the other core."""
    whole = start_integrity_check(str(archive)) if whole_file else None
    try:
        result = run_on_decompressed([pg_restore.path, "--list"], str(archive), tool_environment(),
                                     what="pg_restore --list")
        stderr = whole.communicate()[1] if whole is not None else ""
    except BaseException:
        if whole is not None:
            stop_tool(whole)
        raise
    if whole is not None and whole.returncode != 0:
        raise ToolError(f"zstd -t found the file damaged: {first_error_line(stderr or '')}")
    return sum(1 for line in result.stdout.splitlines() if line and not line.startswith(";"))


def file_format(archive: Path) -> Optional[str]:
    """``custom``, ``custom-zstd`` or ``plain`` from the file's first bytes (not its name), None
    when none of them."""
    with open(archive, "rb") as handle:
        return archive_format(handle.read(64))


def write_sidecar(info: BackupInfo, key: bytes) -> None:
    """The signed sidecar, written to a private temporary file and renamed over the target (a
    rename replaces a planted link; it never writes through one)."""
    target = sidecar_path(info.path)
    fields = {k: v for k, v in asdict(info).items() if k != "mac"}
    signed = sign_sidecar(fields, key)
    replace_privately(target, (json.dumps(signed, indent=2, sort_keys=True) + "\n").encode())
    info.mac = signed["mac"]


class SidecarInvalid(ValueError):
    """A sidecar that is not one of ours: its backup is unverified, never an error of the command."""


_TEXT_FIELDS = ("database", "host", "user", "created_at", "server_version", "sha256", "reason", "format",
                "created_by", "mac", "file")
_COUNT_FIELDS = ("port", "size_bytes", "database_size_bytes", "compression", "toc_entries")
_REQUIRED_FIELDS = tuple(name for name, spec in BackupInfo.__dataclass_fields__.items()
                         if spec.default is MISSING and spec.default_factory is MISSING)
_SHA256 = re.compile(r"[0-9a-f]{64}")


def load_sidecar(archive: Path) -> BackupInfo:
    """The sidecar of ``archive``, checked field by field; SidecarInvalid says what is wrong."""
    path = sidecar_path(archive)
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise SidecarInvalid(f"cannot be opened ({exc.strerror or exc})") from None
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode) or status.st_uid != os.geteuid():
            raise SidecarInvalid("is not a regular file of this user")
        if status.st_size > MAX_SIDECAR_BYTES:
            raise SidecarInvalid(f"is {human_bytes(status.st_size)}, no sidecar is larger than "
                                 f"{human_bytes(MAX_SIDECAR_BYTES)}")
        raw = os.read(descriptor, MAX_SIDECAR_BYTES + 1)
    finally:
        os.close(descriptor)
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:     # RecursionError: nested too deep
        raise SidecarInvalid(f"is not JSON ({' '.join(str(exc).split())[:80]})") from None
    info = BackupInfo(**_checked_fields(data))
    info.file = str(archive)       # the directory may have moved since it was written
    return info


def _checked_fields(data) -> dict:
    if not isinstance(data, dict):
        raise SidecarInvalid(f"holds a JSON {type(data).__name__}, not an object")
    known = {k: v for k, v in data.items() if k in BackupInfo.__dataclass_fields__}
    missing = [name for name in _REQUIRED_FIELDS if name not in known]
    if missing:
        raise SidecarInvalid(f"lacks {', '.join(missing)}")
    for name, value in known.items():
        if name in _TEXT_FIELDS and not isinstance(value, str):
            raise SidecarInvalid(f"{name} is not a string")
        if name in _COUNT_FIELDS and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise SidecarInvalid(f"{name} is not a whole number")
    if isinstance(known["duration_seconds"], bool) or not isinstance(known["duration_seconds"], (int, float)):
        raise SidecarInvalid("duration_seconds is not a number")
    if not isinstance(known["revision"], list) or not all(isinstance(r, str) for r in known["revision"]):
        raise SidecarInvalid("revision is not a list of revision ids")
    tables = known.get("scope_tables")
    if tables is not None and (not isinstance(tables, list) or not all(isinstance(t, str) for t in tables)):
        raise SidecarInvalid("scope_tables is not a list of table names")
    for name in ("scope_note", "scope_photograph_sha256", "scope_list_sha256"):
        if not isinstance(known.get(name, ""), str):
            raise SidecarInvalid(f"{name} is not a string")
    for name in ("tools", "server"):
        value = known.get(name, {})
        if not isinstance(value, dict) or not all(isinstance(v, (str, int, type(None))) and not isinstance(v, bool)
                                                  for v in value.values()):
            raise SidecarInvalid(f"{name} is not an object of plain values")
    if not _SHA256.fullmatch(known["sha256"]):
        raise SidecarInvalid("sha256 is not a SHA-256 digest")
    try:
        created = _dt.datetime.fromisoformat(known["created_at"])
    except ValueError:
        raise SidecarInvalid("created_at is not a timestamp") from None
    if created.tzinfo is None:
        raise SidecarInvalid("created_at has no time zone")
    return known


def read_sidecar(archive: Path) -> Optional[BackupInfo]:
    """The sidecar, or None (with a warning naming it when it exists but is not valid)."""
    try:
        return load_sidecar(archive)
    except FileNotFoundError:
        return None
    except SidecarInvalid as exc:
        warn_once(f"ignoring {sidecar_path(archive)}: it {exc}; {archive.name} counts as unverified")
        return None


_warned: set = set()


def warn_once(message: str) -> None:
    """A catalog problem, said once per process on stderr (stdout may be a JSON document)."""
    if message not in _warned:
        _warned.add(message)
        sys.stderr.write(f"warning: {message}\n")
        sys.stderr.flush()


def list_backups(directory: Path) -> list[CatalogEntry]:
    """Every archive in the directory, newest first. Only regular files of this user count: a
    link or another user's file planted there is skipped with a warning."""
    if not directory.is_dir():
        return []
    entries = []
    paths = [path for suffix in FORMAT_SUFFIXES.values() for path in directory.glob(f"backup_*{suffix}")]
    for path in paths:
        if not path.name.isprintable():     # not a name this tool writes; printed, it could forge a line
            warn_once(f"ignoring {path.name.encode('unicode_escape').decode()}: not a backup name this tool writes")
            continue
        if not owned_regular_file(path):
            warn_once(f"ignoring {path}: not a regular file of this user (a link, or someone else's file)")
            continue
        entries.append(CatalogEntry(path, read_sidecar(path)))
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
    info: Optional[BackupInfo] = None  # the sidecar exactly as checked (read it again and it may differ)

    @property
    def reason(self) -> str:
        failed = [f"{name}: {detail}" for name, passed, detail in self.checks if not passed]
        return "; ".join(failed) if failed else "verified"


def verify_backup(archive: Path, pg_restore: Tool, *, trust_unsigned: bool = False,
                  full: bool = False) -> Verification:
    """The sidecar's MAC, SHA-256 and size against the archive, then its table of contents through
    pg_restore, and with ``full`` every data block. ``trust_unsigned`` accepts a sidecar whose MAC
    does not verify (a backup of known origin): the check is still shown, marked as overridden.
    Restores skip the full read: they hash every byte they feed and roll back if pg_restore fails."""
    checks = []
    try:
        info = load_sidecar(archive)
    except FileNotFoundError:
        info, problem = None, f"no sidecar {sidecar_path(archive).name}"
    except SidecarInvalid as exc:
        info, problem = None, f"{sidecar_path(archive).name} {exc}"
    if info is None:
        checks.append(("metadata", False, problem))
    else:
        checks.append(("metadata", True, sidecar_path(archive).name))
        signature = verify_sidecar_mac(info, backup_dir=archive.parent)
        if signature.ok or not trust_unsigned:
            checks.append(("signature", signature.ok, signature.detail))
        else:
            checks.append(("signature", True, f"NOT verified ({signature.detail}); trusted by --trust-unsigned-backup"))
        actual = sha256_of(archive)
        checks.append(("sha256", actual == info.sha256,
                       "matches the sidecar" if actual == info.sha256 else "differs from the sidecar (file changed)"))
        size = archive.stat().st_size
        checks.append(("size", size == info.size_bytes, f"{size} bytes" if size == info.size_bytes
                       else f"{size} bytes, sidecar says {info.size_bytes}"))
    kind = file_format(archive)
    plain = kind == "plain"
    check = "plain SQL read" if plain else "pg_restore --list"
    try:
        entries = verify_archive_readable(archive, pg_restore)
        whole = "; zstd -t: the whole file is intact" if kind == "custom-zstd" else ""
        checks.append((check, True, f"{entries} entries{whole}"))
    except ToolError as exc:
        checks.append((check, False, str(exc)))
    if info is not None and info.is_scoped:
        checks.append(_scope_files_intact(archive, info))
    if full and not plain:
        checks.append(_every_data_block_readable(archive, pg_restore))
    return Verification(archive, all(passed for _, passed, _ in checks), checks, info)


def _scope_files_intact(archive: Path, info: BackupInfo) -> tuple:
    """A scoped backup's photograph (what a restore of it is checked against) and its
    ``scope.list`` (what restores its scope by hand) against the digests the signed sidecar
    recorded: a changed list would have a reader restoring by hand drop and rebuild other tables."""
    problems = []
    for path, recorded in ((photograph_path(archive), info.scope_photograph_sha256),
                           (scope_list_path(archive), info.scope_list_sha256)):
        if not recorded:
            continue
        try:
            if sha256_of(path) != recorded:
                problems.append(f"{path.name} differs from the sidecar (file changed)")
        except OSError as exc:
            problems.append(f"{path.name} cannot be read ({exc.strerror or exc})")
    if problems:
        return ("scope files", False, "; ".join(problems))
    return ("scope files", True, "photograph and scope list match the sidecar" if info.scope_list_sha256
            else "photograph matches the sidecar")


def _every_data_block_readable(archive: Path, pg_restore: Tool) -> tuple:
    """``pg_restore --list`` reads only the table of contents; writing the whole restore script to
    /dev/null decompresses and reads every data block, as a restore would."""
    try:
        argv = [pg_restore.path, "--file=/dev/null"]
        if file_format(archive) == "custom-zstd":
            run_on_decompressed(argv, str(archive), tool_environment(), what="pg_restore of every data block")
        else:
            run_tool([*argv, str(archive)], tool_environment(), what="pg_restore of every data block")
        return ("data", True, "every data block read")
    except ToolError as exc:
        return ("data", False, str(exc))


def catalog_integrity(entry: CatalogEntry, key: Optional[bytes]) -> tuple[bool, MacCheck]:
    """For ``backups list``: (verified, signature). Verified only when the MAC verifies and the
    archive's size and SHA-256 are the ones the signed sidecar records."""
    if entry.info is None:
        return False, MacCheck("missing", "no valid sidecar")
    signature = verify_sidecar_mac(entry.info, key)
    if not signature.ok:
        return False, signature
    try:
        intact = (entry.archive.stat().st_size == entry.info.size_bytes
                  and sha256_of(entry.archive) == entry.info.sha256)
    except OSError:
        intact = False
    return intact, signature


class NewestBackupMissing(BackupError):
    """The newest backup the database recorded is not in the directory as it was made: ``latest``
    refuses rather than fall back to an older one (that would roll back further than asked)."""


def latest_backup(directory: Path, database: str, records: list) -> tuple:
    """``latest`` for ``database``: (the archive, its registry.RecordedBackup). With backups recorded
    in the database (registry), the newest recorded one, found under its name (the caller checks,
    once its sidecar is verified, that it holds the recorded bytes); NewestBackupMissing when it is
    not there. With none recorded (backups made before the record existed), the newest sidecar of this
    database in the directory, never one dated in the future; its record is then None."""
    if records:
        newest = records[-1]
        path = directory / newest.file_name
        if os.sep in newest.file_name or not owned_regular_file(path):
            raise NewestBackupMissing(
                f"the newest backup of {database}, {newest.describe()}, is not there (in {directory}); refusing "
                "to restore an older one as latest (moved, deleted or replaced?); the database was not touched",
                hint="put it back, or name an older backup with --backup FILE to go back to it knowingly")
        return path, newest
    now = _dt.datetime.now(_dt.timezone.utc)
    entries = []
    for entry in list_backups(directory):
        if entry.info is None or entry.info.database != database:
            continue                  # a shared directory: only this database's backups are candidates
        if entry.created > now + FUTURE_TOLERANCE:
            warn_once(f"ignoring {entry.archive} for latest: its sidecar is dated {entry.info.created_at}, "
                      "in the future; name it with --backup to restore it")
            continue
        entries.append(entry)
    if not entries:
        raise PreflightError(f"no backups of {database} with valid metadata in {directory}")
    return entries[0].archive, None


def resolve_backup(directory: Path, name: str) -> Path:
    """A backup named by a file name inside the backup directory or by a path (``latest`` is
    latest_backup's). Inside the directory only regular files of this user are accepted;
    outside it only regular files (not links)."""
    in_directory = directory / name
    candidate = in_directory if os.sep not in name and os.path.lexists(in_directory) else Path(name).expanduser()
    try:
        status = os.lstat(candidate)
    except OSError:
        raise PreflightError(f"backup {name} not found (looked for it as a path and in {directory})") from None
    if not stat.S_ISREG(status.st_mode):
        raise PreflightError(f"backup {candidate} is not a regular file (a link or something else); "
                             "name the file itself")
    if is_inside(directory, candidate) and status.st_uid != os.geteuid():
        raise PreflightError(f"backup {candidate} belongs to another user; a backup in the backup directory "
                             "must be your own")
    return candidate.resolve()


def prune_selection(entries: list[CatalogEntry], *, keep_days: Optional[int], keep_last: Optional[int],
                    now: Optional[_dt.datetime] = None) -> list[CatalogEntry]:
    """The backups retention removes: older than ``keep_days`` and beyond the newest ``keep_last``
    per database. The newest backup of each database is always kept, and so is a backup an open
    journal entry names (``needed_by_recover``; ``pinned_among`` lists those for the user)."""
    return [entry for entry in _beyond_retention(entries, keep_days, keep_last, now)
            if needed_by_recover(entry) is None]


def pinned_among(entries: list[CatalogEntry], *, keep_days: Optional[int], keep_last: Optional[int],
                 now: Optional[_dt.datetime] = None) -> list[tuple[CatalogEntry, str]]:
    """(entry, run id) of the backups retention would remove but an open journal entry needs."""
    return [(entry, run_id) for entry in _beyond_retention(entries, keep_days, keep_last, now)
            if (run_id := needed_by_recover(entry)) is not None]


def _beyond_retention(entries: list[CatalogEntry], keep_days: Optional[int], keep_last: Optional[int],
                      now: Optional[_dt.datetime]) -> list[CatalogEntry]:
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


PIN_SUFFIX = ".needed-by-recover"


def pin_path(archive: Path) -> Path:
    return Path(str(archive) + PIN_SUFFIX)


def pin_for_recover(archive: Path, run_id: str, database: str) -> None:
    """Mark ``archive`` as the backup an open journal entry names: a run that dies from here on
    leaves ``recover`` depending on it, so no prune or retention — of this database's runs or of
    another's sharing the directory — may delete it until the entry is closed (``unpin``)."""
    try:
        descriptor = os.open(pin_path(archive), os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        with os.fdopen(descriptor, "w") as pin:
            json.dump({"run_id": run_id, "database": database}, pin)
    except OSError as exc:
        warn_once(f"could not mark {Path(archive).name} as needed by recover: {exc.strerror or exc}")


def unpin(archive: Path) -> None:
    pin_path(archive).unlink(missing_ok=True)


def needed_by_recover(entry: CatalogEntry) -> Optional[str]:
    """The run (id) whose open journal entry names this backup, or None."""
    path = pin_path(entry.archive)
    if not path.exists():
        return None
    try:
        return str(json.loads(path.read_text()).get("run_id") or "unknown")
    except (OSError, ValueError):
        return "unknown"


def photograph_path(archive: Path) -> Path:
    """``backup_X.photo.json``: the relations' photograph a scoped backup is restored with (scope.py)."""
    return Path(f"{_without_format_suffix(archive)}.photo{SIDECAR_SUFFIX}")


def scope_list_path(archive: Path) -> Path:
    """``backup_X.scope.list``: beside a scoped backup, the ``pg_restore -L`` list that restores
    exactly its scope, for recovering by hand (scope.py)."""
    return Path(f"{_without_format_suffix(archive)}.scope.list")


def delete_backup(entry: CatalogEntry) -> None:
    for path in (entry.archive, sidecar_path(entry.archive), photograph_path(entry.archive),
                 scope_list_path(entry.archive)):
        try:
            path.unlink()
        except FileNotFoundError:
            pass


def describe_origin(server: dict) -> str:
    """One line naming the server and database a backup came from (pgtools.server_identity)."""
    if not server:
        return "unknown origin (no server identity recorded)"
    if server.get("method") == "system_identifier":
        where = f"server {server.get('system_identifier')}"
    else:
        where = f"server at {server.get('address')}:{server.get('port')}"
    return f"{where}, database {server.get('database')} (OID {server.get('database_oid')})"


def origin_mismatch(recorded: dict, current: dict, *, same_database: bool = True) -> Optional[str]:
    """Why a backup recorded as coming from ``recorded`` is not provably from the server (and,
    with ``same_database``, the database) ``current`` names; None when it is."""
    if not recorded:
        return "records no server identity (written before backups recorded their origin)"
    if recorded.get("method") != current.get("method"):
        return (f"was identified by {recorded.get('method')}, this server by {current.get('method')}: "
                f"cannot prove it comes from here ({describe_origin(recorded)})")
    keys = ("system_identifier",) if current.get("method") == "system_identifier" else ("address", "port")
    if any(recorded.get(key) != current.get(key) for key in keys):
        return f"comes from another server ({describe_origin(recorded)}; this is {describe_origin(current)})"
    if same_database and recorded.get("database_oid") != current.get("database_oid"):
        return (f"comes from another database of this server ({describe_origin(recorded)}; this is "
                f"{describe_origin(current)}: another database, or this one dropped and re-created)")
    return None
