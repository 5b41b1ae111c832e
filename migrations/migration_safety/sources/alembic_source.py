"""An Alembic project as a source of migrations (the interface is in ``sources/__init__``): plan
from the revision files, run through Alembic's command API, watch which revision runs (revision_steps)."""
from __future__ import annotations

import io
import re
from functools import cached_property
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
        self._probe = None              # alembic_runner.EnvironmentProbe, once env.py has run

    @cached_property
    def env_file(self):
        """What env.py says, read without running it (migration_files.env_file.EnvFile)."""
        from ..migration_files.env_file import read_env_file

        return read_env_file(self.project.script_location / "env.py")

    @property
    def plan_from_env_py(self) -> bool:
        """env.py decides where the revisions are: the plan is learned by running it."""
        return self.env_file.decides_plan is not None

    def learn_from_env_py(self, guard=None, *, offline: bool = False):
        """Run env.py as ``alembic current`` does (``offline``: its ``--sql`` branch, no
        connection); what it set is kept for planning. A failure is a ConfigurationError: a plan
        that cannot be learned is never taken for "nothing to do"."""
        from .alembic_runner import probe_environment

        purpose = f"cannot learn the plan from env.py ({self.env_file.decides_plan})" \
            if self.plan_from_env_py else "env.py could not run"
        config = self.project.alembic_config(stdout=io.StringIO()) if offline else self.config
        probe = probe_environment(config, guard, purpose=purpose, offline=offline)
        if not offline:
            self._version_table = probe.version_table
        self._probe = probe
        return probe

    @property
    def transaction_mode(self) -> str:
        """'autocommit', 'per-migration' or 'single': what the probe saw env.py configure when it
        ran, else what env.py says read with ast (migration_files.env_file)."""
        read = self.env_file.transaction_mode
        probe = self._probe
        if probe is None or probe.identity is None:       # not run, or run offline
            return read
        if probe.autocommit:
            return "autocommit"
        return "per-migration" if probe.transaction_per_migration else "single"

    @property
    def lock_timeout_override(self):
        """The lock_timeout env.py sets for the revisions itself, when the probe saw one (else None)."""
        return getattr(self._probe, "lock_timeout_override", None)

    def _env_script(self):
        """The ScriptDirectory env.py left, when env.py decides the plan (running it once)."""
        if not self.plan_from_env_py:
            return None
        return (self._probe or self.learn_from_env_py()).script

    def planning_script(self):
        """Alembic's ScriptDirectory with every revision Alembic would load, read, not imported."""
        from .alembic_runner import load_script_directory

        return load_script_directory(self.config, self._env_script())

    def revision_paths(self) -> list:
        """Every revision file Alembic would load, for ``validate``: where env.py puts them when it
        decides (env.py run offline, connecting to nothing; online when its offline branch fails)."""
        from ..base.errors import ConfigurationError
        from .alembic_runner import revision_file_paths

        if not self.plan_from_env_py:
            return sorted(p for p in self.project.versions_dir.glob("*.py") if not p.name.startswith("__"))
        if self._probe is None:
            try:
                self.learn_from_env_py(offline=True)
            except ConfigurationError:
                self.learn_from_env_py()
        return revision_file_paths(self._probe.script)

    def revision_files(self) -> dict:
        """revision id -> (file, Declared), as Project.revision_files reads them, from every
        folder Alembic would load (env.py's when it decides)."""
        if not self.plan_from_env_py:
            return self.project.revision_files()
        script = self._env_script()
        return self.project.revision_files([Path(location) for location in script._version_locations])

    @property
    def version_table(self):
        if self._version_table is None and self.plan_from_env_py:
            self.learn_from_env_py()        # env.py may set the table where reading cannot see it
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
        if direction != "upgrade" or target not in ("head", "heads") or not current or self.plan_from_env_py:
            return False
        files = self.project.revision_files()
        below = {down for _, declared in files.values() for down in declared.downs}
        heads = {revision for revision in files if revision not in below}
        if target == "head" and len(heads) != 1:
            return False
        return heads == set(current)

    def probe(self, guard, connection=None) -> tuple:
        """env.py run once without migrating: the heads and version table Alembic really uses."""
        return self.learn_from_env_py(guard).heads

    def plan(self, current: tuple, direction: str, target: str):
        """Alembic's plan from the revision files read, not imported: Alembic imports them when
        its command runs, while env.py runs, as it does itself (alembic_runner.load_script_directory)."""
        from .alembic_runner import make_plan

        _refuse_ambiguous_step_down(current, direction, target)
        return make_plan(self.planning_script(), current, direction, target)

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
        config.lock_timeout = self.project.safety.lock_timeout
        config.module_paths = self.project.module_paths
        config.transaction_mode = self.transaction_mode
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

        return offline_sql(self.project.ini_path, self.project.database.sqlalchemy_url(), plan,
                           env_decides_plan=self.plan_from_env_py, x_arguments=self.project.x_arguments)

    def drift(self, connection) -> list:
        from .history import applied_checksums, find_drift

        return find_drift(self.current(connection),
                          applied_checksums(connection, self.project.safety.history_table),
                          self.revision_files())
