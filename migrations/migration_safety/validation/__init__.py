"""Static validation of Alembic revision files: never imports or runs them, needs no database.

Two levels in one report: structure and graph (``ast``), and operations (``op.*`` calls and the
SQL inside ``op.execute``, read by PostgreSQL's own parser through pglast, see sql.py). Each rule
lives in ``rules/<rule_id>.py``. Findings of unchanged files are replayed from a cache (cache.py).
"""
from .baseline import write_baseline
from .checker import resolve_migration_file, validate_paths
from .config import load_config
from .model import Finding, Rule, ValidationConfig, ValidationInputError, ValidationReport
from .registry import RULES, explain, rules_markdown

__all__ = ["Finding", "Rule", "ValidationConfig", "ValidationInputError", "ValidationReport", "RULES", "explain",
           "load_config", "resolve_migration_file", "rules_markdown", "validate_paths",
           "write_baseline"]
