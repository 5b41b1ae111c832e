"""Finding the project's configuration the way Alembic's own CLI does: ``--config``, then
``ALEMBIC_CONFIG``, then ``alembic.ini`` (or a ``pyproject.toml`` with ``[tool.alembic]``) in the
current directory; only then, when the package runs from this repository's checkout, its example
project. Reads files only: no Alembic import, no database."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping, Optional

from ..base.errors import ConfigurationError

SAFETY_SECTION = "migration_safety"


def repository_example() -> Optional[Path]:
    """This repository's example project (migrations/alembic.ini) when the package runs from the
    repository's checkout, beside migration_utils.py; an installed package has none to fall back on."""
    migrations = Path(__file__).resolve().parents[2]
    if (migrations / "migration_utils.py").is_file() and (migrations / "alembic.ini").is_file():
        return migrations / "alembic.ini"
    return None

def inside_installed_package(path: Path) -> bool:
    """``path`` lies in an installed distribution (site-packages, dist-packages, a virtualenv's
    library folder): a place a reinstall replaces, never one to keep backups in."""
    import site
    import sysconfig

    path = Path(path).resolve()
    if any(part in ("site-packages", "dist-packages") for part in path.parts):
        return True
    roots = {sysconfig.get_paths()[name] for name in ("purelib", "platlib")}
    try:
        roots |= set(site.getsitepackages()) | {site.getusersitepackages()}
    except AttributeError:       # a virtualenv's old site module
        pass
    return any(path.is_relative_to(Path(root).resolve()) for root in roots if root)


def read_toml(path: Path) -> dict:
    import tomllib

    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(f"cannot read {path}: {' '.join(str(exc).split())}") from None


def has_tool_alembic(path: Path) -> bool:
    return path.is_file() and "alembic" in read_toml(path).get("tool", {})


def find_config(config: Optional[str], environ: Optional[Mapping[str, str]] = None,
                cwd: Optional[Path] = None) -> tuple[Path, str]:
    """The config file to use and how it was found, in Alembic's order."""
    environ = os.environ if environ is None else environ
    cwd = Path.cwd() if cwd is None else cwd
    for named, how in ((config, "--config"), (environ.get("ALEMBIC_CONFIG"), "ALEMBIC_CONFIG")):
        if named:
            path = Path(named).expanduser()
            if not path.is_file():
                raise ConfigurationError(f"alembic config {path} (from {how}) not found")
            return path.resolve(), how
    if (cwd / "alembic.ini").is_file():
        return (cwd / "alembic.ini").resolve(), "alembic.ini in the current directory"
    if has_tool_alembic(cwd / "pyproject.toml"):
        return (cwd / "pyproject.toml").resolve(), "pyproject.toml [tool.alembic] in the current directory"
    example = repository_example()
    if example is None:
        raise ConfigurationError(
            f"no Alembic config found: no --config, no ALEMBIC_CONFIG, and no alembic.ini or pyproject.toml "
            f"with [tool.alembic] in the current directory ({cwd}); run from the project's folder or pass "
            f"--config PATH/alembic.ini")
    return example, ("default: this repository's example project, as no --config, ALEMBIC_CONFIG, "
                     "alembic.ini or pyproject.toml [tool.alembic] in the current directory names another")
