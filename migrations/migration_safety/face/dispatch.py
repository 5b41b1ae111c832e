"""From parsed arguments to one command call and its rendering: the CLI's only logic."""
from __future__ import annotations

from .. import commands
from ..backup.integrity import register_existing_key
from ..base.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, command_name
from ..base.redaction import displayable
from ..sources.project import Project
from . import log_levels, structured_log
from .render import Output, render_run_result


def dispatch(args, output: Output) -> int:
    stderr_level = log_levels.level_from_environment()          # MIGRATION_LOG_LEVEL; exit 2 when invalid
    log_levels.apply_to_logging(stderr_level)
    if args.command in ("upgrade", "downgrade") and not args.verbose and stderr_level is None:
        log_levels.quiet_alembic_steps()
    if args.command == "validate" and (args.explain or args.list_rules):
        return _validate_info(args, output)
    if args.command == "serve" and args.hash_token:
        return _hash_token(output)
    register_existing_key()
    project = Project.load(args.config, getattr(args, "sql_dir", None), x_arguments=tuple(args.x_arguments or ()))
    output.announce(project.describe(), on_stderr=log_levels.shows_information(stderr_level))
    handler = _fleet if (getattr(args, "targets", None) or getattr(args, "tenant_schemas", None)) \
        else _HANDLERS[args.command]
    # The events long commands report progress to (args.events): the terminal's, at the chosen
    # level, and every one of them in the run log when a log file is configured.
    args.events = log_levels.LevelEvents(output.events(), stderr_level)
    with structured_log.run_log(project, args.command) as log:
        if log is None:
            return handler(project, args, output)
        args.events = structured_log.LoggingEvents(args.events, log)
        exit_code = handler(project, args, output)
        log.finish(exit_code, result=getattr(args, "run_result", None))
        return exit_code


def _run(project, args, output: Output) -> int:
    options = dict(dry_run=args.dry_run, no_backup=args.no_backup, lock_wait=args.lock_wait,
                   events=args.events, rehearse=args.rehearse)
    if args.command == "upgrade":
        result = commands.upgrade(project, args.revision, allow_unsafe=args.allow_unsafe, **options)
    else:
        result = commands.downgrade(project, args.revision, **options)
    args.run_result = result            # the run log's outcome line
    render_run_result(output, result, verbose=args.verbose)
    return result.exit_code


def _fleet(project, args, output: Output) -> int:
    """The command over a fleet of targets (fleet/): each target's own run, then one summary."""
    from ..base.errors import ConfigurationError

    if args.command == "validate" and not args.database:
        raise ConfigurationError("validate over a fleet judges against each database: add --database")
    command_label = " ".join([args.command] + ([args.action] if args.command == "backups" else []))
    result = commands.fleet(project, _without_options(args.argv, FLEET_OPTIONS_WITH_VALUE, FLEET_FLAGS),
                            command=command_label, revision=getattr(args, "revision", None),
                            targets_file=args.targets, tenant_schemas=args.tenant_schemas, shard=args.shard,
                            canary=args.canary, concurrency=args.concurrency, on_failure=args.on_failure,
                            resume=args.resume, state_file=args.fleet_state, events=args.events)
    if output.format == "json":
        output.json(result.document())
    else:
        output.table(f"{command_label} over {len(result.targets)} target(s)",
                     ("target", "outcome", "revision before", "revision after", "seconds", "backup", "exit"),
                     [(t.name, t.status, ", ".join(t.revision_before) or "-", ", ".join(t.revision_after) or "-",
                       f"{t.duration_seconds:.1f}", t.backup or "-", "" if t.exit_code is None else t.exit_code)
                      for t in result.targets])
        counts = result.document()["counts"]
        output.line(", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
                    + (f"; stopped: {result.stopped}" if result.stopped else "")
                    + f"; {result.duration_seconds:.1f}s",
                    style="green" if result.exit_code == EXIT_OK else "yellow")
        for failed in result.targets:
            if failed.exit_code not in (None, EXIT_OK) and failed.error:
                output.line(f"{failed.name}: {failed.error}", style="red")
    return result.exit_code


# Options of a fleet run, removed from the arguments each target's own run gets.
FLEET_OPTIONS_WITH_VALUE = ("--targets", "--tenant-schemas", "--canary", "--concurrency", "--on-failure", "--shard",
                            "--fleet-state", "--format")
FLEET_FLAGS = ("--resume",)


def _without_options(argv: list, with_value: tuple, flags: tuple) -> list:
    """``argv`` without the named options (``--opt VALUE``, ``--opt=VALUE``, flags)."""
    kept, skip = [], False
    for argument in argv:
        if skip:
            skip = False
            continue
        name = argument.split("=", 1)[0]
        if name in flags:
            continue
        if name in with_value:
            skip = "=" not in argument
            continue
        kept.append(argument)
    return kept


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
    def last_run(run):
        if run is None:
            return ""
        tries = f", {run['attempts']} attempts" if (run.get("attempts") or 0) > 1 else ""
        return f"{run['direction']} {run['outcome']} {run['at']} by {run['by']} ({run['duration_ms']} ms{tries})"

    if project.source.kind == "sql":
        output.table(f"History of {data['database']} ({project.sql_dir})",
                     ("version", "name", "state", "applied at", "ms", "checksum", "file", "last run"),
                     [(r["revision"], r["name"], "applied" if r["applied"] else "pending", r["applied_at"] or "",
                       "" if r["duration_ms"] is None else str(r["duration_ms"]), r["checksum"], r["file"],
                       last_run(r["last_run"]))
                      for r in data["revisions"]])
        return EXIT_OK
    rows = [(r["revision"] + (" (current)" if r["current"] else ""), r["down_revision"] or "base",
             "applied" if r["applied"] else "pending", r["message"], r["file"], last_run(r["last_run"]))
            for r in data["revisions"]]
    output.table(f"History of {data['database']}", ("revision", "down", "state", "message", "file", "last run"), rows)
    return EXIT_OK


def _status(project, args, output: Output) -> int:
    """Exit 0, or 2 when the revision scripts cannot be read: then which revisions are pending is
    unknown, and a script asking `status` must not take that for "none"."""
    data = commands.status(project)
    exit_code = EXIT_USAGE if data["problem"] else EXIT_OK
    if output.format == "json":
        output.json(data)
        return exit_code
    if "versions" in data:          # a SQL folder: its versions first, as the old runners listed them
        output.table("Versions", ("version", "name", "state", "applied at", "ms", "checksum"),
                     [(r["revision"], r["name"], "applied" if r["applied"] else "pending", r["applied_at"] or "",
                       "" if r["duration_ms"] is None else str(r["duration_ms"]), r["checksum"])
                      for r in data["versions"]])
    backup = data["last_backup"]
    rows = [("database", data["url"]), ("current", ", ".join(data["current"]) or "base"),
            ("heads", (", ".join(data["heads"]) or "none")
             + (" (several: pending counts towards all; upgrade with --revision heads or merge them)"
                if data["several_heads"] else "")),
            ("pending", "unknown: the revision scripts could not be read" if data["problem"]
             else str(len(data["pending"]))),
            ("last backup", f"{backup['file']} ({backup['age_hours']:.1f} h ago)" if backup else "none")]
    rows += [("DRIFT", f"{d['revision']}: {d['detail']}") for d in data["drift"]]
    rows += [("INTERRUPTED RUN", _describe_run(run)) for run in data["unfinished_runs"]]
    if data["run_in_progress"]:
        rows.append(("run in progress", data["run_in_progress"]))
    if data["problem"]:
        rows.append(("problem", data["problem"]))
    output.key_values("Status", rows)
    if data["pending"] and "versions" not in data:      # a SQL folder's table above shows them
        output.table("Pending", ("#", "revision", "message"),
                     [(i + 1, *_step_and_message(label)) for i, label in enumerate(data["pending"])])
    if data["needs_attention"]:
        output.line("NEEDS ATTENTION: the database may be partially migrated; `recover` restores the backup taken "
                    "before that run, `recover --accept` keeps it as it is", style="bold red")
    if data["problem"]:
        output.line("pending revisions unknown: the revision scripts could not be read (problem above)",
                    style="bold red")
    else:
        output.line("up to date" if data["up_to_date"] else f"{len(data['pending'])} revision(s) pending",
                    style="green" if data["up_to_date"] else "yellow")
    return exit_code


def _step_and_message(label: str) -> tuple:
    """("a -> b", "its message's first line") from a plan step's label."""
    step, _, message = label.partition(": ")
    return step, next(iter(message.strip().splitlines()), "")


def _describe_run(run: dict) -> str:
    return (f"{run['run_id'][:8]} {run['command']} from {', '.join(run['revision_before']) or 'base'} to "
            f"{run['target']}, started {run['started_at']} by {run['by']} ({run['state']}); "
            f"backup: {run['backup'] or 'none'}")


def render_validation(output: Output, report, *, blocking_only: bool = False) -> None:
    from .validation_report import render_report, report_document

    if output.format == "json":
        output.json(report_document(report))
    else:
        render_report(report, output.format, output.console, blocking_only=blocking_only)


def _validate(project, args, output: Output) -> int:
    if args.diff and not args.fix:
        from ..base.errors import ConfigurationError
        raise ConfigurationError("--diff goes with --fix")
    if args.fix:
        return _fix(project, args, output)
    report = commands.validate(project, args.migration_file, strict=args.strict, database=args.database)
    render_validation(output, report)
    if args.baseline:
        from ..validation import write_baseline

        count = write_baseline(report, args.baseline)
        # on stderr: stdout stays the report, parseable in every format
        output.err_stream.write(f"wrote {count} accepted finding(s) to {args.baseline}; name it in "
                                "[migration_safety.validate] baseline = ... so that later runs report only new ones\n")
        return EXIT_OK
    return report.exit_code(args.strict)


def _fix(project, args, output: Output) -> int:
    data = commands.fix(project, args.migration_file, write=not args.diff)
    report = data["report"]
    files = data["files"]
    if output.format == "json":
        output.json({"written": data["written"], "files": [
            {"file": f.path, "changed": f.changed, "error": f.error,
             "fixed": [{"line": line, "rule": rule} for line, rule in f.applied],
             "left": [finding.as_dict() for finding in f.left if finding.severity != "info"],
             **({"diff": f.diff()} if not data["written"] and f.changed else {})} for f in files],
            "findings_after": [finding.as_dict() for finding in report.findings] if data["written"] else None})
        return EXIT_OK if not data["written"] else report.exit_code(args.strict)
    for result in files:
        if result.error:
            output.err_stream.write(f"! {displayable(result.path)}: {result.error}; not touched\n")
        if not data["written"] and result.changed:
            output.stream.write(result.diff())
        for line, rule in result.applied:
            output.line(f"{'would fix' if not data['written'] else 'fixed'} {displayable(result.path)}:{line} {rule}",
                        style="green")
        for finding in result.left:
            if finding.severity != "info":
                output.line(f"left {displayable(result.path)}:{finding.line} {finding.rule}: no mechanical fix; "
                            f"do instead: {finding.do_instead}", style="yellow")
    if not data["written"]:
        return EXIT_OK
    render_validation(output, report)
    return report.exit_code(args.strict)


def _validate_info(args, output: Output) -> int:
    if args.explain:
        text = commands.explain_rule(args.explain)
        if output.format == "json":
            output.json({"rule": args.explain, "text": text})
        else:
            output.line(text)
        return EXIT_OK
    from ..validation import RULES

    rows = [(rule.id, rule.severity, rule.summary) for rule in sorted(RULES.values(), key=lambda r: r.id)]
    if output.format == "json":
        output.json({"rules": [{"id": i, "severity": s, "summary": m} for i, s, m in rows]})
    else:
        output.table("Rules", ("id", "severity", "summary"), rows)
    return EXIT_OK


def _create(project, args, output: Output) -> int:
    data = commands.create(project, args.message, autogenerate=args.autogenerate, safe=args.safe)
    report = data.pop("report", None)
    if output.format == "json":
        if report is not None:
            data["findings"] = [{"rule": f.rule, "severity": f.severity, "file": f.file, "line": f.line,
                                 "message": f.message} for f in report.findings]
        output.json(data)
    else:
        output.line(data["message"], style="green" if data["created"] else "yellow")
        if report is not None and report.findings:
            render_validation(output, report)
    return report.exit_code(False) if report is not None else EXIT_OK


def _backups(project, args, output: Output) -> int:
    from ..backup.catalog import human_bytes

    if args.action == "list":
        rows = commands.backups_list(project)
        if output.format == "json":
            output.json({"backups": rows})
        else:
            output.table(f"Backups in {project.safety.backup_dir}",
                         ("file", "created", "database", "revision", "size", "verified", "age", "scope", "origin"),
                         [(r["file"], r["created"], r["database"] or "?", ", ".join(r["revision"] or []) or "base",
                           human_bytes(r["size_bytes"]), "yes" if r["verified"] else _UNVERIFIED[r["signature"]],
                           f"{r['age_hours']:.1f} h", r["scope"], r["origin"] or "?") for r in rows])
        return EXIT_OK
    if args.action == "create":
        data = commands.backups_create(project, events=args.events)
        if output.format == "json":
            output.json(data)
        else:
            output.line(f"{data['backup']}: {human_bytes(data['size_bytes'])}, verified, "
                        f"{data['duration_seconds']:.1f}s", style="green")
        return EXIT_OK
    if args.action == "verify":
        verification = commands.backups_verify(project, args.backup)
        if output.format == "json":
            output.json({"backup": str(verification.archive), "ok": verification.ok,
                         "checks": [{"check": c, "passed": p, "detail": d} for c, p, d in verification.checks]})
        else:
            output.table(f"Verify {verification.archive.name}", ("check", "result", "detail"),
                         [(c, "ok" if p else "FAILED", d) for c, p, d in verification.checks])
            output.line("verified" if verification.ok else f"NOT usable: {verification.reason}",
                        style="green" if verification.ok else "red")
        return EXIT_OK if verification.ok else EXIT_FAILED
    pruned = commands.backups_prune(project, keep_days=args.keep_days, keep_last=args.keep_last,
                                    dry_run=args.dry_run)
    removed, kept = pruned["removed"], pruned["kept"]
    if output.format == "json":
        output.json({"dry_run": args.dry_run, "removed": removed, "kept_for_recover": kept})
    else:
        verb = "would remove" if args.dry_run else "removed"
        for row in removed:
            output.line(f"{verb} {row['file']} ({row['database']}, {row['created']})")
        for row in kept:
            output.line(f"kept {row['file']} ({row['database']}, {row['created']}): run {row['run_id'][:8]} was "
                        "interrupted and `recover` needs this backup", style="yellow")
        output.line(f"{len(removed)} backup(s) {'would be removed' if args.dry_run else 'removed'}")
    return EXIT_OK


# Why a listed backup is not verified, from its signature status (backups.catalog_integrity).
_UNVERIFIED = {"valid": "NO (archive changed)", "missing": "no (unsigned)", "invalid": "NO (forged MAC)",
               "no-key": "no (no key)"}


def _confirm_interactively(output: Output, yes: bool):
    import sys

    def confirm(database: str, backup: str = "") -> bool:
        if yes:
            return True
        if not sys.stdin.isatty():
            from ..base.errors import ConfigurationError
            raise ConfigurationError("restore needs confirmation: run it on a terminal or pass --yes")
        output.err_stream.write(f"This replaces the content of database {database!r}"
                                + (f" with this backup:\n{displayable(backup)}\n" if backup else ". ")
                                + "Type its name to confirm: ")
        output.err_stream.flush()
        return sys.stdin.readline().strip() == database
    return confirm


def _restore(project, args, output: Output) -> int:
    data = commands.restore(project, args.backup, target_db=args.target_db,
                            confirm=_confirm_interactively(output, args.yes), events=args.events,
                            trust_unsigned=args.trust_unsigned_backup, allow_other_server=args.allow_other_server)
    if output.format == "json":
        output.json(data)
    else:
        output.key_values("Restore", [(k, ", ".join(v) if isinstance(v, list) else v) for k, v in data.items()])
        output.line(f"{data['database']} restored from {data['backup']}; now at "
                    f"{', '.join(data['revision_now']) or 'base'}"
                    + ("" if data["schema_verified"] else f"; SCHEMA DIFFERS: {data['schema_difference']}"),
                    style="green" if data["schema_verified"] else "red")
    return EXIT_OK if data["schema_verified"] else EXIT_FAILED


def _recover(project, args, output: Output) -> int:
    data = commands.recover(project, accept=args.accept, confirm=_confirm_interactively(output, args.yes),
                            events=args.events)
    if output.format == "json":
        output.json(data)
    else:
        for run in data["runs"]:
            output.line(f"interrupted run: {_describe_run(run)}")
        output.line(data["message"], style="green" if data.get("schema_verified", True) else "red")
    return EXIT_OK if data.get("schema_verified", True) else EXIT_FAILED


def _health(project, args, output: Output) -> int:
    data = commands.health(project)
    if output.format == "json":
        output.json(data)
    else:
        output.table("Health", ("check", "status", "detail"),
                     [(c["check"], c["status"], c["detail"]) for c in data["checks"]])
        output.line("healthy" if data["healthy"] else "UNHEALTHY", style="green" if data["healthy"] else "red")
    return EXIT_OK if data["healthy"] else EXIT_FAILED


def _init(project, args, output: Output) -> int:
    data = commands.init(project)
    if output.format == "json":
        output.json(data)
    else:
        output.line(f"{data['table']} {'created' if data['created'] else 'already exists'} in {data['database']}")
    return EXIT_OK


def _info(project, args, output: Output) -> int:
    data = commands.info(project)
    if output.format == "json":
        output.json(data)
    else:
        output.key_values("Versions", list(data["versions"].items()))
        output.key_values("Settings", list(data["settings"].items()))
    return EXIT_OK


def _serve(project, args, output: Output) -> int:
    from ..service import serve

    return serve(project, args.host, args.port, err=output.err_stream)


def _hash_token(output: Output) -> int:
    """A token read from stdin (never argv: it would show in ps and shell history), hashed."""
    import sys

    from ..base.errors import ConfigurationError
    from ..service.auth import token_hash

    token = sys.stdin.readline().strip()
    if not token:
        raise ConfigurationError(f"no token on stdin: echo \"$TOKEN\" | {command_name()} serve --hash-token")
    if output.format == "json":
        output.json({"token_sha256": token_hash(token)})
    else:
        output.line(token_hash(token))
    return EXIT_OK


_HANDLERS = {"upgrade": _run, "downgrade": _run, "current": _current, "history": _history,
             "status": _status, "validate": _validate, "create": _create, "backups": _backups,
             "restore": _restore, "recover": _recover, "health": _health, "info": _info, "init": _init,
             "serve": _serve}
