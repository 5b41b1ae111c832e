"""Issue 16, items 6, 8 and 9, each performed as an attack and proven to fail:
- the password, in every form (as typed, URL-quoted, ConfigParser-escaped), never reaches the
  output, the run record or a child process' environment, even when env.py or a revision puts
  the URL into an exception;
- the version table's name reaches SQL only quoted, and it is the table Alembic really uses;
- a revision message cannot become code in the revision file, and control characters from
  revision files or the database never reach the terminal."""
from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from urllib.parse import quote

import pytest

import local_postgres
from alembic_projects import make_project, revision
from harness import APP_PASSWORD, run_cli
from test_service import start_service  # noqa: F401  (a fixture)
from migration_safety.commands import revision_message
from migration_safety.base.redaction import mask, register

# -- the password in every form -------------------------------------------------------------------

QUOTED = quote(APP_PASSWORD, safe="")


def password_forms(password: str = APP_PASSWORD) -> set:
    quoted = quote(password, safe="")
    return {password, quoted, quoted.replace("%", "%%"), quoted.lower(), password.replace("%", "%%")}


def assert_no_password_form(*texts):
    for text in texts:
        for form in password_forms():
            assert form not in text, f"password form {form!r} leaked into: {text[:500]}"


def test_mask_replaces_every_form_of_a_registered_password():
    password = "p@ss%w:rd/with!odd"
    register(password)
    quoted = quote(password, safe="")
    text = (f"raw {password} url postgresql://u:{quoted}@h/d ini {quoted.replace('%', '%%')} "
            f"lower {quoted.lower()} repr {password!r} json {json.dumps(password)}")
    masked = mask(text)
    assert masked.count("***") == 6, masked
    assert "p@ss" not in masked and "p%40ss" not in masked and "p%%40ss" not in masked


LEAKY_REVISION = '''"""revision b2 puts the URL into its error"""
from alembic import context
from sqlalchemy.engine import make_url

revision = "b2"
down_revision = "a1"
branch_labels = None
depends_on = None


def upgrade():
    url = context.config.get_main_option("sqlalchemy.url")                # URL-quoted
    escaped = context.config.file_config.get("alembic", "sqlalchemy.url", raw=True)   # %% escaped
    raise RuntimeError(f"cannot reach {url} (ini {escaped}, raw {make_url(url).password})")


def downgrade():
    pass
'''

BASE = revision("a1", None, """
    op.execute("CREATE TABLE crops (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text)")
    op.execute("INSERT INTO crops (name) VALUES ('maize')")
""", 'op.execute("DROP TABLE crops")')


def spying_tools(directory: Path, dumps: Path) -> Path:
    """Stand-ins for pg_dump/pg_restore/psql that write their own /proc/<pid>/environ to ``dumps``
    and then exec the real tool (same process, same environment)."""
    directory.mkdir()
    dumps.mkdir()
    real = local_postgres.find_pg_bin_dir()
    for tool in ("pg_dump", "pg_restore", "psql"):
        script = directory / tool
        script.write_text(f"#!/bin/sh\ntr '\\0' '\\n' < /proc/$$/environ > '{dumps}/{tool}.'$$\n"
                          f"exec '{real / tool}' \"$@\"\n")
        script.chmod(0o755)
    return directory


def history_errors(database) -> list:
    return [row[0] for row in database.sql("SELECT error FROM migration_safety.migration_history ORDER BY id")]


@pytest.mark.parametrize("source", ["POSTGRES_PASSWORD", "DATABASE_URL", "sqlalchemy.url"])
def test_password_stays_out_of_output_records_and_child_environments(database, tmp_path, source):
    ini = make_project(tmp_path / "project", {"a1_base.py": BASE, "b2_leaky.py": LEAKY_REVISION},
                       transaction_per_migration=True)      # a1 commits, so the failure restores
    env = database.env()
    if source != "POSTGRES_PASSWORD":
        for name in ("POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_DB", "POSTGRES_USER", "POSTGRES_PASSWORD"):
            env.pop(name)
    if source == "DATABASE_URL":
        env["DATABASE_URL"] = database.url
    if source == "sqlalchemy.url":
        text = ini.read_text()
        ini.write_text(re.sub(r"(?m)^sqlalchemy\.url = .*$", "sqlalchemy.url = " + database.url.replace("%", "%%"),
                              text))
    dumps = tmp_path / "environments"
    env.update(MIGRATION_BACKUP_DIR=str(tmp_path / "backups"),
               MIGRATION_PG_BIN_DIR=str(spying_tools(tmp_path / "bin", dumps)))

    as_json = run_cli("--config", str(ini), "--format", "json", "upgrade", env=env)
    as_text = run_cli("--config", str(ini), "upgrade", env=env)

    for result in (as_json, as_text):
        assert result.returncode == 1, result.stdout + result.stderr
        assert_no_password_form(result.stdout, result.stderr)
    outcome = json.loads(as_json.stdout)
    assert outcome["status"] == "failed-restored"
    assert "cannot reach postgresql+psycopg2://app_user:***@" in outcome["error"]   # the leak happened, masked
    assert "cannot reach postgresql+psycopg2://app_user:***@" in as_text.stdout
    errors = history_errors(database)
    assert len([e for e in errors if e and "cannot reach" in e]) == 4      # 2 runs x 2 revisions
    assert_no_password_form(*[e for e in errors if e])

    environments = {path.name: path.read_text() for path in dumps.iterdir()}
    assert {name.split(".")[0] for name in environments} >= {"pg_dump", "pg_restore"}
    for name, text in environments.items():
        variables = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
        assert "POSTGRES_PASSWORD" not in variables and "DATABASE_URL" not in variables, name
        assert_no_password_form(*[f"{k}={v}" for k, v in variables.items() if k != "PGPASSWORD"])
    dumping = [text for name, text in environments.items() if name.startswith("pg_dump") and "PGPASSWORD=" in text]
    assert dumping and all(f"PGPASSWORD={APP_PASSWORD}\n" in text for text in dumping)


def test_env_py_raising_the_url_is_masked(database, tmp_path):
    ini = make_project(tmp_path / "project", {"a1_base.py": BASE})
    env_py = tmp_path / "project" / "alembic" / "env.py"
    env_py.write_text(env_py.read_text() + '\nraise RuntimeError("bad " + config.get_main_option("sqlalchemy.url")'
                      ' + " " + config.file_config.get("alembic", "sqlalchemy.url", raw=True))\n')
    env = database.env()
    env["MIGRATION_BACKUP_DIR"] = str(tmp_path / "backups")
    for fmt in ("json", "text"):
        # env.py is run before anything changes: its failure is a configuration error (exit 2)
        result = run_cli("--config", str(ini), "--format", fmt, "upgrade", env=env)
        assert result.returncode == 2, result.stdout + result.stderr
        assert "RuntimeError: bad postgresql+psycopg2://app_user:***@" in result.stderr
        assert_no_password_form(result.stdout, result.stderr)
    assert database.sql("SELECT to_regclass('migration_safety.migration_history')") == [(None,)]


def test_a_malformed_database_url_is_not_quoted_back(database, tmp_path):
    env = database.env()
    env.pop("POSTGRES_PASSWORD")
    env["DATABASE_URL"] = "postgresql://app_user:half/secret@localhost/db"    # unquoted '/' ends the host
    result = run_cli("status", env=env)
    assert result.returncode == 2 and "DATABASE_URL is not a valid URL" in result.stderr
    assert "half" not in result.stderr and "secret" not in result.stderr


# -- the version table ----------------------------------------------------------------------------

def configure_env_py(root: Path, keywords: str) -> None:
    """Add ``keywords`` to both context.configure(...) calls of a stock env.py."""
    env_py = root / "alembic" / "env.py"
    text = env_py.read_text()
    assert text.count("target_metadata=target_metadata") == 2, "alembic's env.py template changed"
    env_py.write_text(text.replace("target_metadata=target_metadata", f"target_metadata=target_metadata, {keywords}"))


SECOND = revision("b2", "a1", 'op.execute("CREATE TABLE yields (id int)")', 'op.execute("DROP TABLE yields")')
HOSTILE = 'v"; DROP TABLE victim; --'


def heads_reported(ini: Path, env: dict) -> tuple:
    current = run_cli("--config", str(ini), "--format", "json", "current", env=env)
    status = run_cli("--config", str(ini), "--format", "json", "status", env=env)
    assert current.returncode == 0 and status.returncode == 0, current.stderr + status.stderr
    return json.loads(current.stdout)["current"], json.loads(status.stdout)


@pytest.mark.parametrize("table, schema", [("custom_versions", None), (HOSTILE, "Odd Schema")])
def test_the_version_table_env_py_configures_is_the_one_read(database, tmp_path, table, schema):
    root = tmp_path / "project"
    ini = make_project(root, {"a1_base.py": BASE, "b2_second.py": SECOND})
    keywords = f"version_table={table!r}" + (f", version_table_schema={schema!r}" if schema else "")
    configure_env_py(root, keywords)
    database.sql("CREATE TABLE victim (id int)")
    if schema:
        database.sql(f'CREATE SCHEMA "{schema}"')
    env = database.env()
    env["MIGRATION_BACKUP_DIR"] = str(tmp_path / "backups")

    first = run_cli("--config", str(ini), "--format", "json", "upgrade", "--revision", "a1", env=env)
    assert first.returncode == 0, first.stdout + first.stderr
    assert json.loads(first.stdout)["revision_after"] == ["a1"]
    assert heads_reported(ini, env)[0] == ["a1"]

    second = run_cli("--config", str(ini), "upgrade", env=env)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "now at b2" in second.stdout
    current, status = heads_reported(ini, env)
    assert current == ["b2"] and status["current"] == ["b2"] and status["pending"] == [] and status["up_to_date"]
    again = run_cli("--config", str(ini), "--format", "json", "upgrade", env=env)
    assert json.loads(again.stdout)["status"] == "up-to-date"

    assert database.sql("SELECT to_regclass('alembic_version')") == [(None,)]
    assert database.sql("SELECT to_regclass('victim') IS NOT NULL") == [(True,)]
    assert database.sql("SELECT table_schema, table_name FROM information_schema.tables WHERE table_name = %s",
                        (table,)) == [(schema or "public", table)]


def test_a_hostile_version_table_setting_is_only_ever_an_identifier(database, tmp_path):
    root = tmp_path / "project"
    ini = make_project(root, {"a1_base.py": BASE})
    # env.py reads the same setting, so Alembic and the wrapper agree on this odd name
    configure_env_py(root, 'version_table=config.get_section_option("migration_safety", "version_table")')
    ini.write_text(ini.read_text() + f"\n[migration_safety]\nversion_table = {HOSTILE}\n")
    database.sql("CREATE TABLE victim (id int)")
    env = database.env()
    env["MIGRATION_BACKUP_DIR"] = str(tmp_path / "backups")
    assert heads_reported(ini, env)[0] == []
    result = run_cli("--config", str(ini), "upgrade", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "now at a1" in result.stdout
    assert heads_reported(ini, env)[0] == ["a1"]
    assert database.sql("SELECT to_regclass('victim') IS NOT NULL") == [(True,)]
    assert database.sql('SELECT version_num FROM "v""; DROP TABLE victim; --"') == [("a1",)]


def test_an_env_py_whose_version_table_cannot_be_learned_is_a_clear_error(database, tmp_path):
    root = tmp_path / "project"
    ini = make_project(root, {"a1_base.py": BASE})
    configure_env_py(root, 'version_table=os.environ["APP_VERSION_TABLE"]')   # not set: env.py fails
    env_py = root / "alembic" / "env.py"
    env_py.write_text("import os\n" + env_py.read_text())
    env = database.env()
    env["MIGRATION_BACKUP_DIR"] = str(tmp_path / "backups")
    for command in ("current", "upgrade"):
        result = run_cli("--config", str(ini), command, env=env)
        assert result.returncode == 2, result.stdout + result.stderr
        assert "cannot learn the version table from env.py, nothing was changed: KeyError: 'APP_VERSION_TABLE'" \
            in result.stderr
    assert database.sql("SELECT to_regclass('crops')") == [(None,)]
    env["APP_VERSION_TABLE"] = "app_versions"
    assert run_cli("--config", str(ini), "upgrade", env=env).returncode == 0
    assert heads_reported(ini, env)[0] == ["a1"]
    assert database.sql("SELECT version_num FROM app_versions") == [("a1",)]


# -- generated code is inert ----------------------------------------------------------------------

NASTY_MESSAGES = ['"""\nimport os; os.system("touch {marker}")\n"""',
                  "ends in a backslash \\", "'''; import os #", 'a "quote" and \\N{bad escape} \\x',
                  "line one\r\nline two\x1b[2J\u202e evil"]


@pytest.mark.parametrize("message", NASTY_MESSAGES)
def test_revision_message_is_inert_inside_a_docstring(message):
    inert = revision_message(message)
    assert "\n" not in inert and "\r" not in inert and "\x1b" not in inert and "\u202e" not in inert
    assert ast.literal_eval('"""' + inert + '\n"""').strip() == " ".join(
        "".join(c if c.isprintable() else " " for c in message).split())


def test_create_with_a_message_that_tries_to_become_code(database, tmp_path):
    ini = make_project(tmp_path / "project", {})
    marker = tmp_path / "pwned"
    message = NASTY_MESSAGES[0].format(marker=marker)
    env = database.env()
    result = run_cli("--config", str(ini), "--format", "json", "create", "--message", message, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    created = Path(json.loads(result.stdout)["created"])
    tree = ast.parse(created.read_text())                       # valid Python
    assert f'import os; os.system("touch {marker}")' in ast.get_docstring(tree)
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)
             and isinstance(node.func, ast.Attribute) and node.func.attr == "system"]
    assert calls == []
    # history imports every revision file: had the message become code, it would run here
    history = run_cli("--config", str(ini), "--format", "json", "history", env=env)
    assert history.returncode == 0, history.stderr
    [entry] = json.loads(history.stdout)["revisions"]
    assert "os.system" in entry["message"]
    assert not marker.exists()


TERMINAL_ATTACK = revision("e1", None, 'raise RuntimeError("boom \\x1b[2J\\x1b]0;pwned\\x07 \\r hidden")')
TERMINAL_ATTACK = TERMINAL_ATTACK.replace('"""revision e1"""', '"""evil \\x1b]0;pwned\\x07 title \\x1b[2J clear"""')


def test_control_characters_never_reach_the_terminal(database, tmp_path):
    ini = make_project(tmp_path / "project", {"e1_evil.py": TERMINAL_ATTACK})
    env = database.env()
    env["MIGRATION_BACKUP_DIR"] = str(tmp_path / "backups")
    outputs = [run_cli("--config", str(ini), "upgrade", env=env)]          # fails: the error is shown
    assert outputs[0].returncode == 1
    for command in ("history", "status", "current"):
        outputs.append(run_cli("--config", str(ini), command, env=env))
        assert outputs[-1].returncode == 0, outputs[-1].stderr
    assert "evil ]0;pwned" not in outputs[1].stdout and "evil  title  clear" in outputs[1].stdout
    assert "boom" in outputs[0].stdout
    for result in outputs:
        for control in ("\x1b", "\x07", "\r"):
            assert control not in result.stdout and control not in result.stderr
    # JSON keeps the data exact, escaped (json.dumps writes \u001b, never the raw character)
    as_json = run_cli("--config", str(ini), "--format", "json", "history", env=env)
    assert "\x1b" not in as_json.stdout
    [entry] = json.loads(as_json.stdout)["revisions"]
    assert "\x1b]0;pwned\x07" in entry["message"]


# -- issue 21.5: children get only what they need -------------------------------------------------

BACKUP_KEY = "k3y-" + "b" * 40
READ_TOKEN = "read-token-" + "r" * 30
ADMIN_TOKEN = "admin-token-" + "a" * 30
UNRELATED = "unrelated-cloud-secret-" + "u" * 20


def test_every_child_process_gets_an_allow_listed_environment(database, tmp_path):
    import shutil

    ini = make_project(tmp_path / "project", {"a1_base.py": BASE}, transaction_per_migration=True)
    dumps = tmp_path / "environments"
    bin_dir = spying_tools(tmp_path / "bin", dumps)
    zstd = bin_dir / "zstd"       # the compressor, its -V probe and the decompressor, spied the same way
    zstd.write_text(f"#!/bin/sh\ntr '\\0' '\\n' < /proc/$$/environ > '{dumps}/zstd.'$$\nexec '{shutil.which('zstd')}' \"$@\"\n")
    zstd.chmod(0o755)
    env = database.env()
    env.update(MIGRATION_BACKUP_DIR=str(tmp_path / "backups"), MIGRATION_PG_BIN_DIR=str(bin_dir),
               MIGRATION_BACKUP_FORMAT="custom-zstd", MIGRATION_BACKUP_KEY=BACKUP_KEY,
               MIGRATION_API_TOKEN=READ_TOKEN, MIGRATION_API_ADMIN_TOKEN=ADMIN_TOKEN,
               AWS_SECRET_ACCESS_KEY=UNRELATED, PGPASSWORD=APP_PASSWORD, LC_ALL="C.UTF-8", TZ="UTC")

    upgraded = run_cli("--config", str(ini), "upgrade", env=env)
    assert upgraded.returncode == 0, upgraded.stdout + upgraded.stderr
    restored = run_cli("--config", str(ini), "restore", "--backup", "latest", "--yes", env=env)
    assert restored.returncode == 0, restored.stdout + restored.stderr

    environments = {path.name: dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
                    for path in dumps.iterdir()}
    assert {name.split(".")[0] for name in environments} == {"pg_dump", "pg_restore", "psql", "zstd"}
    for name, variables in environments.items():
        values = "\n".join(variables.values())
        for secret in (BACKUP_KEY, READ_TOKEN, ADMIN_TOKEN, UNRELATED):
            assert secret not in values, (name, variables)
        assert not {"MIGRATION_BACKUP_KEY", "MIGRATION_API_TOKEN", "MIGRATION_API_ADMIN_TOKEN",
                    "AWS_SECRET_ACCESS_KEY", "POSTGRES_PASSWORD"} & set(variables), (name, variables)
        assert variables.get("LC_ALL") == "C.UTF-8" and variables.get("TZ") == "UTC", (name, variables)
        if name.startswith("zstd"):
            assert "PGPASSWORD" not in variables, variables
    # the spy saw a connecting tool's password, so it would have seen the others too
    assert any(variables.get("PGPASSWORD") == APP_PASSWORD for name, variables in environments.items()
               if name.startswith("pg_dump"))
    assert len([name for name in environments if name.startswith("zstd")]) >= 3   # -V, compress, decompress


# -- issue 21.4: every secret is masked, not only the password -----------------------------------

LEAKY_SECRETS = '''"""leaks every secret it can find"""
import base64, os
from pathlib import Path
from urllib.parse import quote
from alembic import op

revision = "b2"
down_revision = "a1"
branch_labels = None
depends_on = None


def encodings(secret):
    raw = secret.encode()
    return [secret, quote(secret, safe=""), quote(quote(secret, safe=""), safe=""), base64.b64encode(raw).decode(),
            "Basic " + base64.b64encode(b"deploy:" + raw).decode(), "Basic " + base64.b64encode(b"ci:" + raw).decode(),
            raw.hex()]


def upgrade():
    key = os.environ.get("MIGRATION_BACKUP_KEY") or Path(os.environ["MIGRATION_BACKUP_KEY_FILE"]).read_text().strip()
    leaked = [form for secret in (key, os.environ["MIGRATION_API_TOKEN"], os.environ["MIGRATION_API_ADMIN_TOKEN"])
              for form in encodings(secret)]
    print("printed:", *leaked)
    op.execute("CREATE TABLE leaked (id int)")
    raise RuntimeError("raised: " + " ".join(leaked))


def downgrade():
    pass
'''


def secret_forms(secret: str) -> set:
    import base64

    raw = secret.encode()
    forms = {secret, quote(secret, safe=""), quote(quote(secret, safe=""), safe=""), raw.hex()}
    for prefix in (b"", b"deploy:", b"ci:"):   # the base64 text that carries the secret's bits
        encoded = base64.b64encode(prefix + raw).decode()
        forms.add(encoded[-(-8 * len(prefix) // 6):(8 * (len(prefix) + len(raw))) // 6])
    return forms


def assert_no_secret(texts: dict, secrets: list) -> None:
    for where, text in texts.items():
        for secret in secrets:
            for form in secret_forms(secret):
                assert form not in text, f"{form!r} (a form of a secret) reached {where}: {text[:300]}"


@pytest.mark.parametrize("key_source", ["MIGRATION_BACKUP_KEY", "key file"])
def test_the_backup_key_and_tokens_are_masked_everywhere(database, tmp_path, start_service, key_source):  # noqa: F811
    ini = make_project(tmp_path / "project", {"a1_base.py": BASE, "b2_leaky.py": LEAKY_SECRETS},
                       transaction_per_migration=True)      # a1 commits, so the failure restores
    log_file = tmp_path / "runs.jsonl"
    env = database.env()
    env.update(MIGRATION_BACKUP_DIR=str(tmp_path / "backups"), MIGRATION_API_TOKEN=READ_TOKEN,
               MIGRATION_API_ADMIN_TOKEN=ADMIN_TOKEN, MIGRATION_LOG_FILE=str(log_file))
    if key_source == "MIGRATION_BACKUP_KEY":
        env["MIGRATION_BACKUP_KEY"] = BACKUP_KEY
    else:
        key_file = tmp_path / "backup.key"
        key_file.write_text(BACKUP_KEY + "\n")
        key_file.chmod(0o600)
        env["MIGRATION_BACKUP_KEY_FILE"] = str(key_file)
    secrets = [BACKUP_KEY, READ_TOKEN, ADMIN_TOKEN]

    as_text = run_cli("--config", str(ini), "upgrade", env=env)
    as_json = run_cli("--config", str(ini), "--format", "json", "upgrade", env=env)
    for result in (as_text, as_json):
        assert result.returncode == 1, result.stdout + result.stderr
    assert json.loads(as_json.stdout)["status"] == "failed-restored"
    assert "raised: ***" in as_json.stdout and "printed: ***" in as_text.stdout + as_text.stderr  # leaked, masked
    errors = [error for error in history_errors(database) if error]
    assert errors and all("raised: ***" in error for error in errors)
    assert_no_secret({"text stdout": as_text.stdout, "text stderr": as_text.stderr, "json stdout": as_json.stdout,
                      "json stderr": as_json.stderr, "the log file": log_file.read_text(),
                      "migration_history.error": "\n".join(errors)}, secrets)

    service = start_service(env, ini, secrets)
    runs = service.call("POST", "/api/v1/migrations/migrate", ADMIN_TOKEN, {"target_version": "head"})
    assert runs.status == 202, runs.text
    finished = service.wait_for_run(runs.body["url"], READ_TOKEN)
    assert finished["state"] != "running"
    answers = {}
    for path in ["/api/v1/migrations/status", "/api/v1/migrations/history", "/api/v1/migrations/health",
                 "/api/v1/migrations/validate", "/api/v1/backups", "/api/v1/runs", "/api/v1/whoami", "/metrics",
                 runs.body["url"]]:
        answer = service.call("GET", path, READ_TOKEN)
        assert answer.status in (200, 503), (path, answer.text)
        answers[path] = answer.text + str(answer.headers)
    assert "raised: ***" in answers[runs.body["url"]] and "raised: ***" in answers["/api/v1/migrations/history"]
    assert_no_secret(answers, secrets)
