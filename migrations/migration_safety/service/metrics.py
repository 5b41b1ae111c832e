"""``GET /metrics``: Prometheus' text format, computed at each scrape from the same sources the
commands read (the run records, the backup catalog, status, the run journal), so a restart of
the service loses nothing and CLI runs count too."""
from __future__ import annotations

import datetime as _dt
from contextlib import closing

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from .. import commands
from ..postgres.tools import connect, query_one
from ..run import journal as run_journal
from ..run.lock import LOCK_NAMESPACE
from ..sources.history import read_runs, runs_by_outcome
from .runs import RunRegistry

PREFIX = "migration_safety"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _interrupted_run_pending(connection) -> bool:
    """An unfinished journal entry left by a run that is not running now (nobody holds the
    migration lock) or that ended needing attention: migrations stop until a person recovers."""
    entries = run_journal.unfinished(connection)
    if any(entry.state != run_journal.RUNNING for entry in entries):
        return True
    if not entries:
        return False
    held = query_one(connection, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = %s"
                                 " AND objid = hashtext(current_database())::oid AND granted", (LOCK_NAMESPACE,))[0]
    return not held


class _Collector:
    def __init__(self, project, runs: RunRegistry) -> None:
        self.project, self.runs = project, runs

    def collect(self):
        project = self.project
        database = project.database.database
        labels = ["database"]
        with closing(connect(project.database)) as connection:
            counts = runs_by_outcome(connection, project.safety.history_table)
            latest = read_runs(connection, project.safety.history_table, limit=1)
            interrupted = _interrupted_run_pending(connection)
        runs = CounterMetricFamily(f"{PREFIX}_runs", "Recorded runs by outcome", labels=labels + ["outcome"])
        for outcome, count in sorted(counts.items()):
            runs.add_metric([database, outcome], count)
        yield runs

        last = self.runs.last_finished()
        durations = dict(last.durations) if last else {}
        if "total" not in durations and latest:
            durations["total"] = latest[0]["duration_ms"] / 1000
        for part, help_text in (("total", "Duration of the last run"),
                                ("backup", "Duration of the last run's backup"),
                                ("restore", "Duration of the last run's restore")):
            name = f"{PREFIX}_last_run_duration_seconds" if part == "total" else \
                f"{PREFIX}_last_run_{part}_duration_seconds"
            gauge = GaugeMetricFamily(name, help_text + " (absent when it had none)", labels=labels)
            if durations.get(part) is not None:
                gauge.add_metric([database], durations[part])
            yield gauge

        status = commands.status(project)
        yield _gauge(f"{PREFIX}_pending_revisions", "Revisions not yet applied (towards every head)", database,
                     len(status["pending"]))
        yield _gauge(f"{PREFIX}_drift", "Applied revisions whose file changed or is missing", database,
                     len(status["drift"]))
        yield _gauge(f"{PREFIX}_interrupted_run_pending",
                     "1 when an interrupted run (or one needing attention) blocks migrations", database,
                     int(interrupted))

        verified = [row for row in commands.backups_list(project) if row["verified"] and row["database"] == database]
        age = GaugeMetricFamily(f"{PREFIX}_last_verified_backup_age_seconds",
                                "Seconds since the newest verified backup of the database (absent: none)",
                                labels=labels)
        if verified:
            created = _dt.datetime.fromisoformat(verified[0]["created"])
            age.add_metric([database], (_dt.datetime.now(_dt.timezone.utc) - created).total_seconds())
        yield age
        yield _gauge(f"{PREFIX}_run_in_progress", "1 while the service runs a migration or backup", database,
                     int(bool(self.runs.running())))


def _gauge(name: str, help_text: str, database: str, value: float) -> GaugeMetricFamily:
    gauge = GaugeMetricFamily(name, help_text, labels=["database"])
    gauge.add_metric([database], value)
    return gauge


def metrics_text(project, runs: RunRegistry) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector(project, runs))
    return generate_latest(registry)
