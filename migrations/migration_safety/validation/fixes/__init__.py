"""``validate --fix``: rewrite a revision's hazards into their safe form where that form is
mechanical, preserving everything else byte for byte (libcst's concrete syntax tree keeps
comments and formatting; a regex could not tell code from strings and comments).

One fixer per rule, in a file named after the rule it fixes (like the rules themselves). A fixer
gets the statement that raised the finding — ``op.<operation>(...)`` alone on its line, in
``upgrade()`` — and returns the statements that replace it, or None when the call is not one it
can rewrite with certainty (names computed at run time, options it does not know): those
findings are left alone and listed with their do-instead.

Only findings the validator reports are fixed: a suppressed or accepted finding is not reported,
so it is not touched. A fixed call is no longer a finding, so a second run changes nothing."""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from . import (add_check_without_not_valid, add_column_volatile_default, add_foreign_key_without_not_valid,
               add_unique_constraint, create_index_without_concurrently, drop_index_without_concurrently,
               set_not_null, timeout_override)

FIXERS = {module.RULE_ID: module for module in (
    create_index_without_concurrently, drop_index_without_concurrently, add_foreign_key_without_not_valid,
    add_check_without_not_valid, add_unique_constraint, set_not_null, add_column_volatile_default,
    timeout_override)}


@dataclass
class FileFix:
    path: str
    original: str
    fixed: str
    applied: list = field(default_factory=list)      # (line, rule id)
    left: list = field(default_factory=list)         # Findings with no mechanical fix here
    error: Optional[str] = None                      # the file could not be parsed: not touched

    @property
    def changed(self) -> bool:
        return self.fixed != self.original

    def diff(self) -> str:
        return "".join(difflib.unified_diff(self.original.splitlines(keepends=True),
                                            self.fixed.splitlines(keepends=True),
                                            fromfile=f"a/{Path(self.path).name}", tofile=f"b/{Path(self.path).name}"))


def fix_source(path: str, source: str, findings: list) -> FileFix:
    """The fixed text of one revision file for ``findings`` (this file's, as validate reports them)."""
    import libcst

    from ._rewrite import FixTransformer

    result = FileFix(str(path), source, source)
    wanted = {}
    for finding in findings:
        if finding.rule in FIXERS and finding.phase == "upgrade" and finding.severity != "info":
            wanted.setdefault(finding.line, []).append(finding)
        else:
            result.left.append(finding)
    if not wanted:
        return result
    try:
        module = libcst.parse_module(source)
    except libcst.ParserSyntaxError as exc:
        result.error = f"cannot be parsed: {str(exc).splitlines()[0]}"
        result.left.extend(f for group in wanted.values() for f in group)
        return result
    transformer = FixTransformer(wanted, FIXERS)
    fixed = libcst.MetadataWrapper(module).visit(transformer)
    result.fixed = fixed.code
    result.applied = sorted(transformer.applied)
    result.left.extend(transformer.not_fixed)
    result.left.sort(key=lambda f: (f.line, f.rule))
    return result
