"""The validator's data: rules, findings, the report and its configuration."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True)
class Rule:
    """One rule: a stable public id, a default severity, a one-line summary, the PostgreSQL
    reason ("why") and the safe recipe ("do instead")."""
    id: str
    severity: str
    summary: str
    why: str
    do_instead: str
    # operation rules: check(operation, context) -> message or None; structure/graph rules: None
    check: Optional[Callable] = None


@dataclass
class Finding:
    rule: str
    severity: str
    file: str
    line: int
    message: str
    why: str = ""
    do_instead: str = ""
    source_line: Optional[str] = None

    def as_dict(self) -> dict:
        return {"rule": self.rule, "severity": self.severity, "file": self.file, "line": self.line,
                "message": self.message, "why": self.why, "do_instead": self.do_instead}


@dataclass
class ValidationReport:
    findings: list = field(default_factory=list)
    files_checked: int = 0

    @property
    def errors(self) -> list:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list:
        return [f for f in self.findings if f.severity == "warning"]

    def exit_code(self, strict: bool = False) -> int:
        if self.errors or (strict and self.warnings):
            return 3
        return 0


@dataclass
class ValidationConfig:
    disabled: set = field(default_factory=set)
    severity_overrides: dict = field(default_factory=dict)
    postgres_major: int = 15


class ValidationInputError(Exception):
    """A file or rule the user named does not exist or cannot be read; one-line message."""
