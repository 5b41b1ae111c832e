"""The validator on a corpus of revision files: one hazard or one safe pattern per file, the
expected findings written in the file's first line (``# expect: rule@line ...`` or ``none``)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness import REPO_ROOT, run_cli
from migration_safety.validation import (RULES, ValidationConfig, ValidationInputError, explain, load_config,
                                         resolve_migration_file, rules_markdown, validate_paths)

CORPUS = Path(__file__).parent / "corpus"
CASES = sorted(CORPUS.glob("*.py"))


def expected(path: Path) -> set:
    header = path.read_text().splitlines()[0]
    assert header.startswith("# expect:"), path
    items = header[len("# expect:"):].split()
    return set() if items == ["none"] else {(rule, int(line)) for rule, line in (i.split("@") for i in items)}


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_corpus_file_gives_exactly_its_expected_findings(path):
    report = validate_paths([path], ValidationConfig())
    assert {(f.rule, f.line) for f in report.findings} == expected(path)


def quiet_for(path: Path) -> set:
    """Rules a quiet case exercises without tripping them: ``# quiet-for: rule ...`` on line 2."""
    lines = path.read_text().splitlines()
    return set(lines[1][len("# quiet-for:"):].split()) if len(lines) > 1 and lines[1].startswith("# quiet-for:") else set()


def test_every_operation_rule_has_a_hazardous_and_a_quiet_case():
    from migration_safety.validation.registry import OPERATION_RULES, SEQUENCE_RULES

    hazardous, quiet = set(), set()
    for path in CASES:
        hazardous |= {rule for rule, _ in expected(path)}
        quiet |= quiet_for(path)
        assert quiet_for(path) <= set(RULES), path
        assert not quiet_for(path) & {rule for rule, _ in expected(path)}, f"{path.name} trips a rule it is quiet for"
    operation_rules = {rule.id for rule in OPERATION_RULES + SEQUENCE_RULES} - {"enum-add-value-in-transaction"}
    assert operation_rules - hazardous == set(), "rules without a hazardous corpus case"
    assert operation_rules - quiet == set(), "rules without a quiet corpus case (# quiet-for: on line 2)"
    assert {"irreversible-downgrade", "suppression-without-reason"} <= hazardous


def test_enum_add_value_depends_on_the_server_version(tmp_path):
    path = tmp_path / "enum.py"
    path.write_text('revision = "e1"\ndown_revision = None\nfrom alembic import op\n\n'
                    'def upgrade():\n    op.execute("ALTER TYPE mood ADD VALUE \'calm\'")\n\n'
                    'def downgrade():\n    op.execute("SELECT 1")\n')
    old = validate_paths([path], ValidationConfig(postgres_major=11))
    assert [(f.rule, f.line) for f in old.findings] == [("enum-add-value-in-transaction", 6)]
    assert validate_paths([path], ValidationConfig(postgres_major=15)).findings == []


@pytest.mark.parametrize("content, rule", [
    ("def upgrade(:\n    pass\n", "syntax-error"),
    ("", "unreadable-revision"),
    (b"\x00\x01binary", "unreadable-revision"),
    ('down_revision = None\ndef upgrade():\n    pass\ndef downgrade():\n    pass\n', "missing-revision-id"),
    ('revision = "x"\ndef upgrade():\n    pass\ndef downgrade():\n    pass\n', "missing-down-revision"),
    ('revision = "x"\ndown_revision = None\ndef downgrade():\n    pass\n', "missing-upgrade"),
    ('revision = "x"\ndown_revision = None\nfrom alembic import op\ndef upgrade():\n    op.execute("SELECT 1")\n',
     "missing-downgrade"),
])
def test_malformed_files_are_findings_not_tracebacks(tmp_path, content, rule):
    path = tmp_path / "bad.py"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    report = validate_paths([path], ValidationConfig())
    assert rule in {f.rule for f in report.findings}
    assert report.exit_code() == 3


def test_missing_file_and_directory_are_input_errors(tmp_path):
    with pytest.raises(ValidationInputError):
        resolve_migration_file("nope.py", tmp_path)
    with pytest.raises(ValidationInputError):
        resolve_migration_file(str(tmp_path), tmp_path)
    (tmp_path / "a.py").write_text("x = 1\n")
    assert resolve_migration_file("a.py", tmp_path) == tmp_path / "a.py"


def _revision(directory: Path, name: str, rev: str, down) -> None:
    (directory / f"{name}.py").write_text(
        f'revision = {rev!r}\ndown_revision = {down!r}\nfrom alembic import op\n\n'
        'def upgrade():\n    op.execute("SELECT 1")\n\ndef downgrade():\n    op.execute("SELECT 1")\n')


@pytest.mark.parametrize("graph, rule, named", [
    ([("a", None), ("b", "a"), ("c", "b")], None, None),
    ([("a", None), ("b", "a"), ("c", "a")], "multiple-heads", "b, c"),
    ([("a", None), ("b", "a"), ("b", "a")], "duplicate-revision", "b"),
    ([("a", None), ("b", "zzz")], "unknown-down-revision", "zzz"),
    ([("a", "c"), ("b", "a"), ("c", "b"), ("d", None)], "revision-cycle", ": a, b, c"),
    ([("a", None), ("b", "b")], "revision-cycle", "self-loop"),
    ([("a", None), ("b", "a"), ("c", "a"), ("m", ("b", "c"))], None, None),     # a merge is one head
])
def test_graph_checks(tmp_path, graph, rule, named):
    for index, (rev, down) in enumerate(graph):
        _revision(tmp_path, f"r{index}_{rev}", rev, down)
    paths = sorted(tmp_path.glob("*.py"))
    report = validate_paths(paths, ValidationConfig(), graph_dir=tmp_path)
    rules = [f for f in report.findings if f.rule in ("multiple-heads", "duplicate-revision",
                                                        "unknown-down-revision", "revision-cycle")]
    if rule is None:
        assert rules == []
    else:
        matching = [f for f in rules if f.rule == rule]
        assert matching and named in matching[0].message, rules


def test_graph_checks_read_depends_on_as_alembic_does(tmp_path):
    """A cycle through depends_on is one Alembic refuses (DependencyCycleDetected); depends_on
    alone makes no revision less of a head."""
    _revision(tmp_path, "r0_a", "a", None)
    _revision(tmp_path, "r1_b", "b", "a")
    _revision(tmp_path, "r2_c", "c", None)
    with (tmp_path / "r2_c.py").open("a") as handle:
        handle.write("depends_on = 'b'\n")
    report = validate_paths(sorted(tmp_path.glob("*.py")), ValidationConfig(), graph_dir=tmp_path)
    [heads] = [f for f in report.findings if f.rule == "multiple-heads"]
    assert "2 heads: b, c" in heads.message
    assert not [f for f in report.findings if f.rule == "revision-cycle"]
    with (tmp_path / "r0_a.py").open("a") as handle:
        handle.write("depends_on = 'c'\n")
    report = validate_paths(sorted(tmp_path.glob("*.py")), ValidationConfig(), graph_dir=tmp_path)
    [cycle] = [f for f in report.findings if f.rule == "revision-cycle"]
    assert "dependency cycle" in cycle.message and "a, b, c" in cycle.message


def test_config_disables_and_changes_severity(tmp_path):
    ini = tmp_path / "alembic.ini"
    ini.write_text("[alembic]\nscript_location = x\n\n[migration_safety.validate]\n"
                   "disable = drop-table\nseverity.create-index-without-concurrently = error\npostgres_version = 11\n")
    config = load_config(ini)
    assert config.postgres_major == 11
    drop = validate_paths([CORPUS / "drop_table_op.py"], config)
    assert drop.findings == []
    index = validate_paths([CORPUS / "create_index_op.py"], config)
    assert [f.severity for f in index.findings] == ["error"]
    ini.write_text("[alembic]\n[migration_safety.validate]\ndisable = no-such-rule\n")
    with pytest.raises(ValidationInputError):
        load_config(ini)


def test_every_rule_is_documented_and_explained():
    doc = (REPO_ROOT / "docs" / "rules.md").read_text()
    assert doc.strip() == rules_markdown().strip(), "docs/rules.md is stale: run scripts/generate_rules_doc.py"
    for rule in RULES.values():
        assert rule.why and rule.do_instead and rule.summary
        assert rule.id in explain(rule.id)


def test_cli_exit_codes_and_formats(tmp_path):
    clean = run_cli("validate")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    by_name = run_cli("validate", "--migration-file", "001_initial_schema.py")
    assert by_name.returncode == 0 and "1 file(s) checked" in by_name.stdout
    hazard = str(CORPUS / "drop_column_op.py")
    text = run_cli("validate", "-f", hazard)
    assert text.returncode == 3 and "error[drop-column]" in text.stdout and "do instead" in text.stdout
    data = json.loads(run_cli("--format", "json", "validate", "-f", hazard).stdout)["findings"]
    assert data[0]["rule"] == "drop-column" and set(data[0]) >= {"rule", "severity", "file", "line", "message"}
    annotations = run_cli("validate", "-f", hazard, "--format", "annotations").stdout.strip().splitlines()
    assert annotations == [f"{hazard}:12: error drop-column dropping column farms.region"]
    warning_only = str(CORPUS / "create_index_op.py")
    assert run_cli("validate", "-f", warning_only).returncode == 0
    assert run_cli("validate", "-f", warning_only, "--strict").returncode == 3
    missing = run_cli("validate", "-f", "no_such_revision.py")
    assert missing.returncode == 2 and "not found" in missing.stderr and "Traceback" not in missing.stderr
    assert run_cli("validate", "--explain", "nope").returncode == 2
    assert "Do instead" in run_cli("validate", "--explain", "drop-column").stdout


def test_validation_never_imports_the_revision(tmp_path):
    marker = tmp_path / "imported"
    path = tmp_path / "sneaky.py"
    path.write_text(f'open({str(marker)!r}, "w").write("x")\nrevision = "s"\ndown_revision = None\n'
                    'def upgrade():\n    pass\ndef downgrade():\n    pass\n')
    validate_paths([path], ValidationConfig())
    result = run_cli("validate", "-f", str(path))
    assert result.returncode == 0 and not marker.exists()


def test_upgrade_stops_on_validation_errors_unless_allowed(database, tmp_path):
    from alembic_projects import make_project, revision
    from harness import fingerprint

    env = database.env()
    env["MIGRATION_BACKUP_DIR"] = str(tmp_path / "backups")
    ini = make_project(tmp_path / "p", {
        "a1.py": revision("a1", None, 'op.execute("CREATE TABLE t (id bigint, v text)")', 'op.execute("DROP TABLE t")'),
        "b2.py": revision("b2", "a1", 'op.drop_column("t", "v")', 'op.execute("SELECT 1")')})
    assert run_cli("--config", str(ini), "upgrade", "--revision", "a1", env=env).returncode == 0
    before = fingerprint(database)
    stopped = run_cli("--config", str(ini), "upgrade", env=env)
    assert stopped.returncode == 3 and "drop-column" in stopped.stdout + stopped.stderr
    assert fingerprint(database) == before
    # no backup for the refused run: the one started beside validation was cancelled, no file left
    from harness import backup_files, files_of_backup

    archives = backup_files(tmp_path / "backups")
    assert len(archives) == 1
    assert sorted((tmp_path / "backups").iterdir()) == sorted(files_of_backup(archives[0]))
    dry = run_cli("--config", str(ini), "upgrade", "--dry-run", env=env)
    assert dry.returncode == 3 and "drop-column" in dry.stdout
    allowed = run_cli("--config", str(ini), "--format", "json", "upgrade", "--allow-unsafe", env=env)
    assert allowed.returncode == 0, allowed.stderr
    payload = json.loads(allowed.stdout)
    assert payload["unsafe_allowed"] is True and any("allow-unsafe" in n for n in payload["notes"])


def test_validation_page_lists_every_rule():
    """Listed in the validation page, not only in the generated docs/rules.md."""
    page = (REPO_ROOT / "docs" / "validation.md").read_text()
    assert [rule_id for rule_id in RULES if f"`{rule_id}`" not in page] == []


def test_a_column_type_defined_in_a_project_module_is_read_there(tmp_path):
    """A TypeDecorator in the project's own module is judged by its PostgreSQL type: impl = JSONB
    is no json; a DateTime without time zone is a timestamp; a module not found is unverified."""
    package = tmp_path / "app" / "farm_types"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("from .columns import JSON as Document\n")
    (package / "columns.py").write_text(
        "import sqlalchemy as sa\nfrom sqlalchemy.dialects.postgresql import JSONB\n\n\n"
        "class JSON(sa.types.TypeDecorator):\n    impl = JSONB\n\n\n"
        "class Stamp(sa.types.TypeDecorator):\n    impl = sa.DateTime\n")
    revision_file = tmp_path / "r1.py"
    revision_file.write_text(
        'revision = "r1"\ndown_revision = None\nfrom alembic import op\nimport sqlalchemy as sa\n'
        "import farm_types\nfrom farm_types.columns import JSON, Stamp\n\n\n"
        'def upgrade():\n    op.create_table("events", sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),\n'
        '                    sa.Column("a", JSON()), sa.Column("b", farm_types.Document()),\n'
        '                    sa.Column("c", Stamp()))\n\n\n'
        "def downgrade():\n    op.execute('SELECT 1')\n")
    found = validate_paths([revision_file], ValidationConfig(module_paths=(tmp_path / "app",))).findings
    assert [(f.rule, f.severity) for f in found] == [("prefer-timestamptz", "info")]     # a table it creates
    unread = validate_paths([revision_file], ValidationConfig()).findings
    assert sorted((f.rule, f.severity) for f in unread) == [("column-type-unverified", "info")] * 3


def test_a_revision_using_project_types_is_judged_afresh_whatever_the_findings_cache_holds(tmp_path, monkeypatch):
    """The findings cache keys a file by its content: a revision whose column type comes from the
    project is never answered from it, since the type can change while the revision does not."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    app = tmp_path / "app"
    revision_file = tmp_path / "r1.py"
    revision_file.write_text(
        'revision = "r1"\ndown_revision = None\nfrom alembic import op\nimport sqlalchemy as sa\n'
        "from farm_types import Document\n\n\n"
        'def upgrade():\n    op.create_table("events", sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),\n'
        '                    sa.Column("body", Document()))\n\n\n'
        "def downgrade():\n    op.execute('SELECT 1')\n")

    def rules(config):
        return sorted(f.rule for f in validate_paths([revision_file], config).findings)

    assert rules(ValidationConfig()) == ["column-type-unverified"]         # no module_paths yet
    assert rules(ValidationConfig(module_paths=(app,))) == ["column-type-unverified"]   # no module yet
    app.mkdir()
    (app / "farm_types.py").write_text("import sqlalchemy as sa\n\n\nclass Document(sa.types.TypeDecorator):\n"
                                       "    impl = sa.JSON\n")
    assert rules(ValidationConfig(module_paths=(app,))) == ["prefer-jsonb"]
    (app / "farm_types.py").write_text("import sqlalchemy as sa\nfrom sqlalchemy.dialects.postgresql import JSONB\n\n\n"
                                       "class Document(sa.types.TypeDecorator):\n    impl = JSONB\n")
    assert rules(ValidationConfig(module_paths=(app,))) == []


def test_downgrade_findings_are_labelled_and_block_only_a_downgrade():
    path = CORPUS / "stored_generated_new_table_safe.py"
    upgrade = validate_paths([path], ValidationConfig())
    assert [(f.rule, f.severity, f.phase) for f in upgrade.findings] == [("drop-table", "info", "downgrade")]
    assert upgrade.findings[0].message.startswith("in downgrade(): ") and upgrade.exit_code() == 0
    downgrade = validate_paths([path], ValidationConfig(), direction="downgrade")
    assert [(f.rule, f.severity) for f in downgrade.findings] == [("drop-table", "error")]
    assert downgrade.exit_code() == 3


def test_no_message_names_a_table_none():
    report = validate_paths(CASES, ValidationConfig())
    assert report.findings and not [f for f in report.findings if "None" in f.message]


def _third_party_project(tmp_path):
    """A chain the project does not own: one revision drops a column, the next one adds an index."""
    from alembic_projects import make_project, revision

    return make_project(tmp_path / "p", {
        "a1.py": revision("a1", None, 'op.execute("CREATE TABLE t (id bigint, v text)")', 'op.drop_table("t")'),
        "b2.py": revision("b2", "a1", 'op.drop_column("t", "v")', 'op.add_column("t", sa.Column("v", sa.Text()))')})


def test_findings_accepted_in_config_do_not_block(tmp_path):
    ini = _third_party_project(tmp_path)
    assert run_cli("--config", str(ini), "validate").returncode == 3
    with ini.open("a") as handle:
        handle.write("\n[migration_safety.accept]\nb2 drop-column = upstream removed the column in 2.0\n")
    accepted = run_cli("--config", str(ini), "validate")
    assert accepted.returncode == 0, accepted.stdout
    assert "1 accepted in config" in accepted.stdout and "drop-column" not in accepted.stdout.split("accepted")[0]
    # the acceptance names one revision: the same hazard elsewhere still blocks
    config = load_config(ini)
    assert config.accepted == {("b2", "drop-column"): "upstream removed the column in 2.0"}
    other = tmp_path / "other.py"
    other.write_text((tmp_path / "p" / "alembic" / "versions" / "b2.py").read_text().replace("'b2'", "'c3'"))
    assert [f.rule for f in validate_paths([other], config).findings] == ["drop-column"]


@pytest.mark.parametrize("entry, complaint", [
    ("b2 drop-column =", "reason"),
    ("b2 no-such-rule = because", "unknown rule"),
    ("drop-column = because", "<revision> <rule-id>"),
])
def test_bad_acceptances_are_configuration_errors(tmp_path, entry, complaint):
    ini = _third_party_project(tmp_path)
    with ini.open("a") as handle:
        handle.write(f"\n[migration_safety.accept]\n{entry}\n")
    result = run_cli("--config", str(ini), "validate")
    assert result.returncode == 2 and complaint in result.stderr and "Traceback" not in result.stderr


def test_baseline_accepts_todays_findings_and_blocks_only_new_ones(tmp_path):
    from alembic_projects import revision

    ini = _third_party_project(tmp_path)
    written = run_cli("--config", str(ini), "validate", "--baseline", str(tmp_path / "p" / "baseline.ini"))
    assert written.returncode == 0 and "wrote 1 accepted finding" in written.stderr
    assert "b2 drop-column = baseline " in (tmp_path / "p" / "baseline.ini").read_text()
    with ini.open("a") as handle:
        handle.write("\n[migration_safety.validate]\nbaseline = baseline.ini\n")
    assert run_cli("--config", str(ini), "validate").returncode == 0
    (tmp_path / "p" / "alembic" / "versions" / "c3.py").write_text(
        revision("c3", "b2", 'op.drop_table("t")', 'op.execute("SELECT 1")'))
    new = run_cli("--config", str(ini), "validate")
    assert new.returncode == 3 and "error[drop-table]" in new.stdout and "error[drop-column]" not in new.stdout
    (tmp_path / "p" / "baseline.ini").unlink()
    missing = run_cli("--config", str(ini), "validate")
    assert missing.returncode == 2 and "baseline file" in missing.stderr


def test_upgrade_runs_without_allow_unsafe_once_the_finding_is_accepted(database, tmp_path):
    env = database.env()
    env["MIGRATION_BACKUP_DIR"] = str(tmp_path / "backups")
    ini = _third_party_project(tmp_path)
    # from base, the same plan creates t: dropping its column is no hazard. Once t exists, it is.
    assert run_cli("--config", str(ini), "upgrade", "--revision", "a1", env=env).returncode == 0
    database.sql("INSERT INTO t VALUES (1, 'kept')")
    refused = run_cli("--config", str(ini), "upgrade", env=env)
    assert refused.returncode == 3
    with ini.open("a") as handle:
        handle.write("\n[migration_safety.accept]\nb2 drop-column = nothing reads t.v any more\n")
    done = run_cli("--config", str(ini), "upgrade", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert database.sql("SELECT column_name FROM information_schema.columns WHERE table_name = 't'") == [("id",)]
    assert database.sql("SELECT version_num FROM alembic_version") == [("b2",)]


@pytest.mark.parametrize("value, wrapper, warned", [
    ("'2s'", "5s", False), ("'5s'", "5s", False), ("'5001'", "5s", True), ("'1min'", "30s", True),
    ("'1.5s'", "2s", False), ("'1 h'", "2h", False), ("0", "5s", True), ("'0'", "0", True), ("'10min'", "0", False),
])
def test_a_scoped_lock_timeout_warns_only_when_it_disables_or_raises_the_wrappers(tmp_path, value, wrapper, warned):
    path = tmp_path / "r.py"
    path.write_text('revision = "r"\ndown_revision = None\nfrom alembic import op\n\n\ndef upgrade():\n'
                    f'    op.execute("SET LOCAL lock_timeout = {value}")\n    op.execute("RESET lock_timeout")\n\n\n'
                    'def downgrade():\n    pass\n')
    found = validate_paths([path], ValidationConfig(lock_timeout=wrapper)).findings
    assert bool(found) == warned, found
