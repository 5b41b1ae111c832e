"""From parsed arguments to one command call and its rendering: the CLI's only logic."""
from __future__ import annotations

from . import commands
from .errors import EXIT_OK
from .project import Project
from .render import Output, render_run_result


def dispatch(args, output: Output) -> int:
    if args.command == "validate" and (args.explain or args.list_rules):
        return _validate_info(args, output)
    project = Project.load(args.config)
    handler = _HANDLERS[args.command]
    return handler(project, args, output)


def _run(project, args, output: Output) -> int:
    options = dict(dry_run=args.dry_run, no_backup=args.no_backup, lock_wait=args.lock_wait,
                   events=output.events())
    if args.command == "upgrade":
        result = commands.upgrade(project, args.revision, allow_unsafe=args.allow_unsafe, **options)
    else:
        result = commands.downgrade(project, args.revision, **options)
    render_run_result(output, result)
    return result.exit_code


def _current(project, args, output: Output) -> int:
    data = commands.current(project)
    if output.format == "json":
        output.json(data)
    else:
        output.line(", ".join(data["current"]) or "base (no revision applied)")
    return EXIT_OK


def _history(project, args, output: Output) -> int:
    data = commands.history(project)
    if output.format == "json":
        output.json(data)
        return EXIT_OK
    rows = [(r["revision"] + (" (current)" if r["current"] else ""), r["down_revision"] or "base",
             "applied" if r["applied"] else "pending", r["message"], r["file"]) for r in data["revisions"]]
    output.table(f"History of {data['database']}", ("revision", "down", "state", "message", "file"), rows)
    return EXIT_OK


def _status(project, args, output: Output) -> int:
    data = commands.status(project)
    if output.format == "json":
        output.json(data)
        return EXIT_OK
    backup = data["last_backup"]
    rows = [("database", data["url"]), ("current", ", ".join(data["current"]) or "base"),
            ("heads", ", ".join(data["heads"]) or "none"),
            ("pending", str(len(data["pending"])) + (": " + "; ".join(data["pending"]) if data["pending"] else "")),
            ("last backup", f"{backup['file']} ({backup['age_hours']:.1f} h ago)" if backup else "none")]
    output.key_values("Status", rows)
    output.line("up to date" if data["up_to_date"] else f"{len(data['pending'])} revision(s) pending",
                style="green" if data["up_to_date"] else "yellow")
    return EXIT_OK


def render_validation(output: Output, report) -> None:
    from .validation import render_report

    console = output.console if output.format == "text" else output.console
    render_report(report, output.format, console)


def _validate(project, args, output: Output) -> int:
    report = commands.validate(project, args.migration_file, strict=args.strict)
    render_validation(output, report)
    return report.exit_code(args.strict)


def _validate_info(args, output: Output) -> int:
    if args.explain:
        output.line(commands.explain_rule(args.explain))
        return EXIT_OK
    from .validation import RULES

    rows = [(rule.id, rule.severity, rule.summary) for rule in sorted(RULES.values(), key=lambda r: r.id)]
    if output.format == "json":
        output.json([{"id": i, "severity": s, "summary": m} for i, s, m in rows])
    else:
        output.table("Rules", ("id", "severity", "summary"), rows)
    return EXIT_OK


_HANDLERS = {"upgrade": _run, "downgrade": _run, "current": _current, "history": _history,
             "status": _status, "validate": _validate}
