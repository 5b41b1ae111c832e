"""Safe Alembic migrations for PostgreSQL: backup, validate, migrate, restore on failure.

    migration-safety [--config INI] [--format text|json] COMMAND [options]
    python migrations/migration_utils.py ...     (the same, from this repository's checkout)

Exit codes: 0 success; 1 the operation failed (database restored or untouched, the message
says which); 2 usage or configuration error; 3 validation found errors; 4 the database may be
partially migrated and needs attention (see `status`, then `recover`).
"""
from __future__ import annotations

import argparse
import os
import sys

from ..base.errors import EXIT_FAILED, EXIT_USAGE, MigrationSafetyError


class UsageError(Exception):
    """A command line argparse refuses: raised instead of argparse's exit so that ``--format
    json`` still gets its error document."""

    def __init__(self, message: str, usage: str):
        super().__init__(message)
        self.usage = usage


class _Parser(argparse.ArgumentParser):
    """Options are spelled in full: an abbreviation accepted today (``--conc``) can mean another
    option once one is added, and a fleet hands each target's run its command line without the
    fleet's options, found by name (an abbreviated ``--targets`` reached every target, each
    starting the whole fleet again)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message):
        raise UsageError(message, self.format_usage())


def _format_requested(argv) -> str:
    """--format as the user wrote it, read before argparse accepted the rest of the line."""
    for index, word in enumerate(argv):
        if word == "--format" and index + 1 < len(argv):
            return argv[index + 1]
        if word.startswith("--format="):
            return word.split("=", 1)[1]
    return "text"


def _global_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument("-c", "--config", default=default, metavar="INI",
                        help="alembic.ini (or pyproject.toml) of the project (default: $ALEMBIC_CONFIG, else "
                             "alembic.ini or pyproject.toml [tool.alembic] in the current directory)")
    parser.add_argument("--sql-dir", default=default, metavar="DIR",
                        help="drive a folder of plain-SQL migrations (NNN_name_UP.sql/_DOWN.sql, N_name.up.sql, "
                             "NNN_name.sql) instead of the Alembic project (setting: MIGRATION_SQL_DIR)")
    parser.add_argument("-x", dest="x_arguments", action="append", default=default if suppress else [],
                        metavar="KEY=VALUE", help="passed to env.py as Alembic's -x (context.get_x_argument); "
                                                  "repeatable")
    parser.add_argument("--format", choices=("text", "json", "annotations"),
                        default=default if suppress else "text",
                        help="text (rich on a terminal, plain otherwise), json, or annotations (validate)")


def _fleet_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("fleet (the same command over many databases or tenant schemas; "
                                      "see docs/fleets.md)")
    group.add_argument("--targets", metavar="FILE",
                       help="YAML list of databases (url or host/port/database/user, password_env)")
    group.add_argument("--tenant-schemas", metavar="LIST_OR_QUERY",
                       help="tenant schemas of this database, comma-separated or a SELECT listing them; each "
                            "runs with -x tenant=NAME")
    group.add_argument("--canary", type=int, default=0, metavar="N", help="run N targets first; stop if any fails")
    group.add_argument("--concurrency", type=int, default=1, metavar="K", help="at most K targets at once (default 1)")
    group.add_argument("--on-failure", choices=("stop", "continue"), default="stop",
                       help="after a failed target: start no new one (stop, default) or go on (continue)")
    group.add_argument("--resume", action="store_true",
                       help="skip the targets the state file records as done by the same command")
    group.add_argument("--shard", metavar="INDEX/COUNT",
                       help="only this shard of the targets (0-based; COUNT alone takes INDEX from "
                            "JOB_COMPLETION_INDEX, a Kubernetes Indexed Job)")
    group.add_argument("--fleet-state", metavar="FILE",
                       help="where each target's outcome is kept for --resume (default: fleet-state.json in the "
                            "backup directory)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(   # prog: migration_utils.py or migration-safety, as the user started it
        description=__doc__.split("\n\n")[0],
        epilog="Exit codes: 0 success, 1 operation failed (database restored or untouched), "
               "2 usage/configuration error, 3 validation errors, 4 the database needs attention "
               "(partially migrated: see status, then recover).")
    _global_options(parser, suppress=False)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        _global_options(sub, suppress=True)   # global options are accepted after the command too
        return sub

    for name, help_text in (("upgrade", "upgrade the database behind a verified backup"),
                            ("downgrade", "downgrade the database behind a verified backup")):
        sub = command(name, help_text)
        sub.add_argument("-r", "--revision",
                         help="target revision (upgrade: default head; downgrade: an id, prefix, -1, "
                              "label@-1 or base)")
        sub.add_argument("target", nargs="?", metavar="REVISION",
                         help="the target revision, as Alembic's own CLI takes it (`downgrade -1`); "
                              "the same as --revision")
        sub.add_argument("-v", "--verbose", action="store_true",
                         help="list every revision the run applied or removed (the summary is the default)")
        sub.add_argument("--dry-run", action="store_true",
                         help="print the plan, validation and SQL; change nothing, write no backup")
        sub.add_argument("--no-backup", action="store_true",
                         help="skip the backup (a failure that committed something cannot be restored)")
        sub.add_argument("--lock-wait", type=float, metavar="SECONDS",
                         help="wait this long for another run's migration lock (default 0: fail at once)")
        rehearsal = sub.add_mutually_exclusive_group()
        rehearsal.add_argument("--rehearse", action="store_true", default=None,
                               help="run the plan on a scratch copy first; go on only if it passed (with "
                                    "--dry-run: rehearse, then stop)")
        rehearsal.add_argument("--no-rehearse", dest="rehearse", action="store_false",
                               help="skip the rehearsal the rehearse setting asks for, this once")
        if name == "upgrade":
            sub.add_argument("--allow-unsafe", action="store_true",
                             help="proceed although validation found errors (recorded in the result)")
        _fleet_options(sub)

    command("current", "show the revision the database is at")
    command("history", "list revisions, applied or pending")
    _fleet_options(command("status", "current revision, heads, pending revisions and the last backup"))

    sub = command("validate", "static checks of revision files (no database needed)")
    sub.add_argument("-f", "--migration-file", action="append", default=[], metavar="F",
                     help="a revision file (path, or a file name inside versions/); repeatable. "
                          "Without it: every revision plus the graph checks")
    sub.add_argument("--strict", action="store_true", help="warnings count as errors for the exit code")
    sub.add_argument("--database", action="store_true",
                     help="also judge the pending revisions' findings against the live database (rows, size, "
                          "column types), as upgrade does; without it validate never connects")
    sub.add_argument("--fix", action="store_true",
                     help="rewrite the revisions' hazards into their safe form where it is mechanical (in place)")
    sub.add_argument("--diff", action="store_true", help="with --fix: print the changes as a unified diff, write nothing")
    sub.add_argument("--explain", metavar="RULE", help="print a rule's full text and exit")
    sub.add_argument("--list-rules", action="store_true", help="list every rule and exit")
    _fleet_options(sub)
    sub.add_argument("--baseline", metavar="FILE",
                     help="write today's findings to FILE as accepted ones (exit 0); name FILE in "
                          "[migration_safety.validate] baseline = so later runs block only on new findings")
    sub = command("create", "write a new revision (validated as soon as it is written)")
    sub.add_argument("-m", "--message", required=True, help="what the revision does")
    sub.add_argument("--autogenerate", action="store_true",
                     help="compare the database with the models; no revision when nothing changed")
    sub.add_argument("--safe", action="store_true",
                     help="write the revision in its safe form (the fixes of validate --fix)")

    backups = command("backups", "the backup catalog: list, verify, prune")
    actions = backups.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    for name, help_text in (("list", "every backup, newest first"),
                            ("verify", "the sidecar's MAC, SHA-256 against the sidecar, and pg_restore --list"),
                            ("create", "take a verified backup now (under the migration lock)"),
                            ("prune", "remove backups beyond retention (never the newest of a database)")):
        action = actions.add_parser(name, help=help_text, description=help_text)
        _global_options(action, suppress=True)
        if name == "verify":
            action.add_argument("backup", nargs="?", default="latest", help="FILE or latest (default)")
        if name == "list":
            _fleet_options(action)
        if name == "prune":
            action.add_argument("--keep-days", type=int, metavar="N", help="keep backups newer than N days")
            action.add_argument("--keep-last", type=int, metavar="N", help="keep the newest N per database")
            action.add_argument("--dry-run", action="store_true", help="show what would be removed")

    sub = command("restore", "restore a backup (after backing up the current state)")
    sub.add_argument("--backup", default="latest", help="FILE or latest (default)")
    sub.add_argument("--target-db", metavar="NAME", help="restore into this new database instead")
    sub.add_argument("--yes", action="store_true", help="do not ask for confirmation (for scripts)")
    sub.add_argument("--trust-unsigned-backup", action="store_true",
                     help="accept a backup whose sidecar MAC does not verify (only for a backup of known origin)")
    sub.add_argument("--allow-other-server", action="store_true",
                     help="accept a backup taken on another server or of another database (e.g. staging)")

    sub = command("recover", "settle an interrupted run: restore the backup taken before it, or --accept")
    sub.add_argument("--accept", action="store_true",
                     help="keep the database as the interrupted run left it (after checking it)")
    sub.add_argument("--yes", action="store_true", help="do not ask for confirmation (for scripts)")

    command("health", "checks for monitoring; exit 1 when one fails")
    sub = command("serve", "the REST API, dashboard and /metrics over HTTP (README: Service mode)")
    sub.add_argument("--host", default="127.0.0.1",
                     help="address to bind (default 127.0.0.1; any other prints a TLS warning)")
    sub.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    sub.add_argument("--hash-token", action="store_true",
                     help="read a token from stdin and print its SHA-256 for the tokens file; do not serve")
    command("info", "versions and effective settings (password masked)")
    command("init", "create the schema_migrations table of a SQL folder (--sql-dir)")
    return parser


def main(argv=None) -> int:
    from ..base.redaction import MaskingStream
    from .render import Output

    if not isinstance(sys.stdout, MaskingStream):     # whatever writes there: a revision's print too
        sys.stdout, sys.stderr = MaskingStream(sys.stdout), MaskingStream(sys.stderr)
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        args.argv = argv          # a fleet gives each target these, less the fleet's own options
    except UsageError as exc:
        output = Output("json" if _format_requested(argv) == "json" else "text")
        output.err_stream.write(exc.usage)
        output.failure(str(exc), hint="see --help", exit_code=EXIT_USAGE, kind="usage")
        return EXIT_USAGE
    try:
        _one_target(args, parser)
    except UsageError as exc:
        output = Output("json" if args.format == "json" else "text")
        output.err_stream.write(exc.usage)
        output.failure(str(exc), hint="see --help", exit_code=EXIT_USAGE, kind="usage")
        return EXIT_USAGE
    from .dispatch import dispatch

    output = Output(args.format)
    try:
        return dispatch(args, output)
    except MigrationSafetyError as exc:
        # Every error ends with exactly one JSON document under --format json: the error and
        # what it carries (a validation stop: the report that stopped it).
        report = getattr(exc, "report", None)
        partial = {}
        if report is not None and output.format == "json":
            from .validation_report import report_document
            partial["validation"] = report_document(report)
        output.failure(str(exc), hint=exc.hint, exit_code=exc.exit_code, kind=type(exc).__name__, **partial)
        if report is not None and output.format != "json":
            from .dispatch import render_validation
            # the findings that stopped the run; every info note of a long chain buried them
            render_validation(output, report, blocking_only=not getattr(args, "verbose", False))
        return exc.exit_code
    except KeyboardInterrupt:
        output.failure("interrupted; nothing was changed", hint=None, exit_code=EXIT_FAILED, kind="interrupted")
        return EXIT_FAILED
    except BrokenPipeError:
        return EXIT_FAILED
    except Exception as exc:  # a bug of ours: one line, the traceback only on request
        if os.environ.get("MIGRATION_DEBUG"):
            raise
        from ..base.redaction import mask  # before the cut, which could leave half a password
        output.failure(f"internal error: {type(exc).__name__}: {' '.join(mask(str(exc)).split())[:300]}",
                       hint="set MIGRATION_DEBUG=1 for the traceback", exit_code=EXIT_FAILED, kind="internal")
        return EXIT_FAILED


def _one_target(args, parser) -> None:
    """upgrade/downgrade name their target once: ``--revision``, or in Alembic's own way as a
    positional (``downgrade -1``); upgrade defaults to head, downgrade has no default."""
    if args.command not in ("upgrade", "downgrade"):
        return
    if args.target is not None and args.revision is not None and args.target != args.revision:
        raise UsageError(f"two targets given: {args.revision} (--revision) and {args.target}; give one",
                         parser.format_usage())
    args.revision = args.revision or args.target or ("head" if args.command == "upgrade" else None)
    if args.revision is None:
        raise UsageError("downgrade needs a target: --revision REV (an id, -1, label@-1 or base), "
                         "or as Alembic takes it, `downgrade -1`",
                         parser.format_usage())


def exit_now(code: int) -> None:
    """Leave without tearing down the interpreter: after Alembic and SQLAlchemy are loaded that
    teardown costs about 0.2 s of pure CPU and does nothing for us (every file we wrote is
    already closed and fsynced, every connection closed)."""
    import logging

    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):
            pass
    os._exit(code)


# Collect the youngest generation every 20,000 net allocations instead of 700: a run imports
# about 600 modules (Alembic, SQLAlchemy, the validator) while pg_dump competes for the same
# cores, and at the default threshold the collector spends 0.05 s of CPU re-scanning objects
# that live for the whole run. 20,000 young objects are a few megabytes at most.
GC_THRESHOLDS = (20_000, 20, 20)


def run() -> None:
    """The ``migration-safety`` command (pyproject.toml's console script) and migration_utils.py."""
    import gc

    gc.set_threshold(*GC_THRESHOLDS)
    exit_now(main())
