"""Running the rules over revision files: structure, operations, suppressions, then the graph."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Optional

from .graph import graph_findings
from .model import Finding, ValidationConfig, ValidationInputError, ValidationReport
from .registry import OPERATION_RULES, RULES
from .source import OperationCollector, is_empty_function, read_revision

SUPPRESSION = re.compile(r"#\s*migration-safety:\s*ignore\[([\w\-, ]+)\]\s*(.*)$")


def resolve_migration_file(name_or_path: str, versions_dir: Path) -> Path:
    """A path, or a file name inside versions/."""
    for candidate in (Path(name_or_path).expanduser(), Path(versions_dir) / name_or_path):
        if candidate.is_dir():
            raise ValidationInputError(f"{candidate} is a directory, not a revision file")
        if candidate.is_file():
            return candidate
    raise ValidationInputError(f"migration file {name_or_path} not found (as a path or in {versions_dir})")


class _FileCheck:
    def __init__(self, path: Path, config: ValidationConfig):
        self.path = path
        self.config = config
        self.findings: list[Finding] = []
        self.lines: list[str] = []
        self.suppressions: dict[int, tuple[set, str]] = {}

    def add(self, rule_id: str, line: int, message: str, span: Optional[tuple] = None) -> None:
        if rule_id in self.config.disabled:
            return
        first, last = span or (line, line)
        for candidate in [first - 1] + list(range(first, last + 1)):
            ids, _reason = self.suppressions.get(candidate, (set(), ""))
            if rule_id in ids:
                return
        rule = RULES[rule_id]
        severity = self.config.severity_overrides.get(rule_id, rule.severity)
        source_line = self.lines[line - 1].strip() if 0 < line <= len(self.lines) else None
        self.findings.append(Finding(rule_id, severity, str(self.path), line, message, rule.why, rule.do_instead,
                                     source_line))

    def run(self):
        try:
            data = self.path.read_bytes()
        except OSError as exc:
            raise ValidationInputError(f"cannot read {self.path}: {exc.strerror or exc}") from None
        if not data.strip() or b"\x00" in data:
            self.add("unreadable-revision", 1, "the file is empty" if not data.strip() else "the file is binary")
            return None
        try:
            source = read_revision(self.path)
        except UnicodeDecodeError:
            self.add("unreadable-revision", 1, "the file is not UTF-8 text")
            return None
        except SyntaxError as exc:
            self.lines = data.decode("utf-8", "replace").splitlines()
            self.add("syntax-error", exc.lineno or 1, f"syntax error: {exc.msg}")
            return None
        self.lines = source.lines
        self._read_suppressions()
        if "revision" not in source.assigned or not source.revision:
            self.add("missing-revision-id", 1, "no module-level revision = '...'")
        if "down_revision" not in source.assigned:
            self.add("missing-down-revision", 1, "no module-level down_revision")
        upgrade = source.functions.get("upgrade")
        downgrade = source.functions.get("downgrade")
        if upgrade is None:
            self.add("missing-upgrade", 1, "no upgrade() function")
        if downgrade is None:
            self.add("missing-downgrade", 1, "no downgrade() function")
        elif is_empty_function(downgrade) and not (upgrade is not None and is_empty_function(upgrade)):
            self.add("irreversible-downgrade", downgrade.lineno, "downgrade() does nothing: this revision cannot be undone")
        if upgrade is not None:
            for operation in OperationCollector().collect(upgrade):
                for rule in OPERATION_RULES:
                    message = rule.check(operation, self.config)
                    if message:
                        self.add(rule.id, operation.line, message, (operation.line, operation.end_line))
        return source

    def _read_suppressions(self) -> None:
        for number, text in enumerate(self.lines, start=1):
            match = SUPPRESSION.search(text)
            if not match:
                continue
            ids = {part.strip() for part in match.group(1).split(",") if part.strip()}
            reason = match.group(2).strip()
            self.suppressions[number] = (ids, reason)
            if not reason:
                self.add("suppression-without-reason", number,
                         f"ignore[{', '.join(sorted(ids))}] without a reason")


def validate_paths(paths: list, config: ValidationConfig, *, graph_dir: Optional[Path] = None) -> ValidationReport:
    """Check each file; with ``graph_dir``, also the revision graph of every file in it."""
    report = ValidationReport()
    sources = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            raise ValidationInputError(f"{path} is a directory, not a revision file")
        if not path.exists():
            raise ValidationInputError(f"migration file {path} not found")
        check = _FileCheck(path, config)
        source = check.run()
        report.findings.extend(check.findings)
        report.files_checked += 1
        if source is not None:
            sources.append(source)
    if graph_dir is not None:
        for finding in graph_findings(sources, config):
            report.findings.append(finding)
    report.findings.sort(key=lambda f: (f.file, f.line, f.rule))
    return report
