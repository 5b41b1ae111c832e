"""``validate --baseline FILE``: today's findings written as accepted ones, so that later runs
(``validate`` and ``upgrade``) block only on new findings. The file is an INI section that
``baseline = FILE`` in ``[migration_safety.validate]`` makes the validator read."""
from __future__ import annotations

import datetime as _dt
from pathlib import Path

from .config import ACCEPT_SECTION
from .model import ValidationInputError


def baseline_text(report) -> str:
    """One ``<revision> <rule> = <reason>`` line per revision and rule with an error or warning;
    entries already accepted keep their reason."""
    today = _dt.date.today().isoformat()
    entries: dict = {}
    for finding in sorted(report.accepted + report.findings, key=lambda f: (f.file, f.line)):
        if finding.severity not in ("error", "warning") or not finding.revision:
            continue
        key = (finding.revision, finding.rule)
        if key not in entries:
            entries[key] = finding.accepted_reason or f"baseline {today}: {finding.message} ({Path(finding.file).name}:{finding.line})"
    lines = [f"# Findings accepted by `validate --baseline` on {today}; later runs report only new ones.",
             "# Replace a reason with the real one when you review an entry; delete entries that are fixed.",
             f"[{ACCEPT_SECTION}]"]
    lines += [f"{revision} {rule} = {' '.join(reason.split())}" for (revision, rule), reason in entries.items()]
    return "\n".join(lines) + "\n"


def write_baseline(report, path) -> int:
    """Write the baseline file; the number of entries."""
    text = baseline_text(report)
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ValidationInputError(f"cannot write baseline {path}: {exc.strerror or exc}") from None
    return text.count("\n") - 3
