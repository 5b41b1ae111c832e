"""An Alembic project as a source of migrations (the interface is in ``sources/__init__``): plan
from the revision files, run through Alembic's command API, watch which revision runs (revision_steps)."""
from __future__ import annotations

import io
import re
from pathlib import Path

from ..base.errors import ConfigurationError
from .revision_steps import watching_revisions


def _refuse_ambiguous_step_down(current: tuple, direction: str, target: str) -> None:
    """``-1`` from several heads: Alembic only warns ("this usage will be disallowed") and removes
    whichever head its walk meets first, which need not be the one the plan showed. The user names
    the head instead."""
    if direction != "downgrade" or len(current) < 2 or not re.fullmatch(r"-\d+", target.strip()):
        return
    heads = sorted(current)
    raise ConfigurationError(
        f"downgrade {target} is ambiguous: the database is at {len(heads)} heads ({', '.join(heads)}); "
        "nothing was changed",
        hint="name the head to step down from: " + " or ".join(f"--revision {head}@{target}" for head in heads)
             + ", or name the revision to go back to")


class AlembicSource:
    kind = "alembic"

    def __init__(self, project) -> None:
        self.project = project
        self._config = None
        self._version_table = None      # the project's setting until env.py has been probed

    @property
    def version_table(self):
        return self._version_table or self.project.version_table

    @property
    def config(self):
        if self._config is None:
            self._config = self.project.alembic_config(stdout=io.StringIO())
        return self._config

    def current(self, connection) -> tuple:
        from .alembic_runner import read_current_heads

        return read_current_heads(connection, self.version_table)

    def nothing_pending_by_the_files(self, current: tuple, direction: str, target: str) -> bool:
        """An upgrade to head(s) when the database is at the revision files' heads, read with
        ``ast`` (no Alembic import); anything less than certain goes the full way."""
        if direction != "upgrade" or target not in ("head", "heads") or not current:
            return False
        files = self.project.revision_files()
        below = {down for _, declared in files.values() for down in declared.downs}
        heads = {revision for revision in files if revision not in below}
        if target == "head" and len(heads) != 1:
            return False
        return heads == set(current)

    def probe(self, guard, connection=None) -> tuple:
        """env.py run once without migrating: the heads and version table Alembic really uses."""
        from .alembic_runner import probe_environment

        probe = probe_environment(self.config, guard)
        self._version_table = probe.version_table
        return probe.heads

    def plan(self, current: tuple, direction: str, target: str):
        """Alembic's plan from the revision files read, not imported: Alembic imports them when
        its command runs, while env.py runs, as it does itself (alembic_runner.load_script_directory)."""
        from .alembic_runner import load_script_directory, make_plan

        _refuse_ambiguous_step_down(current, direction, target)
        return make_plan(load_script_directory(self.config), current, direction, target)

    def check_runnable(self, plan) -> None:
        """A pending revision importing a module Python cannot find is a configuration error now,
        before the backup is kept, not a failed run later. Only after ``probe``: env.py often puts
        the application on ``sys.path`` itself."""
        from .alembic_runner import unresolvable_imports

        for path, module in unresolvable_imports(step.path for step in plan.steps):
            raise ConfigurationError(f"cannot import revision {Path(path).name}: ModuleNotFoundError: "
                                     f"No module named {module!r}",
                                     hint="a configuration problem of the project (what a revision file "
                                          "imports), not a failed migration; nothing was changed")

    def validate(self, plan, postgres_major: int):
        """Static checks of the pending revision files (upgrades only; None when nothing is pending)."""
        if plan.direction != "upgrade" or plan.is_empty:
            return None
        from ..validation import load_config, validate_paths

        config = load_config(self.project.ini_path)
        config.postgres_major = postgres_major
        return validate_paths([Path(step.path) for step in plan.steps], config)

    def watching(self):
        """Alembic's own step loop, not its log: env.py decides what the log says."""
        return watching_revisions()

    def run(self, plan, tracker, events, notes) -> None:
        """Alembic's command; tried again (``retry_attempts``) only after a transient failure when
        nothing was committed: no commit seen, no connection of the revision's own."""
        from .alembic_runner import run_command
        from .retry import with_retries

        safety = self.project.safety
        with_retries(lambda: run_command(self.config, plan.direction, plan.target),
                     label=f"{plan.direction} {plan.target}", attempts=1 + safety.retry_attempts,
                     delay_seconds=safety.retry_delay_seconds,
                     nothing_committed=lambda: not tracker.committed_anything and not tracker.side_pids,
                     events=events, notes=notes)

    def offline_sql(self, plan) -> str:
        from .alembic_runner import offline_sql

        return offline_sql(self.project.ini_path, self.project.database.sqlalchemy_url(), plan)

    def drift(self, connection) -> list:
        from .history import applied_checksums, find_drift

        return find_drift(self.current(connection),
                          applied_checksums(connection, self.project.safety.history_table),
                          self.project.revision_files())
