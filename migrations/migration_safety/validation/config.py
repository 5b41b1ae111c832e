"""Reading ``[migration_safety.validate]`` from alembic.ini (or ``migration_safety.ini`` beside it)::

    [migration_safety.validate]
    disable = prefer-text-over-varchar, lock-table
    severity.create-index-without-concurrently = error
    postgres_version = 15
"""
from __future__ import annotations

import configparser
from pathlib import Path
from typing import Optional

from .model import SEVERITIES, ValidationConfig, ValidationInputError

SECTION = "migration_safety.validate"


def load_config(alembic_ini: Optional[Path]) -> ValidationConfig:
    config = ValidationConfig()
    if alembic_ini is None:
        return config
    alembic_ini = Path(alembic_ini)
    parser = configparser.ConfigParser(interpolation=None)
    files = [alembic_ini, alembic_ini.parent / "migration_safety.ini"]
    if alembic_ini.suffix == ".toml":   # a pyproject.toml-only Alembic project: the side file only
        files = files[1:]
    try:
        parser.read([str(f) for f in files if f.is_file()], encoding="utf-8")
    except configparser.Error as exc:
        raise ValidationInputError(f"cannot read validation settings: {' '.join(str(exc).split())}") from None
    if not parser.has_section(SECTION):
        return config
    from .registry import RULES

    for key, value in parser.items(SECTION):
        value = value.strip()
        if key == "disable":
            for rule_id in filter(None, (part.strip() for part in value.replace("\n", ",").split(","))):
                _known(rule_id, RULES)
                config.disabled.add(rule_id)
        elif key.startswith("severity."):
            rule_id = key[len("severity."):]
            _known(rule_id, RULES)
            if value not in SEVERITIES:
                raise ValidationInputError(f"[{SECTION}] {key}: severity must be one of {', '.join(SEVERITIES)}")
            config.severity_overrides[rule_id] = value
        elif key == "postgres_version":
            if not value.split(".")[0].isdigit():
                raise ValidationInputError(f"[{SECTION}] postgres_version must be a number, got {value!r}")
            config.postgres_major = int(value.split(".")[0])
    return config


def _known(rule_id: str, rules) -> None:
    if rule_id not in rules:
        raise ValidationInputError(f"[{SECTION}] names unknown rule {rule_id!r} (validate --list-rules lists them)")
