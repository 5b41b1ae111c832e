"""The validation report for people (grouped by file, source line shown), for machines (JSON)
and for CI annotations (``path:line: severity rule message``)."""
from __future__ import annotations

from ..base.redaction import mask, without_control_characters

STYLES = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def report_document(report) -> dict:
    """The report as `validate --format json` prints it (and the service answers):
    docs/schemas/validate.schema.json."""
    return {"files_checked": report.files_checked, "errors": len(report.errors), "warnings": len(report.warnings),
            "accepted": len(report.accepted), "findings": [f.as_dict() for f in report.findings]}


def render_report(report, fmt: str, console, *, blocking_only: bool = False) -> None:
    """Text or annotations; the JSON document is printed by the CLI's Output (report_document).
    ``blocking_only``: the errors and warnings in full, the info findings counted (an upgrade
    refused by validation: the findings that stopped it, not every note of a long chain)."""
    if fmt == "annotations":
        lines = [_one_line_unmasked(f"{f.file}:{f.line}: {f.severity} {f.rule} {f.message}") for f in report.findings]
        console.file.write(mask("".join(line + "\n" for line in lines)))
        return
    styled = []
    current = None
    shown = [f for f in report.findings if f.severity != "info"] if blocking_only else report.findings
    for f in shown:
        if f.file != current:
            current = f.file
            styled.append((f"\n{f.file}", "bold"))
        styled.append((f"  {f.line}: {f.severity}[{f.rule}]: {f.message}", STYLES.get(f.severity)))
        if f.source_line:
            styled.append((f"      | {f.source_line}", "dim"))
        styled.append((f"      do instead: {f.do_instead}", None))
    summary = (f"{report.files_checked} file(s) checked: {len(report.errors)} error(s), "
               f"{len(report.warnings)} warning(s), "
               f"{len(report.findings) - len(report.errors) - len(report.warnings)} info")
    if report.accepted:
        summary += f"; {len(report.accepted)} accepted in config (not shown)"
    if len(shown) < len(report.findings):
        summary += (f"; {len(report.findings) - len(shown)} info not shown "
                    "(--verbose, --format json or `validate` list them)")
    styled.append((("\n" if shown else "") + summary,
                   "bold red" if report.errors else ("yellow" if report.warnings else "green")))
    # Revision files are not ours: no terminal escape and no newline of theirs (in a file name, a
    # message, a source line) reaches the screen, and every secret is masked.
    lines = [(_without_newlines(text), style) for text, style in styled]
    if console.is_terminal:
        for text, style in lines:
            console.print(mask(text), style=style, markup=False, highlight=False)
    else:   # one masking pass and one write for the whole report: thousands of lines on a large chain
        console.file.write(mask("".join(text + "\n" for text, _ in lines)))


def _without_newlines(text: str) -> str:
    """One line (after any leading blank lines), control characters removed."""
    blank = text[:len(text) - len(text.lstrip("\n"))]
    return blank + _one_line_unmasked(text[len(blank):])


def _one_line_unmasked(text) -> str:
    return without_control_characters(text).replace("\n", "\\n")
