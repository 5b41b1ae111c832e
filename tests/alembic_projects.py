"""Throwaway Alembic projects for tests: made by `alembic init` itself, env.py left as Alembic
wrote it (optionally with transaction_per_migration=True, the one-line change users make)."""
from __future__ import annotations

import textwrap
from pathlib import Path

from alembic import command
from alembic.config import Config


def make_project(root: Path, revisions: dict[str, str], *, transaction_per_migration: bool = False) -> Path:
    """Create ``root/alembic.ini`` + ``root/alembic/`` and write ``revisions`` (file name -> source)."""
    root.mkdir(parents=True, exist_ok=True)
    ini = root / "alembic.ini"
    command.init(Config(str(ini)), str(root / "alembic"), template="generic")
    if transaction_per_migration:
        env_py = root / "alembic" / "env.py"
        text = env_py.read_text()
        marker = "target_metadata=target_metadata\n        )"
        assert marker in text, "alembic's env.py template changed"
        env_py.write_text(text.replace(marker, "target_metadata=target_metadata,\n"
                                              "            transaction_per_migration=True,\n        )"))
    for name, source in revisions.items():
        write_revision(root, name, source)
    return ini


def write_revision(root: Path, name: str, source: str) -> Path:
    path = root / "alembic" / "versions" / name
    path.write_text(textwrap.dedent(source).lstrip())
    return path


def revision(rev: str, down: str | None, upgrade: str, downgrade: str = "pass") -> str:
    """Source of a small revision file; ``upgrade``/``downgrade`` are function bodies."""
    body_up = textwrap.indent(textwrap.dedent(upgrade).strip(), "    ")
    body_down = textwrap.indent(textwrap.dedent(downgrade).strip(), "    ")
    return (f'"""revision {rev}"""\nfrom alembic import op\nimport sqlalchemy as sa\n\n'
            f"revision = {rev!r}\ndown_revision = {down!r}\nbranch_labels = None\ndepends_on = None\n\n\n"
            f"def upgrade():\n{body_up}\n\n\ndef downgrade():\n{body_down}\n")
