"""Service mode end to end: a real server process (the CLI's `serve`) on a free loopback port,
real PostgreSQL, real Alembic projects, plain HTTP from the test; the dashboard in Debian's
headless chromium through selenium."""
from __future__ import annotations

import http.client
import json
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from alembic_projects import make_project, revision
from harness import REPO_ROOT, fingerprint, run_cli, wait_for
from migration_safety.service.auth import token_hash

CLI = [sys.executable, str(REPO_ROOT / "migrations" / "migration_utils.py")]
AGENT = "deploy-pipeline/1.0 (test)"

BASE = revision("a1", None, """
    op.execute("CREATE TABLE crops (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL)")
    op.execute("INSERT INTO crops (name) VALUES ('maize'), ('cassava')")
""", 'op.execute("DROP TABLE crops")')
INDEXED = revision("b2", "a1", 'op.create_index("ix_crops_name", "crops", ["name"])',
                   'op.drop_index("ix_crops_name")')        # a warning finding: create-index-without-concurrently
SECOND = revision("b2", "a1", """
    op.execute("CREATE TABLE yields (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, kg numeric)")
    op.execute("INSERT INTO crops (name) VALUES ('rice')")
""", 'op.execute("DROP TABLE yields")')
FAILING = revision("c3", "b2", """
    op.execute("CREATE TABLE doomed (id int)")
    op.execute("INSERT INTO crops (name) VALUES (NULL)")
""", 'op.execute("DROP TABLE doomed")')
HARMLESS = revision("c3", "b2", 'op.execute("CREATE TABLE harvests (id int)")', 'op.execute("DROP TABLE harvests")')
# Waits for an advisory lock the test holds: the run stays in its migration exactly as long as the
# test wants, whatever the machine's speed.
GATE_KEY = 424242
GATED = revision("b2", "a1", f"""
    op.execute("CREATE TABLE yields (id int)")
    op.execute("SELECT pg_advisory_lock({GATE_KEY})")
    op.execute("SELECT pg_advisory_unlock({GATE_KEY})")
""", 'op.execute("DROP TABLE yields")')


def project_at_a1(tmp_path: Path, env: dict, revisions: dict, *, per_migration: bool = False) -> Path:
    ini = make_project(tmp_path / "project", {"a1_base.py": BASE, **revisions},
                       transaction_per_migration=per_migration)
    done = run_cli("--config", str(ini), "upgrade", "--revision", "a1", env=env)
    assert done.returncode == 0, done.stderr + done.stdout
    return ini


@dataclass
class Answer:
    status: int
    body: object
    text: str
    headers: object          # case-insensitive, as HTTP's are


@dataclass
class Service:
    url: str
    process: subprocess.Popen
    log: Path
    secrets: list = field(default_factory=list)

    def call(self, method: str, path: str, token: str | None = None, body=None, *, raw: bytes | None = None,
             headers: dict | None = None) -> Answer:
        request = urllib.request.Request(self.url + path, method=method, headers={"User-Agent": AGENT, **(headers or {})})
        if token is not None:
            request.add_header("Authorization", f"Bearer {token}")
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, data=data, timeout=120) as response:
                status, text, answer_headers = response.status, response.read().decode(), response.headers
        except urllib.error.HTTPError as error:
            status, text, answer_headers = error.code, error.read().decode(), error.headers
        for secret in self.secrets:                  # a token is never echoed, whatever the answer
            assert secret not in text and secret not in str(answer_headers)
        try:
            body = json.loads(text)
        except ValueError:
            body = None
        return Answer(status, body, text, answer_headers)

    def wait_for_run(self, url: str, token: str, timeout: float = 120) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            answer = self.call("GET", url, token)
            assert answer.status == 200, answer.text
            if answer.body["state"] != "running":
                return answer.body
            assert time.monotonic() < deadline, f"run still running: {answer.body}"
            time.sleep(0.2)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def start_service(tmp_path):
    """Starts `serve` with the given environment; at the end stops it and checks its log: no
    token, no password, no traceback."""
    started = []

    def start(env: dict, ini: Path, tokens: list) -> Service:
        port = free_port()
        log = tmp_path / f"service_{port}.log"
        with open(log, "wb") as sink:
            process = subprocess.Popen(CLI + ["--config", str(ini), "serve", "--port", str(port)], env=env,
                                       cwd=REPO_ROOT, stdout=sink, stderr=subprocess.STDOUT)
        service = Service(f"http://127.0.0.1:{port}", process, log, [t for t in tokens if t])
        started.append((service, env))
        deadline = time.monotonic() + 30
        while True:
            try:
                if service.call("GET", "/healthz").status == 200:
                    return service
            except OSError:
                pass
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)

    yield start
    for service, env in started:
        service.process.terminate()
        service.process.wait(timeout=60)
        text = service.log.read_text()
        for secret in service.secrets + [env["POSTGRES_PASSWORD"]]:
            assert secret not in text, "a secret reached the service's log"
        assert "Traceback" not in text, text


def tokens_env(env: dict, tmp_path: Path) -> tuple[dict, str, str]:
    """A read token in the environment and a write token named deploy-bot in a tokens file."""
    read, write = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    tokens_file = tmp_path / "tokens.json"
    tokens_file.write_text(json.dumps({"deploy-bot": {"scope": "write", "sha256": token_hash(write)}}))
    return {**env, "MIGRATION_API_TOKEN": read, "MIGRATION_API_TOKENS_FILE": str(tokens_file)}, read, write


READ_ENDPOINTS = ["/api/v1/migrations/status", "/api/v1/migrations/history", "/api/v1/migrations/health",
                  "/api/v1/migrations/validate", "/api/v1/backups", "/api/v1/runs", "/api/v1/whoami", "/metrics"]


def test_every_endpoint_by_token_and_the_audit_trail(database, env, tmp_path, start_service):
    ini = project_at_a1(tmp_path, env, {"b2_indexed.py": INDEXED, "c3_harmless.py": HARMLESS})
    environment, read, write = tokens_env(env, tmp_path)
    service = start_service(environment, ini, [read, write])
    wrong = secrets.token_urlsafe(24)
    service.secrets.append(wrong)

    assert service.call("GET", "/healthz").body == {"status": "ok"}          # a bare liveness probe
    for path in READ_ENDPOINTS:
        for token, expected in ((None, 401), (wrong, 401), ("", 401), (read, 200), (write, 200)):
            answer = service.call("GET", path, token)
            assert answer.status == expected, (path, token == read, answer.text)
            if expected == 401:
                assert answer.body == {"error": "missing or wrong bearer token"}
                assert answer.headers["WWW-Authenticate"] == "Bearer"
    assert service.call("GET", "/api/v1/whoami", read).body["scope"] == "read"
    assert service.call("GET", "/api/v1/whoami", write).body == {"token": "deploy-bot", "scope": "write",
                                                                 "write_enabled": True, "database": database.name}

    # the same documents as --format json
    for path, argv in (("/api/v1/migrations/status", ["status"]), ("/api/v1/migrations/validate", ["validate"]),
                       ("/api/v1/migrations/health", ["health"]), ("/api/v1/backups", ["backups", "list"])):
        cli = run_cli("--config", str(ini), "--format", "json", *argv, env=env)
        printed = json.loads(cli.stdout)
        printed.pop("acting_on")         # the CLI says which config it found; the service was given one
        # the free disk space moves between the two calls whenever anything else writes
        assert without_free_space(service.call("GET", path, read).body) == without_free_space(printed), path
    status = service.call("GET", "/api/v1/migrations/status", read).body
    assert status["current"] == ["a1"] and len(status["pending"]) == 2

    writes = [("/api/v1/migrations/migrate", {"target_version": "head", "dry_run": True}),
              ("/api/v1/migrations/rollback/base", {"dry_run": True}),
              ("/api/v1/backups", None),
              ("/api/v1/migrations/migrate", {"target_version": "b2"})]
    outcomes = []
    for path, body in writes:
        for token, expected in ((None, 401), (wrong, 401), (read, 403)):
            answer = service.call("POST", path, token, body)
            assert answer.status == expected, (path, answer.text)
        answer = service.call("POST", path, write, body)
        assert answer.status == 202, answer.text
        assert answer.headers["Location"] == answer.body["url"] == f"/api/v1/runs/{answer.body['run_id']}"
        run = service.wait_for_run(answer.body["url"], read)
        assert run["state"] == "finished", run
        assert run["requested_by"] == {"token": "deploy-bot", "client": "127.0.0.1", "user_agent": AGENT}
        outcomes.append(run["outcome"])
    assert outcomes == ["dry-run", "dry-run", "backed-up", "applied"]
    assert database.sql("SELECT version_num FROM alembic_version") == [("b2",)]
    assert {row[0] for row in database.sql("SELECT indexname FROM pg_indexes WHERE tablename = 'crops'")} >= {
        "ix_crops_name"}

    # every write call is in the run record, with the token's name, address and agent; history shows it
    recorded = database.sql("SELECT direction, outcome, api_token_name, client_address, user_agent"
                            " FROM migration_safety.migration_history WHERE api_token_name IS NOT NULL ORDER BY id")
    assert [(d, o) for d, o, *_ in recorded] == [("upgrade", "dry-run"), ("downgrade", "dry-run"),
                                                 ("backup", "backed-up"), ("upgrade", "applied")]
    assert {tuple(row[2:]) for row in recorded} == {("deploy-bot", "127.0.0.1", AGENT)}
    history = json.loads(run_cli("--config", str(ini), "--format", "json", "history", env=env).stdout)
    [b2] = [r for r in history["revisions"] if r["revision"] == "b2"]
    assert "via token deploy-bot from 127.0.0.1" in b2["last_run"]["by"]
    text = run_cli("--config", str(ini), "history", env=env).stdout
    assert "via token deploy-bot" in text
    everything = json.dumps(database.sql("SELECT * FROM migration_safety.migration_history"), default=str)
    assert read not in everything and write not in everything


def test_a_failed_migrate_restores_and_is_followed_through_its_run(database, env, tmp_path, start_service):
    ini = project_at_a1(tmp_path, env, {"b2_second.py": SECOND, "c3_failing.py": FAILING}, per_migration=True)
    before = fingerprint(database)
    environment, read, write = tokens_env(env, tmp_path)
    service = start_service(environment, ini, [read, write])
    answer = service.call("POST", "/api/v1/migrations/migrate", write, {"target_version": "head"})
    assert answer.status == 202, answer.text
    run = service.wait_for_run(answer.body["url"], read)
    assert run["state"] == "finished" and run["outcome"] == "failed-restored" and run["exit_code"] == 1, run
    result = run["result"]
    assert result["status"] == "failed-restored" and result["committed_before_failure"] is True
    assert "b2 -> c3" in result["failed_step"] and "schema and revision verified" in result["message"]
    texts = [step["text"] for step in run["steps"]]
    assert any(text.startswith("Backup verified") for text in texts), texts
    assert any("restoring" in text for text in texts), texts
    assert result["restore_seconds"] > 0
    assert fingerprint(database) == before

    # the metrics, parsed by prometheus_client's own parser
    from prometheus_client.parser import text_string_to_metric_families

    answer = service.call("GET", "/metrics", read)
    assert answer.status == 200 and answer.headers["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            samples[(sample.name, sample.labels.get("outcome"))] = sample.value
            assert sample.labels["database"] == database.name
    assert samples[("migration_safety_runs_total", "failed-restored")] == 1
    assert samples[("migration_safety_runs_total", "applied")] == 1             # the CLI's upgrade to a1
    assert samples[("migration_safety_pending_revisions", None)] == 2
    assert samples[("migration_safety_drift", None)] == 0
    assert samples[("migration_safety_interrupted_run_pending", None)] == 0
    assert samples[("migration_safety_run_in_progress", None)] == 0
    assert samples[("migration_safety_last_run_restore_duration_seconds", None)] == pytest.approx(
        result["restore_seconds"])
    assert samples[("migration_safety_last_run_duration_seconds", None)] == pytest.approx(result["duration_seconds"])
    assert 0 <= samples[("migration_safety_last_verified_backup_age_seconds", None)] < 600


def test_one_run_at_a_time_and_reads_answered_while_it_runs(database, env, tmp_path, start_service):
    env = {**env, "MIGRATION_LOCK_TIMEOUT": "0"}            # the gate below is a lock wait: no timeout
    ini = project_at_a1(tmp_path, env, {"b2_gated.py": GATED, "c3_harmless.py": HARMLESS})
    environment, read, write = tokens_env(env, tmp_path)
    service = start_service(environment, ini, [read, write])
    gate = database.connect()
    try:
        gate.cursor().execute("SELECT pg_advisory_lock(%s)", (GATE_KEY,))
        first = service.call("POST", "/api/v1/migrations/migrate", write, {"target_version": "head"})
        assert first.status == 202, first.text
        deadline = time.monotonic() + 60
        while not database.sql("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                               " AND query LIKE %s", (f"SELECT pg_advisory_lock({GATE_KEY})%",))[0][0]:
            assert time.monotonic() < deadline, service.call("GET", first.body["url"], read).text
            time.sleep(0.1)
        running = service.call("GET", first.body["url"], read).body
        assert running["state"] == "running" and running["result"] is None
        assert any(step["text"].startswith("Running alembic upgrade") for step in running["steps"]), running

        for path, body in (("/api/v1/migrations/migrate", {"target_version": "head"}), ("/api/v1/backups", None),
                           ("/api/v1/migrations/rollback/base", {"dry_run": False})):
            busy = service.call("POST", path, write, body)
            assert busy.status == 409, busy.text
            assert busy.body["running"]["run_id"] == first.body["run_id"] and first.body["run_id"] in busy.body["error"]

        with ThreadPoolExecutor(max_workers=50) as pool:
            answers = list(pool.map(lambda _: service.call("GET", "/api/v1/migrations/status", read), range(50)))
        assert [a.status for a in answers] == [200] * 50, [a.text for a in answers if a.status != 200][:3]
        assert all(a.body["current"] == ["a1"] for a in answers)      # the migration has not committed yet
    finally:
        gate.close()                                                  # opens the gate
    run = service.wait_for_run(first.body["url"], read)
    assert run["outcome"] == "applied", run
    assert database.sql("SELECT version_num FROM alembic_version") == [("c3",)]
    # and a new run is accepted again
    again = service.call("POST", "/api/v1/migrations/migrate", write, {"target_version": "head", "dry_run": True})
    assert again.status == 202
    assert service.wait_for_run(again.body["url"], read)["outcome"] == "dry-run"


def test_stopping_the_service_finishes_the_running_run(database, env, tmp_path, start_service):
    env = {**env, "MIGRATION_LOCK_TIMEOUT": "0"}
    ini = project_at_a1(tmp_path, env, {"b2_gated.py": GATED, "c3_harmless.py": HARMLESS})
    environment, read, write = tokens_env(env, tmp_path)
    service = start_service(environment, ini, [read, write])
    gate = database.connect()
    try:
        gate.cursor().execute("SELECT pg_advisory_lock(%s)", (GATE_KEY,))
        assert service.call("POST", "/api/v1/migrations/migrate", write, {"target_version": "head"}).status == 202
        deadline = time.monotonic() + 60
        while not database.sql("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                               " AND query LIKE %s", (f"SELECT pg_advisory_lock({GATE_KEY})%",))[0][0]:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        service.process.terminate()                 # SIGTERM while the migration waits at the gate
        with pytest.raises(subprocess.TimeoutExpired):
            service.process.wait(timeout=2)          # it does not leave the run halfway
    finally:
        gate.close()
    # uvicorn ends by the signal it was stopped with, once the run finished
    assert service.process.wait(timeout=60) == -signal.SIGTERM
    assert database.sql("SELECT version_num FROM alembic_version") == [("c3",)]
    assert database.sql("SELECT DISTINCT outcome FROM migration_safety.migration_history"
                        " WHERE api_token_name = 'deploy-bot'") == [("applied",)]
    assert "waiting for run" in service.log.read_text()


def test_bad_input_is_a_4xx_json_error_never_a_500(database, env, tmp_path, start_service):
    ini = project_at_a1(tmp_path, env, {"b2_second.py": SECOND})
    before = fingerprint(database)
    environment, read, write = tokens_env(env, tmp_path)
    service = start_service(environment, ini, [read, write])
    migrate = "/api/v1/migrations/migrate"
    cases = [
        ("POST", migrate, b"{not json", 422),
        ("POST", migrate, b'{"target_version": "head", "dry_run": "yes"}', 422),
        ("POST", migrate, b'{"target_version": "head", "surprise": 1}', 422),
        ("POST", migrate, b'["head"]', 422),
        ("POST", migrate, b'{"target_version": ""}', 422),
        ("POST", migrate, b'{"target_version": "nosuchrevision"}', 422),
        ("POST", "/api/v1/migrations/rollback/nosuchrevision", b"{}", 422),
        ("POST", migrate, b'{"target_version": "' + b"x" * 40_000 + b'"}', 413),
        ("GET", "/api/v1/runs/00000000-0000-0000-0000-000000000000", None, 404),
        ("GET", "/api/v1/nowhere", None, 404),
        ("DELETE", "/api/v1/backups", None, 405),
    ]
    for method, path, raw, expected in cases:
        answer = service.call(method, path, write, raw=raw)
        assert answer.status == expected, (path, raw and raw[:60], answer.text)
        assert answer.headers["Content-Type"] == "application/json" and isinstance(answer.body["error"], str), \
            answer.text
    assert "nosuchrevision" in service.call("POST", migrate, write, {"target_version": "nosuchrevision"}).body["error"]

    # a chunked body (no Content-Length) over the limit is cut off while it arrives
    connection = http.client.HTTPConnection(service.url.removeprefix("http://"), timeout=30)
    connection.request("POST", migrate, body=iter([b'{"target_version": "', b"y" * 60_000, b'"}']),
                       headers={"Authorization": f"Bearer {write}", "Content-Type": "application/json"},
                       encode_chunked=True)
    response = connection.getresponse()
    assert response.status == 413 and "error" in json.loads(response.read())
    connection.close()
    assert fingerprint(database) == before                   # nothing ran


def test_a_run_the_pipeline_refuses_is_audited_and_backups_create_from_the_cli(database, env, tmp_path,
                                                                              start_service):
    unsafe = revision("b2", "a1", 'op.drop_table("crops")')              # an error finding: data loss
    ini = project_at_a1(tmp_path, env, {"b2_unsafe.py": unsafe})
    environment, read, write = tokens_env(env, tmp_path)
    service = start_service(environment, ini, [read, write])
    answer = service.call("POST", "/api/v1/migrations/migrate", write, {"target_version": "head"})
    run = service.wait_for_run(answer.body["url"], read)
    assert run["state"] == "failed" and run["exit_code"] == 3 and run["result"] is None, run
    assert "validation found 1 error(s)" in run["error"]["message"]
    # The service writes this audit row just after it shows the run failed (a busy machine shows the gap)
    audited = wait_for(lambda: database.sql("SELECT direction, outcome, revision, api_token_name FROM"
                                            " migration_safety.migration_history WHERE api_token_name IS NOT NULL"),
                       "the refused run's audit row")
    assert audited == [("upgrade", "error", None, "deploy-bot")]
    assert database.sql("SELECT version_num FROM alembic_version") == [("a1",)]

    made = run_cli("--config", str(ini), "--format", "json", "backups", "create", env=env)
    assert made.returncode == 0, made.stderr
    backup = json.loads(made.stdout)
    assert Path(backup["backup"]).is_file() and backup["revision"] == ["a1"]
    assert database.sql("SELECT outcome, backup_file, api_token_name FROM migration_safety.migration_history"
                        " WHERE direction = 'backup'") == [("backed-up", backup["backup"], None)]


def test_a_read_only_service_and_health_503_on_drift(database, env, tmp_path, start_service):
    ini = project_at_a1(tmp_path, env, {"b2_second.py": SECOND})
    read = secrets.token_urlsafe(24)
    service = start_service({**env, "MIGRATION_API_TOKEN": read}, ini, [read])
    assert service.call("GET", "/api/v1/whoami", read).body["write_enabled"] is False
    answer = service.call("POST", "/api/v1/migrations/migrate", read, {"target_version": "head"})
    assert answer.status == 403 and "disabled" in answer.body["error"]
    assert database.sql("SELECT version_num FROM alembic_version") == [("a1",)]

    assert service.call("GET", "/api/v1/migrations/health", read).status == 200
    applied = tmp_path / "project" / "alembic" / "versions" / "a1_base.py"
    applied.write_text(applied.read_text() + "\n# edited after it was applied\n")
    health = service.call("GET", "/api/v1/migrations/health", read)
    assert health.status == 503 and health.body["healthy"] is False
    assert [c["status"] for c in health.body["checks"] if c["check"] == "drift"] == ["fail"]
    from prometheus_client.parser import text_string_to_metric_families
    [drift] = [f for f in text_string_to_metric_families(service.call("GET", "/metrics", read).text)
               if f.name == "migration_safety_drift"]
    assert drift.samples[0].value == 1


def test_no_token_refuses_to_start_and_another_address_warns_about_tls(database, env, tmp_path):
    ini = make_project(tmp_path / "project", {"a1_base.py": BASE})
    refused = run_cli("--config", str(ini), "serve", "--port", str(free_port()), env=env, timeout=60)
    assert refused.returncode == 2
    # after the two lines saying which config and database it would serve: one error line
    assert refused.stderr.splitlines()[-1].startswith("error: the service needs at least one API token")
    assert sum(line.startswith("error:") for line in refused.stderr.splitlines()) == 1

    # TEST-NET-1 (RFC 5737) is on no machine: the warning is printed, then binding fails; no traffic
    token = secrets.token_urlsafe(24)
    other = run_cli("--config", str(ini), "serve", "--host", "192.0.2.1", "--port", str(free_port()),
                    env={**env, "MIGRATION_API_TOKEN": token}, timeout=60)
    assert "warning: serving on 192.0.2.1, not a loopback address" in other.stderr
    assert "terminate TLS in front of this service" in other.stderr
    assert other.returncode != 0 and token not in other.stderr + other.stdout


def _browser():
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        pytest.skip("Debian's chromium and chromium-driver are not installed (scripts/bootstrap.sh installs them)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service as DriverService

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--no-first-run", "--disable-extensions"):
        options.add_argument(argument)
    # a phone's viewport (a desktop window cannot be made this narrow)
    options.add_experimental_option("mobileEmulation", {"deviceMetrics": {"width": 390, "height": 1200,
                                                                          "pixelRatio": 1}})
    return webdriver.Chrome(service=DriverService(executable_path=driver), options=options)


def test_dashboard_in_a_headless_browser(database, env, tmp_path, start_service):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    ini = project_at_a1(tmp_path, env, {"b2_indexed.py": INDEXED})
    environment, read, write = tokens_env(env, tmp_path)
    service = start_service(environment, ini, [read, write])
    browser = _browser()
    try:
        wait = WebDriverWait(browser, 60)
        browser.get(service.url + "/")
        assert browser.execute_script("return window.innerWidth") == 390
        wait.until(EC.visibility_of_element_located((By.ID, "token"))).send_keys(write)
        browser.find_element(By.CSS_SELECTOR, "#login button").click()
        pending = wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, "#pending-list .revision")))
        wait.until(lambda _: "create-index-without-concurrently" in pending.text)
        assert "b2" in pending.text and "revision b2" in pending.text
        assert "a1" in browser.find_element(By.ID, "state-list").text

        browser.find_element(By.ID, "dry-run").click()
        wait.until(EC.alert_is_present()).accept()           # the confirmation
        plan = wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, "#run-result #plan")))
        assert "a1 -> b2" in plan.text
        assert "dry-run" in browser.find_element(By.ID, "run-title").text
        assert "CREATE INDEX ix_crops_name" in browser.find_element(By.CSS_SELECTOR, "#run-result pre").text
        # the page fits the phone's width: nothing forces a horizontal scroll of the whole page
        width = browser.execute_script("return window.innerWidth")
        overflowing = browser.execute_script(
            "return [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > "
            "window.innerWidth + 1).map(e => e.tagName + '#' + e.id + '.' + e.className).slice(0, 5)")
        assert browser.execute_script("return document.documentElement.scrollWidth") <= width + 1, overflowing
        screenshot = tmp_path / "dashboard.png"
        browser.save_screenshot(str(screenshot))
        print(f"dashboard screenshot: {screenshot}")
        assert screenshot.stat().st_size > 10_000
        assert not [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    finally:
        browser.quit()
    assert database.sql("SELECT version_num FROM alembic_version") == [("a1",)]   # a dry run changed nothing


def without_free_space(document: dict) -> dict:
    """``document`` with health's "N GB free" figures blanked."""
    return json.loads(re.sub(r"[0-9.]+ GB free", "N GB free", json.dumps(document)))


# -- issue 21.9: the service's audit cannot be forged ---------------------------------------------

def audited_addresses(database) -> list:
    return [row[0] for row in database.sql("SELECT client_address FROM migration_safety.migration_history"
                                           " WHERE api_token_name IS NOT NULL ORDER BY id")]


@pytest.mark.parametrize("trusted", [None, "127.0.0.1"])
def test_x_forwarded_for_is_believed_only_from_a_trusted_proxy(database, env, tmp_path, start_service, trusted):
    ini = project_at_a1(tmp_path, env, {"b2_second.py": SECOND})
    environment, read, write = tokens_env(env, tmp_path)
    if trusted:
        environment["MIGRATION_SERVICE_TRUSTED_PROXIES"] = f"{trusted},10.0.0.0/8"
    service = start_service(environment, ini, [read, write])
    clients = []
    for forwarded in ("203.0.113.9", "198.51.100.7, 10.1.2.3", "not-an-address"):
        answer = service.call("POST", "/api/v1/migrations/migrate", write, {"target_version": "head", "dry_run": True},
                              headers={"X-Forwarded-For": forwarded})
        assert answer.status == 202, answer.text
        clients.append(service.wait_for_run(answer.body["url"], read)["requested_by"]["client"])
    if trusted:   # the proxy's word, the nearest address that is not a trusted proxy, a malformed chain ignored
        assert clients == ["203.0.113.9", "198.51.100.7", "127.0.0.1"]
    else:         # nobody's word: the connection's own address
        assert clients == ["127.0.0.1"] * 3
    # the audit rows (written just after a run ends) hold the same addresses, never a forged one
    assert set(audited_addresses(database)) <= set(clients) and audited_addresses(database)


def test_a_token_in_the_query_string_is_refused_and_never_logged(database, env, tmp_path, start_service):
    ini = project_at_a1(tmp_path, env, {})
    environment, read, write = tokens_env(env, tmp_path)
    service = start_service(environment, ini, [read, write])   # the fixture: no token in any answer nor the log
    for path, token in (("/api/v1/migrations/status?token=" + read, None), ("/metrics?access_token=" + write, None),
                        ("/api/v1/migrations/status?api_key=" + write, read), ("/api/v1/whoami?x=1", read)):
        answer = service.call("GET", path, token)
        assert answer.status == 400 and "Authorization: Bearer" in answer.body["error"], (path, answer.text)
    answer = service.call("POST", "/api/v1/migrations/migrate?token=" + write, None, {"dry_run": True})
    assert answer.status == 400
    assert database.sql("SELECT count(*) FROM migration_safety.migration_history WHERE api_token_name IS NOT NULL"
                        ) == [(0,)]
    assert '"GET /api/v1/migrations/status" 400' in service.log.read_text()    # logged, without its query


def test_every_form_of_target_goes_through_the_same_check(database, env, tmp_path, start_service):
    ini = project_at_a1(tmp_path, env, {"b2_second.py": SECOND})
    environment, read, write = tokens_env(env, tmp_path)
    service = start_service(environment, ini, [read, write])
    for target in ("nobranch@head", "a1@nowhere", "nowhere@+1", "zz9x+1", "heads@head; DROP", "a1@head\nforged",
                   "x" * 300, "../../etc", ""):
        answer = service.call("POST", "/api/v1/migrations/migrate", write, {"target_version": target, "dry_run": True})
        assert answer.status == 422, (target, answer.text)
        rolled = service.call("POST", "/api/v1/migrations/rollback/" + urllib.request.quote(target, safe=""), write,
                              {"dry_run": True})
        assert rolled.status in (404, 405, 422), (target, rolled.text)
    assert database.sql("SELECT count(*) FROM migration_safety.migration_history WHERE api_token_name IS NOT NULL"
                        ) == [(0,)]
    for target in ("heads", "a1@head", "a1@+1", "b2", "a1+1"):
        answer = service.call("POST", "/api/v1/migrations/migrate", write, {"target_version": target, "dry_run": True})
        assert answer.status == 202, (target, answer.text)
        assert service.wait_for_run(answer.body["url"], read)["state"] != "running"
    assert database.sql("SELECT version_num FROM alembic_version") == [("a1",)]
