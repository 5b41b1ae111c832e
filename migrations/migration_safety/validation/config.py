"""Reading ``[migration_safety.validate]`` from alembic.ini (or ``migration_safety.ini`` beside it)::

    [migration_safety.validate]
    disable = prefer-text-over-varchar, lock-table
    severity.create-index-without-concurrently = error
    postgres_version = 15
    baseline = validation-baseline.ini

and the findings a project accepts, one revision and rule per line, each with its reason, from
``[migration_safety.accept]`` in the same files or in the baseline file (``validate --baseline``
writes one)::

    [migration_safety.accept]
    451aebb31d03 drop-column = the column was unused since 2.0
"""
from __future__ import annotations

import configparser
from pathlib import Path
from typing import Optional

from .model import SEVERITIES, ValidationConfig, ValidationInputError

SECTION = "migration_safety.validate"
ACCEPT_SECTION = "migration_safety.accept"


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
    from .registry import RULES

    baseline = None
    for key, value in (parser.items(SECTION) if parser.has_section(SECTION) else []):
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
        elif key == "baseline" and value:
            baseline = alembic_ini.parent / value
    accepted_files = [f for f in files if f.is_file()]
    if baseline is not None:
        if not baseline.is_file():
            raise ValidationInputError(f"[{SECTION}] baseline file {baseline} not found")
        accepted_files.append(baseline)
    config.accepted = read_accepted(accepted_files, RULES)
    return config


def read_accepted(files: list, rules) -> dict:
    """(revision, rule id) -> reason from every ``[migration_safety.accept]`` section."""
    parser = configparser.ConfigParser(interpolation=None, delimiters=("=",))
    parser.optionxform = str                    # revision ids are case-sensitive
    try:
        parser.read([str(f) for f in files], encoding="utf-8")
    except configparser.Error as exc:
        raise ValidationInputError(f"cannot read accepted findings: {' '.join(str(exc).split())}") from None
    accepted = {}
    for key, reason in (parser.items(ACCEPT_SECTION) if parser.has_section(ACCEPT_SECTION) else []):
        parts = key.split()
        if len(parts) != 2:
            raise ValidationInputError(f"[{ACCEPT_SECTION}] {key!r}: write '<revision> <rule-id> = <reason>'")
        revision, rule_id = parts
        _known(rule_id, rules, ACCEPT_SECTION)
        if not reason.strip():
            raise ValidationInputError(f"[{ACCEPT_SECTION}] {key}: give the reason the finding is accepted")
        accepted[(revision, rule_id)] = " ".join(reason.split())
    return accepted


def _known(rule_id: str, rules, section: str = SECTION) -> None:
    if rule_id not in rules:
        raise ValidationInputError(f"[{section}] names unknown rule {rule_id!r} (validate --list-rules lists them)")
