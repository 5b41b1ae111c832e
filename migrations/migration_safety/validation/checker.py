"""Running the rules over revision files: each file's structure and operations, then the graph.
Every finding is built in one place (``_Reporter.add``), which applies suppression comments,
disabled rules, severity overrides and the findings the project accepted in its config."""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from ..migration_files.revision_file import alembic_revision_module
from .cache import FindingsCache, entry_of, replay
from .model import Finding, ValidationConfig, ValidationInputError, ValidationReport
from .registry import FILE_RULES, GRAPH_RULES, OPERATION_RULES, RULES, SEQUENCE_RULES
from .source import RevisionSource, read_revision

SUPPRESSION = re.compile(r"#\s*migration-safety:\s*ignore\[([\w\-, ]+)\]\s*(.*)$")
DIRECTIONS = ("upgrade", "downgrade")


def resolve_migration_file(name_or_path: str, versions_dir: Path) -> Path:
    """A path, or a file name inside versions/."""
    for candidate in (Path(name_or_path).expanduser(), Path(versions_dir) / name_or_path):
        if candidate.is_dir():
            raise ValidationInputError(f"{candidate} is a directory, not a revision file")
        if candidate.is_file():
            return candidate
    raise ValidationInputError(f"migration file {name_or_path} not found (as a path or in {versions_dir})")


@dataclass
class RevisionFile:
    """What the file rules see: the file, why it could not be read (``problem``: empty, binary,
    not-utf8 or a SyntaxError), and the operations of both functions once it could."""
    path: Path
    problem: object = None
    source: Optional[RevisionSource] = None
    operations: dict = field(default_factory=dict)      # "upgrade"/"downgrade" -> [Operation]
    lines: list = field(default_factory=list)
    suppressions: dict = field(default_factory=dict)    # line -> (rule ids, reason)

    @property
    def revision(self) -> Optional[str]:
        return self.source.revision if self.source else None


def read_file(path: Path, module_paths=(), transaction_mode: str = "single") -> RevisionFile:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ValidationInputError(f"cannot read {path}: {exc.strerror or exc}") from None
    if not data.strip():
        return RevisionFile(path, problem="empty")
    if b"\x00" in data:
        return RevisionFile(path, problem="binary")
    try:
        source = read_revision(path, module_paths, transaction_mode)
    except UnicodeDecodeError:
        return RevisionFile(path, problem="not-utf8")
    except SyntaxError as exc:
        return RevisionFile(path, problem=exc, lines=data.decode("utf-8", "replace").splitlines())
    revision_file = RevisionFile(path, source=source, lines=source.lines, suppressions=_suppressions(source.lines))
    for name in DIRECTIONS:
        revision_file.operations[name] = source.operations(name)
    return revision_file


def _suppressions(lines: list) -> dict:
    found = {}
    for number, text in enumerate(lines, start=1):
        match = SUPPRESSION.search(text)
        if match:
            ids = {part.strip() for part in match.group(1).split(",") if part.strip()}
            found[number] = (ids, match.group(2).strip())
    return found


def _about(operation) -> dict:
    """What a finding is about, for judging it against the database (plain data: it is cached)."""
    return {"table": operation.table, "column": operation.get("column"),
            "details": {"kind": operation.kind, "new_type_key": operation.get("new_type_key"),
                        "created_here": operation.table_created_here, "index": operation.get("index")}}


class _Recorder:
    """Passes findings on to the reporter and remembers them, for the cache."""

    def __init__(self, reporter: "_Reporter") -> None:
        self.reporter = reporter
        self.results: list = []

    def add(self, rule_id, revision_file, line, message, span=None, phase="upgrade", about=None, severity=None):
        self.results.append([rule_id, line, message, span, phase, about, severity])
        self.reporter.add(rule_id, revision_file, line, message, span, phase, about, severity)


class _Reporter:
    def __init__(self, config: ValidationConfig, report: ValidationReport, direction: str):
        self.config = config
        self.report = report
        self.direction = direction
        self._seen: set = set()

    def add(self, rule_id: str, revision_file: RevisionFile, line: int, message: str,
            span: Optional[tuple] = None, phase: str = "upgrade", about: Optional[dict] = None,
            severity: Optional[str] = None) -> None:
        if rule_id in self.config.disabled:
            return
        first, last = span or (line, line)
        for candidate in [first - 1] + list(range(first, last + 1)):
            if rule_id in revision_file.suppressions.get(candidate, (set(), ""))[0]:
                return
        rule = RULES[rule_id]
        severity = severity or self.config.severity_overrides.get(rule_id, rule.severity)
        if phase != self.direction and phase in DIRECTIONS:
            # the other function's findings are shown, labelled, but never block this direction
            severity, message = "info", f"in {phase}(): {message}"
        lines = revision_file.lines
        finding = Finding(rule_id, severity, str(revision_file.path), line, message, rule.why, rule.do_instead,
                          lines[line - 1].strip() if 0 < line <= len(lines) else None,
                          revision=revision_file.revision, phase=phase)
        if about is not None:
            finding.table, finding.column, finding.details = about["table"], about["column"], dict(about["details"])
        key = (rule_id, finding.file, line, message)
        if key in self._seen:           # a helper called twice reports its operations once
            return
        self._seen.add(key)
        reason = self.config.accepted.get((finding.revision, rule_id))
        if reason is not None:
            finding.accepted_reason = reason
            self.report.accepted.append(finding)
        else:
            self.report.findings.append(finding)


def _check_file(revision_file: RevisionFile, config: ValidationConfig, reporter: _Reporter) -> None:
    for rule in FILE_RULES:
        for line, message in rule.check_file(revision_file, config):
            reporter.add(rule.id, revision_file, line, message)
    check_operations(revision_file, config, reporter)


def check_operations(revision_file: RevisionFile, config: ValidationConfig, reporter: _Reporter) -> None:
    """The operation and sequence rules over each phase's operations (Python revisions and SQL
    migration files alike)."""
    for phase, operations in revision_file.operations.items():
        for operation in operations:
            for rule in OPERATION_RULES:
                result = rule.check(operation, config)
                if result:
                    message, severity = result if isinstance(result, tuple) else (result, None)
                    reporter.add(rule.id, revision_file, operation.line, message,
                                 (operation.line, operation.end_line), phase, _about(operation), severity)
        for rule in SEQUENCE_RULES:
            for operation, message, *more in rule.check_sequence(operations, config):
                about = _about(operation)
                about["details"].update(*more)      # what the rule tells its fixer (validation.fixes)
                reporter.add(rule.id, revision_file, operation.line, message,
                             (operation.line, operation.end_line), phase, about)


def _checked_file(path: Path, config: ValidationConfig, reporter: _Reporter, cache: FindingsCache,
                  read_elsewhere: dict) -> RevisionFile:
    """One file's findings reported: replayed from the cache when the file is unchanged, or from
    what a worker process read (``read_elsewhere``), else read, checked and kept."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ValidationInputError(f"cannot read {path}: {exc.strerror or exc}") from None
    cached = cache.lookup(path, data)
    if cached is None and str(path) in read_elsewhere:
        entry = read_elsewhere[str(path)]
        if entry.pop("keep"):
            cache.keep(data, entry)
        cached = replay(path, data, entry)
    if cached is not None:
        source, results = cached
        revision_file = RevisionFile(path, source=source, lines=source.lines, suppressions=_suppressions(source.lines))
        for result in results:
            reporter.add(result[0], revision_file, *result[1:])
        return revision_file
    revision_file = read_file(path, config.module_paths, config.transaction_mode)
    recorder = _Recorder(reporter)
    _check_file(revision_file, config, recorder)
    if revision_file.source is not None and _keepable(revision_file):
        cache.keep(data, entry_of(revision_file.source, recorder.results))
    return revision_file


def _keepable(revision_file: RevisionFile) -> bool:
    """A file that uses column types of the project's own modules is checked every time, whether
    their source was found or not: the modules can be edited or created, and module_paths set,
    while the revision does not change."""
    return not revision_file.source.project_types


# Below this many files to read, starting worker processes costs more than it saves.
_PARALLEL_MIN_FILES = 200


def _read_in_workers(paths: list, config: ValidationConfig, cache: FindingsCache) -> list:
    """Read and check the files the cache does not know in worker processes, one per core, while
    this process goes on (it imports Alembic for the graph checks meanwhile). Returns the workers
    (pid, the pipe their findings come through), which ``_collect`` gathers.

    Only a single-threaded process forks (the CLI's ``validate``; never the service, whose other
    threads could hold a lock the child would wait for forever), and only for many files. A file
    a worker could not read is read again here, where its error is reported as usual."""
    import threading

    cores = os.cpu_count() or 1
    if len(paths) < _PARALLEL_MIN_FILES or cores < 2 or threading.active_count() > 1 or not hasattr(os, "fork"):
        return []
    workers = []
    for share in (paths[index::cores] for index in range(cores)):
        reading, writing = os.pipe()
        pid = os.fork()
        if pid == 0:  # the worker: its findings as JSON on the pipe, then leave at once
            os.close(reading)
            status = 0
            try:
                with os.fdopen(writing, "w", encoding="utf-8") as pipe:
                    pipe.write(json.dumps(_entries(share, config, cache)))   # one write, not one per token
            except BaseException:  # this process reads those files again and reports the error
                status = 1
            os._exit(status)
        os.close(writing)
        workers.append((pid, reading))
    return workers


def _entries(paths: list, config: ValidationConfig, cache: FindingsCache) -> dict:
    """In a worker: path -> cache entry (plus whether it may be kept) of each file the cache
    does not know and that could be read."""
    entries = {}
    reporter = _Reporter(config, ValidationReport(), "upgrade")
    for path in paths:
        path = Path(path)
        try:
            data = path.read_bytes()
        except OSError:
            continue
        if cache.lookup(path, data) is not None:
            continue
        revision_file = read_file(path, config.module_paths, config.transaction_mode)
        if revision_file.source is None:
            continue
        recorder = _Recorder(reporter)
        _check_file(revision_file, config, recorder)
        entries[str(path)] = {**entry_of(revision_file.source, recorder.results), "keep": _keepable(revision_file)}
    return entries


def _collect(workers: list) -> dict:
    """What the workers found (the files of a worker that failed are read again here)."""
    found = {}
    for pid, reading in workers:
        with os.fdopen(reading, "r", encoding="utf-8") as pipe:
            text = pipe.read()
        _, status = os.waitpid(pid, 0)
        if status == 0 and text:
            found.update(json.loads(text))
    return found


def validate_paths(paths: list, config: ValidationConfig, *, graph_dir: Optional[Path] = None,
                   direction: str = "upgrade") -> ValidationReport:
    """Check each file; with ``graph_dir``, also the revision graph of every file in it.

    ``direction`` is the function about to run (a downgrade plan passes "downgrade"): its findings
    keep their severity; the other function's are reported as info, labelled with its name."""
    report = ValidationReport()
    reporter = _Reporter(config, report, direction)
    cache = FindingsCache(config.postgres_major, config.transaction_mode, config.lock_timeout)
    paths = [Path(path) for path in paths]
    for path in paths:
        if path.is_dir():
            raise ValidationInputError(f"{path} is a directory, not a revision file")
        if not path.exists():
            raise ValidationInputError(f"migration file {path} not found")
    workers = _read_in_workers(paths, config, cache)
    if graph_dir is not None:
        alembic_revision_module()       # imported while the workers read
    read_elsewhere = _collect(workers)
    report.files_read_by_workers = len(read_elsewhere)
    files = {}
    for path in paths:
        revision_file = _checked_file(path, config, reporter, cache, read_elsewhere)
        report.files_checked += 1
        if revision_file.source is not None:
            files[id(revision_file.source)] = revision_file
    cache.save()
    if graph_dir is not None:
        sources = [revision_file.source for revision_file in files.values()]
        for rule in GRAPH_RULES:
            for source, line, message in rule.check_graph(sources, config):
                reporter.add(rule.id, files[id(source)], line, message)
    report.findings.sort(key=lambda f: (f.file, f.line, f.rule))
    return report
