"""What a project's env.py says about the plan and the transactions, read with ``ast`` (never
run). Reading can vouch only for an env.py that leaves the plan to alembic.ini; one that sets
the version locations or the script directory itself, or hands the work to
code elsewhere, must be run (the way ``alembic current`` runs it) to learn what Alembic would do.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

# Names by which an env.py changes where Alembic finds revisions or records the current one.
# (A version table env.py names is learned by running it whenever env.py mentions it: Project.version_table.)
_PLAN_NAMES = {"version_locations", "script_location", "sourceless", "recursive_version_locations",
               "ScriptDirectory"}


@dataclass(frozen=True)
class EnvFile:
    """``decides_plan``: why reading cannot vouch for the plan (None when it can).
    ``autocommit``: env.py puts the migration connection in AUTOCOMMIT (each statement commits).
    ``transaction_per_migration``: each revision commits on its own."""
    decides_plan: Optional[str] = None
    autocommit: bool = False
    transaction_per_migration: bool = False

    @property
    def transaction_mode(self) -> str:
        """'autocommit', 'per-migration' or 'single' (Alembic's default: the whole run in one)."""
        if self.autocommit:
            return "autocommit"
        return "per-migration" if self.transaction_per_migration else "single"


def _is_true(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def _is_autocommit(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.upper() == "AUTOCOMMIT"


def read_env_file(path: Path) -> EnvFile:
    """What env.py at ``path`` says; an env.py that cannot be parsed cannot vouch for anything."""
    try:
        tree = ast.parse(Path(path).read_bytes(), filename=str(path))
    except (OSError, SyntaxError, ValueError) as exc:
        return EnvFile(decides_plan=f"env.py cannot be read ({type(exc).__name__})")
    mentioned, calls_configure = set(), False
    autocommit = per_migration = False
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            mentioned.add(node.attr)
            if node.attr == "script" and isinstance(node.value, ast.Name) and node.value.id == "context":
                mentioned.add("context.script")
        elif isinstance(node, ast.Name):
            mentioned.add(node.id)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            mentioned.add(node.value)
        elif isinstance(node, ast.keyword) and node.arg:
            mentioned.add(node.arg)
            if node.arg == "isolation_level" and _is_autocommit(node.value):
                autocommit = True
            elif node.arg == "transaction_per_migration" and _is_true(node.value):
                per_migration = True
        if isinstance(node, ast.Call):
            function = node.func
            name = function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", None)
            calls_configure |= name == "configure"
        if isinstance(node, ast.Dict):      # engine options passed as a dict: {"isolation_level": "AUTOCOMMIT"}
            for key, value in zip(node.keys, node.values):
                if isinstance(key, ast.Constant) and key.value == "isolation_level" and _is_autocommit(value):
                    autocommit = True
                if isinstance(key, ast.Constant) and key.value == "transaction_per_migration" and _is_true(value):
                    per_migration = True
    why = None
    named = sorted((_PLAN_NAMES | {"context.script"}) & mentioned)
    if named:
        why = f"env.py sets {', '.join(named)} itself"
    elif not calls_configure:
        why = "env.py configures Alembic through code elsewhere (it calls no configure())"
    return EnvFile(decides_plan=why, autocommit=autocommit, transaction_per_migration=per_migration)
