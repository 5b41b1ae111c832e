"""The validator's data: rules, findings, the report and its configuration."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

from ..base.errors import ConfigurationError

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
    # Each rule file owns its logic through one or more of these hooks (context: ValidationConfig):
    # check(operation, context) -> message or None                   one operation at a time; or
    #                              (message, severity) when this finding's severity is not the rule's
    # check_sequence(operations, context) -> [(operation, message)]  operations of one function, in order
    #                              or (operation, message, details) with what the rule's fixer needs
    # check_file(revision_file, context) -> [(line, message)]        one file (structure rules)
    # check_graph(sources, context) -> [(source, line, message)]     every revision (graph rules)
    # check_sql_file(script, context) -> [(line, message)]          one plain-SQL migration file
    #                                                                (sources.sql_files.Script)
    check: Optional[Callable] = None
    check_sequence: Optional[Callable] = None
    check_file: Optional[Callable] = None
    check_graph: Optional[Callable] = None
    check_sql_file: Optional[Callable] = None
    # the recipe in a plain-SQL migration file (--sql-dir) when ``do_instead`` is Alembic's
    do_instead_sql: Optional[str] = None

    def do_instead_for(self, source: str) -> str:
        """The recipe for a revision file (``alembic``) or a plain-SQL file (``sql``)."""
        return self.do_instead_sql if source == "sql" and self.do_instead_sql else self.do_instead


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
    revision: Optional[str] = None
    phase: str = "upgrade"              # the function the finding is in: upgrade or downgrade
    accepted_reason: Optional[str] = None
    table: Optional[str] = None         # what the finding is about, for judging it against the database
    column: Optional[str] = None
    details: dict = field(default_factory=dict, repr=False)

    def as_dict(self) -> dict:
        data = {"rule": self.rule, "severity": self.severity, "file": self.file, "line": self.line,
                "message": self.message, "why": self.why, "do_instead": self.do_instead,
                "revision": self.revision, "phase": self.phase}
        if self.accepted_reason is not None:
            data["accepted"] = self.accepted_reason
        return data


@dataclass
class ValidationReport:
    findings: list = field(default_factory=list)
    files_checked: int = 0
    accepted: list = field(default_factory=list)     # findings the project accepted in its config
    files_read_by_workers: int = 0                   # read in worker processes (checker._read_in_workers)

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
    # (revision, rule id) -> reason: findings a project accepts (third-party chains, baselines)
    accepted: dict = field(default_factory=dict)
    # folders the project's own modules are found in (alembic.ini's prepend_sys_path, the project's
    # folder): a column type a revision imports from the project is read there, never imported
    module_paths: tuple = ()
    # how env.py runs the revisions (migration_files.env_file.EnvFile.transaction_mode): in
    # "autocommit" every statement commits on its own, as inside autocommit_block()
    transaction_mode: str = "single"
    # the lock_timeout the wrapper gives the migration connection (SafetySettings.lock_timeout): a
    # revision that raises it is reported (rule timeout-override)
    lock_timeout: str = "5s"


class ValidationInputError(ConfigurationError):
    """A file, rule or setting the user named does not exist or cannot be read: a one-line
    message and exit 2 wherever it surfaces (validate, upgrade, create)."""
