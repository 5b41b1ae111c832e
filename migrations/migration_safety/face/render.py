"""Output for people and machines: rich on a terminal, plain text otherwise, JSON on request.

Commands return data (dicts, dataclasses); only this module decides how it looks.
"""
from __future__ import annotations

import contextlib
import json
import sys
from dataclasses import asdict, is_dataclass
from typing import Iterable, Iterator, Optional, Sequence

from ..base.events import Events
from ..base.redaction import displayable, mask, mask_data

STATUS_STYLES = {"applied": "green", "up-to-date": "green", "dry-run": "cyan", "failed-rolled-back": "yellow",
                 "failed-restored": "yellow", "failed-restored-rows-aside": "red", "failed-not-restored": "red", "failed-restore-failed": "bold red",
                 "failed-rehearsal": "yellow", "applied-not-fully-protected": "bold red", "ok": "green", "fail": "red", "warn": "yellow", "error": "red",
                 "warning": "yellow", "info": "cyan"}


def json_text(payload, indent: Optional[int] = None) -> str:
    """A command's result as ``--format json`` prints it (the service answers the same text):
    dataclasses as objects, the password masked. json.dumps escapes control characters itself."""
    if is_dataclass(payload):
        payload = asdict(payload)
    return json.dumps(mask_data(payload), indent=indent, default=lambda value: mask(str(value)), sort_keys=False)


class Output:
    """One place that knows whether we talk to a terminal, a pipe or a JSON consumer."""

    def __init__(self, fmt: str = "text", stream=None, err_stream=None):
        self.format = fmt
        self.stream = stream or sys.stdout
        self.err_stream = err_stream or sys.stderr
        self.rich = fmt == "text" and self.stream.isatty()
        self._console = None
        self._err_console = None
        self.acting_on: Optional[dict] = None
        self.document_written = False      # --format json prints exactly one document per run

    def announce(self, acting_on: dict, *, on_stderr: bool = True) -> None:
        """Which config and database this run acts on, and where they came from: a line on
        stderr in text mode (unless the log level hides informational lines), an ``acting_on``
        field of the JSON document otherwise."""
        self.acting_on = acting_on
        if self.format == "text" and on_stderr:
            self.err_stream.write(
                f"config: {acting_on['config']} (found by {acting_on['config_found_by']})\n"
                f"database: {acting_on['server']}/{acting_on['database']} as {acting_on['user']} "
                f"(settings from {acting_on['settings_from']}; SQLAlchemy driver {acting_on['driver']}, "
                f"{acting_on['driver_from']})\n")

    @property
    def console(self):
        if self._console is None:
            from rich.console import Console
            self._console = Console(file=self.stream, force_terminal=self.rich or None,
                                    no_color=not self.rich, highlight=False, soft_wrap=not self.rich)
        return self._console

    @property
    def err_console(self):
        if self._err_console is None:
            from rich.console import Console
            self._err_console = Console(file=self.err_stream, highlight=False,
                                        no_color=not self.err_stream.isatty(), soft_wrap=True)
        return self._err_console

    # -- machine output -------------------------------------------------------------------------
    def json(self, payload) -> None:
        if is_dataclass(payload):
            payload = asdict(payload)
        if isinstance(payload, dict) and self.acting_on is not None:
            payload = {**payload, "acting_on": self.acting_on}
        self.stream.write(json_text(payload, indent=2) + "\n")
        self.document_written = True

    def failure(self, message: str, *, hint: Optional[str], exit_code: int, kind: str, **partial) -> None:
        """An outcome that ended in an error: the line on stderr, and with ``--format json`` the
        error document on stdout (docs/schemas/error.schema.json), with whatever partial result
        the error carries (e.g. ``validation``) -- unless the command already printed its document."""
        self.error(message, hint)
        if self.format == "json" and not self.document_written:
            self.json({"error": {"message": message, "hint": hint, "exit_code": exit_code, "kind": kind},
                       **partial})

    # -- human output ---------------------------------------------------------------------------
    def line(self, text: str = "", style: Optional[str] = None) -> None:
        text = displayable(text)
        if self.rich:
            self.console.print(text, style=style, markup=False)
        else:
            self.stream.write(text + "\n")

    def error(self, text: str, hint: Optional[str] = None) -> None:
        message = f"error: {text}"
        if hint:
            message += f" ({hint})"
        message = displayable(message)
        if self.err_stream.isatty():
            self.err_console.print(message, style="bold red", markup=False)
        else:
            self.err_stream.write(message + "\n")

    def table(self, title: Optional[str], columns: Sequence[str], rows: Iterable[Sequence], *,
              styles: Optional[dict] = None) -> None:
        rows = [[("" if cell is None else displayable(cell)) for cell in row] for row in rows]
        title = None if title is None else displayable(title)
        if self.rich:
            from rich.table import Table
            table = Table(title=title, title_justify="left", header_style="bold")
            for column in columns:
                table.add_column(column, overflow="fold")
            for row in rows:
                table.add_row(*row, style=(styles or {}).get(row[0]))
            self.console.print(table)
            return
        if title:
            self.stream.write(title + "\n")
        widths = [max([len(column)] + [len(row[i]) for row in rows]) for i, column in enumerate(columns)]
        self.stream.write("  ".join(c.ljust(w) for c, w in zip(columns, widths)).rstrip() + "\n")
        for row in rows:
            self.stream.write("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() + "\n")

    def key_values(self, title: Optional[str], pairs: Sequence[tuple]) -> None:
        self.table(title, ("item", "value"), pairs)

    def events(self) -> Events:
        return _RichEvents(self) if self.rich else _PlainEvents(self)


class _PlainEvents(Events):
    """Progress as plain lines; to stderr so stdout stays parseable in JSON mode."""

    def __init__(self, output: Output):
        self.output = output

    def step(self, text: str) -> None:
        self.output.err_stream.write(f"- {displayable(text)}\n")
        self.output.err_stream.flush()

    def warn(self, text: str) -> None:
        self.output.err_stream.write(f"! {displayable(text)}\n")
        self.output.err_stream.flush()


def _markup_literal(text: str) -> str:
    """Displayable text inside rich markup, its own square brackets taken literally."""
    from rich.markup import escape

    return escape(displayable(text))


class _RichEvents(Events):
    def __init__(self, output: Output):
        self.output = output

    def step(self, text: str) -> None:
        self.output.console.print(f"[dim]•[/dim] {_markup_literal(text)}", highlight=False)

    def warn(self, text: str) -> None:
        self.output.console.print(f"[yellow]![/yellow] {_markup_literal(text)}", highlight=False)

    @contextlib.contextmanager
    def progress(self, label: str, total: Optional[int]) -> Iterator:
        from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn

        with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeElapsedColumn(),
                      console=self.output.console, transient=True) as progress:
            task = progress.add_task(label, total=total or None)

            def update(done: int, new_total: Optional[int] = None) -> None:
                known = new_total or total or None
                if known and done > known:        # an estimate fell short: full, never beyond
                    known = done
                progress.update(task, completed=done, total=known)

            yield update


# What a dry run's SQL is, for each source (sources.AlembicSource / SqlFolderSource.offline_sql)
_SQL_HEADINGS = {"alembic": "-- SQL Alembic would run (offline mode):",
                 "sql": "-- SQL the wrapper would run, file by file (each in its own transaction unless headed "
                        "no-transaction, with its schema_migrations row):"}


# Up to this many revisions or findings are listed one per row; more are summed up (--verbose lists all)
LISTED_AT_MOST = 10


def render_run_result(output: Output, result, *, verbose: bool = False) -> None:
    """The result for people: a summary a long run does not drown (the revisions and the info
    findings counted, the findings that can block listed); ``verbose`` lists everything, as the
    JSON document always does."""
    if output.format == "json":
        output.json(result)
        return
    if result.steps:
        title = "Plan" if result.status in ("dry-run", "up-to-date") else f"{result.command.capitalize()} steps"
        if verbose or len(result.steps) <= LISTED_AT_MOST:
            output.table(title, ("#", "revision"), [(i + 1, label) for i, label in enumerate(result.steps)])
        else:
            output.line(f"{title}: {len(result.steps)} revisions, from {result.steps[0]} to {result.steps[-1]} "
                        "(--verbose lists each; `history` shows each one's time)")
    _render_findings(output, result.findings, verbose)
    if result.accepted:
        output.table("Accepted in config (not blocking)", ("rule", "where", "reason"),
                     [(f["rule"], f"{f['file']}:{f['line']}", f["reason"]) for f in result.accepted])
    if result.rehearsal:
        _render_rehearsal(output, result.rehearsal)
    if result.sql:
        output.line(_SQL_HEADINGS.get(result.source, _SQL_HEADINGS["alembic"]))
        if output.rich:
            from rich.syntax import Syntax
            output.console.print(Syntax(displayable(result.sql), "sql", word_wrap=True))
        else:
            output.line(result.sql.rstrip())
    for note in result.notes:
        output.line(f"note: {note}")
    rows = [("outcome", result.status), ("database", result.database),
            ("revision before", ", ".join(result.revision_before) or "base"),
            ("revision now", ", ".join(result.revision_after) or "base")]
    if result.backup:
        rows.append(("backup", result.backup))
    if result.error:
        rows.append(("error", result.error))
    if result.steps:
        done = "applied" if result.status == "applied" and result.command == "upgrade" else \
            "removed" if result.status == "applied" else "planned"
        rows.append(("revisions", f"{len(result.steps)} {done}"))
    timings = [f"{name} {value:.2f}s" for name, value in (("backup", result.backup_seconds),
               ("migrate", result.migrate_seconds), ("restore", result.restore_seconds)) if value is not None]
    rows.append(("time", f"{result.duration_seconds:.2f}s total" + (f" ({', '.join(timings)})" if timings else "")))
    output.key_values("Result", rows)
    output.line(result.message, style=STATUS_STYLES.get(result.status))


def _render_findings(output: Output, findings: list, verbose: bool) -> None:
    shown = findings if verbose else [f for f in findings if f["severity"] != "info"]
    hidden = len(findings) - len(shown)
    if not verbose and len(shown) > LISTED_AT_MOST:
        hidden += len(shown) - LISTED_AT_MOST
        shown = sorted(shown, key=lambda f: f["severity"] != "error")[:LISTED_AT_MOST]
    if shown:
        output.table("Validation", ("severity", "rule", "where", "message"),
                     [(f["severity"], f["rule"], f"{f['file']}:{f['line']}", f["message"]) for f in shown])
    if hidden:
        counts = {severity: sum(1 for f in findings if f["severity"] == severity)
                  for severity in ("error", "warning", "info")}
        output.line(f"validation: {', '.join(f'{n} {severity}' for severity, n in counts.items() if n)}; "
                    f"{hidden} not shown (--verbose, --format json or `validate` list them)")


def _render_rehearsal(output: Output, rehearsal: dict) -> None:
    """Per revision: its duration, whether it failed, and each table's strongest lock and how long it
    was held, next to the validator's estimate for that table (rehearsal.RehearsalReport)."""
    rows = []
    for revision in rehearsal["revisions"]:
        outcome = f"FAILED: {revision['error']}" if revision["failed"] else "ok"
        locks = revision["locks"] or [None]
        for lock in locks:
            estimate = ""
            if lock and lock["estimates"]:
                estimate = ", ".join(f"{e['rule']}" + (f" ~{e['estimate_seconds']:g}s" if e["estimate_seconds"]
                                                      is not None else "") for e in lock["estimates"])
            rows.append((revision["revision"], f"{revision['duration_ms']} ms", outcome,
                         lock["table"] if lock else "", lock["mode"] if lock else "",
                         f"{lock['held_ms']} ms" if lock else "", estimate or ("not flagged" if lock else "")))
    how = f"{rehearsal['method']}d in {rehearsal['prepare_seconds']:.2f}s" if rehearsal["prepare_seconds"] \
        is not None else "not prepared"
    output.table(f"Rehearsal on {rehearsal['database']} ({how}; the migration's locks read after each "
                 f"statement, other sessions' sampled every {rehearsal['sample_interval_ms']} ms)",
                 ("revision", "took", "outcome", "table", "strongest lock", "held", "validator's estimate"), rows)
    verdict = "passed" if rehearsal["passed"] else f"failed: {rehearsal['error']}"
    output.line(f"rehearsal {verdict}; the rehearsal database was "
                + ("dropped" if rehearsal["dropped"] else "NOT dropped (see the notes)"))
