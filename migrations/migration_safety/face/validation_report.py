"""The validation report for people (grouped by file, source line shown), for machines (JSON)
and for CI annotations (``path:line: severity rule message``)."""
from __future__ import annotations

from ..base.redaction import one_line

STYLES = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def report_document(report) -> dict:
    """The report as `validate --format json` prints it (and the service answers):
    docs/schemas/validate.schema.json."""
    return {"files_checked": report.files_checked, "errors": len(report.errors), "warnings": len(report.warnings),
            "accepted": len(report.accepted), "findings": [f.as_dict() for f in report.findings]}


def render_report(report, fmt: str, console) -> None:
    """Text or annotations; the JSON document is printed by the CLI's Output (report_document)."""
    if fmt == "annotations":
        for f in report.findings:
            console.file.write(one_line(f"{f.file}:{f.line}: {f.severity} {f.rule} {f.message}") + "\n")
        return
    rich = console.is_terminal
    current = None
    for f in report.findings:
        if f.file != current:
            current = f.file
            _write(console, rich, f"\n{f.file}", "bold")
        _write(console, rich, f"  {f.line}: {f.severity}[{f.rule}]: {f.message}", STYLES.get(f.severity))
        if f.source_line:
            _write(console, rich, f"      | {f.source_line}", "dim")
        _write(console, rich, f"      do instead: {f.do_instead}", None)
    summary = (f"{report.files_checked} file(s) checked: {len(report.errors)} error(s), "
               f"{len(report.warnings)} warning(s), "
               f"{len(report.findings) - len(report.errors) - len(report.warnings)} info")
    if report.accepted:
        summary += f"; {len(report.accepted)} accepted in config (not shown)"
    _write(console, rich, ("\n" if report.findings else "") + summary,
           "bold red" if report.errors else ("yellow" if report.warnings else "green"))


def _write(console, rich: bool, text: str, style) -> None:
    """One line (after any leading blank lines): revision files are not ours, so no terminal escape
    and no newline of theirs (in a file name, a message, a source line) reaches the screen."""
    blank = text[:len(text) - len(text.lstrip("\n"))]
    text = blank + one_line(text[len(blank):])
    if rich:
        console.print(text, style=style, markup=False, highlight=False)
    else:
        console.file.write(text + "\n")
