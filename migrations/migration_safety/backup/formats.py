"""What each ``MIGRATION_BACKUP_FORMAT`` means for pg_dump, and the zstd tool behind ``custom-zstd``.

``custom-zstd`` is pg_dump's custom archive compressed with zstd: by pg_dump itself when the
client tools are PostgreSQL 16+ built with zstd (a ``.dump`` that pg_restore reads natively),
otherwise ``pg_dump -Fc -Z0`` piped through the ``zstd`` tool into ``backup_*.dump.zst``. The tool,
not a Python binding, does the work: it runs beside pg_dump on another core with no GIL between
them, and it is the same stock tool the README's recovery recipe uses (``zstd -dc | pg_restore``).
The zstd frame carries a checksum of its content, so ``zstd -t`` proves the whole file intact.

A ``.dump.zst`` file holds a custom archive written to a pipe, which pg_restore reads from a pipe
too (the wrapper's archives always were: pg_dump writes them to stdout, and the restore feeds
pg_restore through its stdin), so every pg_restore use — ``--list``, ``-L`` selection, schema-only —
works on the decompressed stream without a temporary file.

``auto`` (the default) is ``custom-zstd`` when zstd is available either way, else ``custom``.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
from dataclasses import dataclass, field
from typing import Callable, Optional, Sequence

from ..base.cache_files import read_cache, write_cache
from ..base.errors import PreflightError, ToolError
from ..config.settings import tool_environment
from ..postgres.tools import TOOL_DIR_VARIABLE, Tool, _binary_identity, first_error_line, start_tool, stop_tool

ZSTD_SUFFIX = ".dump.zst"
_NATIVE_CACHE = "pg_dump_zstd.json"


@dataclass(frozen=True)
class DumpPlan:
    """How one backup is written: pg_dump's options, the compressor its output goes through (the
    zstd tool's argv, or None), the file's suffix and what the sidecar records."""
    format: str                                   # the sidecar's format: custom | custom-zstd | plain
    dump_options: list
    compressor: Optional[list]
    suffix: str
    compression: int
    tools: dict = field(default_factory=dict)     # extra sidecar tool entries (zstd's version or origin)


def zstd_path() -> Optional[str]:
    """The zstd tool: the one in MIGRATION_PG_BIN_DIR when that folder has one (a pinned or
    stand-in tool set), otherwise the one on PATH; None when there is none."""
    pinned = os.environ.get(TOOL_DIR_VARIABLE)
    if pinned:
        candidate = os.path.join(pinned, "zstd")
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("zstd")


def require_zstd(why: str) -> str:
    path = zstd_path()
    if path is None:
        raise PreflightError(f"the zstd tool is needed {why} but was not found; install it (Debian: apt-get install "
                             "zstd) or set MIGRATION_BACKUP_FORMAT=custom")
    return path


def pg_dump_has_zstd(pg_dump: Tool) -> bool:
    """Whether this pg_dump compresses with zstd itself (16+ built with it). Asked once per binary:
    pg_dump checks ``--compress=zstd`` before it connects, so a connection that cannot succeed
    (a socket folder that does not exist) tells the two apart without a server."""
    if pg_dump.major < 16:
        return False
    identity = _binary_identity(pg_dump.path)
    cache = read_cache(_NATIVE_CACHE)
    if identity and identity in cache:
        return bool(cache[identity])
    try:
        probe = subprocess.run(
            [pg_dump.path, "--format=custom", "--compress=zstd:1", "--file=/dev/null", "--no-password",
             "--dbname=host=/nonexistent/migration_safety_probe port=1 connect_timeout=1"],
            capture_output=True, text=True, env={**tool_environment(), "LC_ALL": "C"}, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return False                    # not remembered: the next run asks again
    native = "connection to server" in probe.stderr and "compression" not in probe.stderr
    if identity:
        write_cache(_NATIVE_CACHE, {**cache, identity: native})
    return native


def plan_dump(requested: str, compression: int, pg_dump: Tool) -> DumpPlan:
    """The DumpPlan for ``requested`` (auto, custom-zstd, custom, plain) with these tools."""
    if requested == "plain":
        return DumpPlan("plain", ["--format=plain"], None, ".sql", 0)
    if requested in ("auto", "custom-zstd"):
        level = max(compression, 1)        # zstd has no level 0; 1 is the measured choice
        if pg_dump_has_zstd(pg_dump):
            return DumpPlan("custom", ["--format=custom", f"--compress=zstd:{level}"], None, ".dump", level,
                            {"zstd": "built into pg_dump"})
        zstd = zstd_path() if requested == "auto" else require_zstd("for MIGRATION_BACKUP_FORMAT=custom-zstd")
        if zstd is not None:
            # -T0: one worker per core; --no-progress: its stderr is read only for errors
            return DumpPlan("custom-zstd", ["--format=custom", "--compress=0"],
                            [zstd, f"-{level}", "-T0", "-q", "-c", "--no-progress"], ZSTD_SUFFIX, level,
                            {"zstd": zstd_version(zstd)})
    return DumpPlan("custom", ["--format=custom", f"--compress={compression}"], None, ".dump", compression)


def describe_plan(plan: DumpPlan, requested: str) -> str:
    """One line for ``health``: what the next backup will be, and why when ``auto`` chose gzip."""
    if plan.compressor is not None:
        how = f"pg_dump -Fc -Z0 | zstd -{plan.compression} (zstd {plan.tools['zstd']}) into backup_*{plan.suffix}"
    elif "zstd" in plan.tools:
        how = f"pg_dump -Fc --compress=zstd:{plan.compression} into backup_*{plan.suffix}"
    elif plan.format == "plain":
        how = "pg_dump -Fp into backup_*.sql"
    else:
        how = f"pg_dump -Fc -Z{plan.compression} into backup_*{plan.suffix}"
        if requested == "auto":
            how += " (no zstd: install Debian's zstd package for smaller, faster backups)"
    return f"{requested}: {how}"


def zstd_version(path: str) -> str:
    try:
        output = subprocess.run([path, "-V"], capture_output=True, timeout=20,
                                env=tool_environment()).stdout.decode("utf-8", "replace")
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    words = [word.lstrip("v") for word in output.split() if word.startswith("v") and word[1:2].isdigit()]
    return words[0].rstrip(",") if words else "unknown"


def start_decompressor(source, *, stdout) -> subprocess.Popen:
    """``zstd -dc`` of ``source`` (a path, or a descriptor) into ``stdout``. zstd always reads
    its stdin: it refuses a link as input, and ``/dev/fd/N`` (how the restore names the archive
    it opened once) is one."""
    zstd = require_zstd("to read a .dump.zst backup")
    return _on_stdin([zstd, "-dcq"], source, stdout=stdout)


def _on_stdin(argv: list, source, *, stdout=None) -> subprocess.Popen:
    """Start ``argv`` reading ``source`` as its stdin: a descriptor as it is (a pipe), a path
    opened here — ``/dev/fd/N`` opens the same file again with an offset of its own."""
    if isinstance(source, int):
        return start_tool(argv, tool_environment(), stdin=source, stdout=stdout)
    descriptor = os.open(source, os.O_RDONLY | os.O_CLOEXEC)
    try:
        return start_tool(argv, tool_environment(), stdin=descriptor, stdout=stdout)
    finally:
        os.close(descriptor)


def decompressor_failed(process: subprocess.Popen) -> bool:
    """zstd's exit says it could not decompress; being cut off by a reader that had read all it
    wanted (SIGPIPE: pg_restore --list stops after the table of contents) is no failure."""
    return process.returncode not in (0, -signal.SIGPIPE)


def run_on_decompressed(argv: Sequence[str], source: str, env: dict, *, what: str,
                        pass_fds: Sequence[int] = ()) -> subprocess.CompletedProcess:
    """Run a pg_restore ``argv`` (reading its stdin) on the decompressed ``source``; like
    pgtools.run_tool, ToolError with the key line of whichever process failed."""
    read_end, write_end = os.pipe()
    try:
        decompressor = start_decompressor(source, stdout=write_end)
    except BaseException:
        os.close(read_end)
        os.close(write_end)
        raise
    os.close(write_end)
    try:
        reader = start_tool(argv, env, stdin=read_end, pass_fds=pass_fds)
    except BaseException:
        stop_tool(decompressor)
        raise
    finally:
        os.close(read_end)
    try:
        out, err = reader.communicate()
        decompressor_err = decompressor.communicate()[1]
    except BaseException:
        stop_tool(reader)
        stop_tool(decompressor)
        raise
    if reader.returncode != 0:
        raise ToolError(f"{what} failed: {first_error_line(err or '')}")
    if decompressor_failed(decompressor):
        raise ToolError("zstd could not decompress the backup: "
                        f"{first_error_line((decompressor_err or b'').decode('utf-8', 'replace'))}")
    return subprocess.CompletedProcess(argv, reader.returncode, out, err)


def start_integrity_check(source: str) -> subprocess.Popen:
    """``zstd -t``, started: reads the whole file and checks the frame's content checksum."""
    zstd = require_zstd("to check a .dump.zst backup")
    return _on_stdin([zstd, "-tq"], source)


class StreamCheck:
    """``zstd -t`` fed the compressed bytes while they are written: the frame is proven complete
    and its content checksum right by the time the dump ends. Reading the finished file again
    would prove nothing more (the bytes checked are the bytes written and hashed, and a re-read
    comes from the page cache, not the disk) and put a serial pass over the whole backup on the
    run's critical path (0.64 s for the 380 MB file of a 1 GB database); here it runs on whatever
    core pg_dump and the compressor leave free."""

    def __init__(self, widen: Callable[[int], None]) -> None:
        zstd = require_zstd("to check a .dump.zst backup")
        self.process = start_tool([zstd, "-tq"], tool_environment(), stdin=subprocess.PIPE,
                                  stdout=subprocess.DEVNULL)
        widen(self.process.stdin.fileno())
        self._cut_off = False

    def feed(self, chunk: bytes) -> None:
        if self._cut_off:
            return
        try:
            self.process.stdin.write(chunk)
        except BrokenPipeError:          # it stopped reading: it found the stream damaged
            self._cut_off = True

    def finish(self) -> None:
        """ToolError unless zstd read a whole, intact frame."""
        self._close_input()
        stderr = self.process.stderr.read().decode("utf-8", "replace")
        self.process.wait()
        if self.process.returncode != 0:
            raise ToolError(f"zstd -t found the file damaged: {first_error_line(stderr)}")

    def stop(self) -> None:
        stop_tool(self.process)
        self._close_input()

    def _close_input(self) -> None:
        try:
            self.process.stdin.close()
        except BrokenPipeError:          # what was buffered could not be flushed: it stopped reading
            pass
