"""Findings of unchanged files are replayed from the cache (by content hash); settings still
apply on every run, and any change to the file or to postgres_version misses it."""
from __future__ import annotations

import json

import pytest

from migration_safety.validation import ValidationConfig, validate_paths

REVISION = ('revision = "c1"\ndown_revision = None\nfrom alembic import op\n\n\ndef upgrade():\n'
            '    op.drop_column("farms", "region")\n    op.execute("ALTER TYPE mood ADD VALUE \'calm\'")\n\n\n'
            'def downgrade():\n    op.execute("SELECT 1")\n')


@pytest.fixture
def cache_file(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "migration_safety" / "validation_findings.json"


def _found(report):
    return [(f.rule, f.line, f.severity, f.message) for f in report.findings]


def test_an_unchanged_file_is_replayed_and_a_changed_one_checked_again(tmp_path, cache_file):
    path = tmp_path / "c1.py"
    path.write_text(REVISION)
    first = _found(validate_paths([path], ValidationConfig()))
    assert first == [("drop-column", 7, "error", "dropping column farms.region")]
    # what the next run replays is what the file holds: proven by editing the stored message
    stored = json.loads(cache_file.read_text())
    [entry] = stored["files"].values()
    entry["results"][0][2] = "replayed from the cache"
    cache_file.write_text(json.dumps(stored))
    assert _found(validate_paths([path], ValidationConfig())) == [("drop-column", 7, "error", "replayed from the cache")]
    path.write_text(REVISION.replace('"region"', '"zone"'))
    assert _found(validate_paths([path], ValidationConfig())) == [("drop-column", 7, "error", "dropping column farms.zone")]


def test_settings_apply_to_replayed_findings_and_postgres_version_is_part_of_the_key(tmp_path, cache_file):
    path = tmp_path / "c1.py"
    path.write_text(REVISION)
    validate_paths([path], ValidationConfig())
    assert validate_paths([path], ValidationConfig(disabled={"drop-column"})).findings == []
    overridden = validate_paths([path], ValidationConfig(severity_overrides={"drop-column": "warning"}))
    assert [f.severity for f in overridden.findings] == ["warning"]
    downgrade = validate_paths([path], ValidationConfig(), direction="downgrade")
    assert [f.severity for f in downgrade.findings] == ["info"]
    old_server = validate_paths([path], ValidationConfig(postgres_major=11))
    assert [f.rule for f in old_server.findings] == ["drop-column", "enum-add-value-in-transaction"]
    assert [f.rule for f in validate_paths([path], ValidationConfig()).findings] == ["drop-column"]


def test_the_graph_rules_read_replayed_revisions(tmp_path, cache_file):
    for name, revision, down in (("a", "a1", None), ("b", "b1", "a1"), ("c", "c1", "a1")):
        (tmp_path / f"{name}.py").write_text(REVISION.replace('"c1"', repr(revision)).replace(
            "down_revision = None", f"down_revision = {down!r}"))
    paths = sorted(tmp_path.glob("*.py"))
    first = [f.message for f in validate_paths(paths, ValidationConfig(), graph_dir=tmp_path).findings
             if f.rule == "multiple-heads"]
    assert cache_file.exists() and first and "b1, c1" in first[0]
    again = [f.message for f in validate_paths(paths, ValidationConfig(), graph_dir=tmp_path).findings
             if f.rule == "multiple-heads"]
    assert again == first


def test_the_wrappers_lock_timeout_is_part_of_the_key(tmp_path, cache_file):
    """timeout-override compares a scoped lock_timeout with the wrapper's: a run with another
    MIGRATION_LOCK_TIMEOUT must not replay the other verdict."""
    path = tmp_path / "c1.py"
    path.write_text('revision = "c1"\ndown_revision = None\nfrom alembic import op\n\n\ndef upgrade():\n'
                    '    op.execute("SET LOCAL lock_timeout = \'20s\'")\n    op.execute("RESET lock_timeout")\n\n\n'
                    'def downgrade():\n    pass\n')
    assert [(f.rule, f.line) for f in validate_paths([path], ValidationConfig(lock_timeout="5s")).findings] == [
        ("timeout-override", 7)]
    assert validate_paths([path], ValidationConfig(lock_timeout="30s")).findings == []
    assert validate_paths([path], ValidationConfig(lock_timeout="0")).findings == []    # the wrapper waits forever
