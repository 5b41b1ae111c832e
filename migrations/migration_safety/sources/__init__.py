"""Where a run's migrations come from: the one interface the run pipeline (orchestration) drives,
with two sources — an Alembic project, or a folder of plain-SQL files (``--sql-dir``). The
safety around them (lock, backup, journal, failure path, restore, record) exists once.

A source answers:
    current(connection) -> tuple        what the database is at (read-only)
    nothing_pending_by_the_files(current, direction, target) -> bool
                                        an up-to-date database recognised without the lock
    probe(guard) -> tuple               checks the source can run against the guarded database,
                                        before the backup; returns the current state as it sees it
    plan(current, direction, target) -> alembic_runner.Plan
    check_runnable(plan)                after probe: what would stop the plan before its first step
                                        (a revision importing a missing module) as a ConfigurationError
    validate(plan, postgres_major) -> ValidationReport | None
    watching() -> context yielding a StepTimes: ``last`` names the step that ran last,
                                        ``durations_ms(end)`` each step's own duration,
                                        ``attempts()`` how many times each step started
    run(plan, tracker, events, notes)   runs the plan; tells ``tracker`` (CommitTracker) of
                                        every commit and every connection it opens
    offline_sql(plan) -> str            the SQL the plan would run, for --dry-run
    drift(connection) -> [history.Drift]
"""
from __future__ import annotations


def source_for(project):
    """The project's source: a SQL folder when ``--sql-dir`` or the ``sql_dir`` setting names one."""
    if project.sql_dir is not None:
        from .sql_folder import SqlFolderSource

        return SqlFolderSource(project)
    from .alembic_source import AlembicSource

    return AlembicSource(project)
