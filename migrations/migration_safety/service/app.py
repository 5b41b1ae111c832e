"""The HTTP surface: FastAPI routes over the Python API (``migration_safety.api``), answering the
documents ``--format json`` prints. Read endpoints need a read or write token, write endpoints a
write token; migrate, rollback and backup are runs (202 and a URL to follow, 409 while another
runs). Every error is a JSON object ``{"error": ...}``, never a traceback."""
from __future__ import annotations

import contextlib
import datetime as _dt
import json
import logging
import re
from pathlib import Path
from typing import Optional

import anyio
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, StrictBool
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import api
from ..base.errors import MigrationSafetyError
from ..base.redaction import displayable, mask
from ..face.render import json_text
from ..postgres.tools import connect
from ..sources.history import Actor, record_run
from .auth import Caller, TokenStore
from .metrics import CONTENT_TYPE, metrics_text
from .runs import RunInProgress, RunRegistry, RunState

log = logging.getLogger("migration_safety.service")

MAX_BODY_BYTES = 16 * 1024
STATIC = Path(__file__).resolve().parent / "static"
# The dashboard loads nothing from elsewhere and runs no inline script; no page may frame it.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
# Targets Alembic resolves without a revision file: head(s), base, relative steps.
_SYMBOLIC_TARGET = re.compile(r"^(heads?|base|[+-]\d+)$")
# What any revision target is made of (ids, branch labels, @, relative steps); nothing else gets as
# far as the run, its audit record or Alembic.
_TARGET_CHARACTERS = re.compile(r"^[A-Za-z0-9_.@+-]{1,200}$")
_RELATIVE_SUFFIX = re.compile(r"^(.+?)([+-]\d+)$")
# Credentials put in a URL end up in access logs, proxies' logs and browser histories.
_QUERY_REFUSED = "a query string is not accepted here: send a token only as 'Authorization: Bearer <token>', never in a URL"
# Outcomes whose run record the pipeline writes itself; the service records the others.
_RECORDED_BY_THE_PIPELINE = {"applied", "applied-not-fully-protected", "failed-rolled-back", "failed-restored", "failed-restored-rows-aside",
                             "failed-not-restored",
                             "failed-restore-failed", "backed-up"}


class ApiError(Exception):
    def __init__(self, status: int, message: str, **extra) -> None:
        super().__init__(message)
        self.status, self.message, self.extra = status, message, extra


class MigrateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    target_version: str = Field("head", min_length=1, max_length=200)
    dry_run: StrictBool = False
    allow_unsafe: StrictBool = False


class FleetRequest(BaseModel):
    """A fleet upgrade: the server's targets file (``fleet_targets``), or tenant schemas of its database."""
    model_config = ConfigDict(extra="forbid")
    target_version: str = Field("head", min_length=1, max_length=200)
    dry_run: StrictBool = False
    tenant_schemas: Optional[list[str]] = Field(None, min_length=1, max_length=10000)
    canary: int = Field(0, ge=0, le=10000)
    concurrency: int = Field(1, ge=1, le=64)
    on_failure: str = Field("stop", pattern="^(stop|continue)$")


class RollbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    dry_run: StrictBool = False


def _json(payload, status: int = 200, headers: Optional[dict] = None) -> Response:
    """A command's result exactly as ``--format json`` prints it (password masked)."""
    return Response(json_text(payload), status_code=status, media_type="application/json", headers=headers)


def _error(status: int, message: str, headers: Optional[dict] = None, **extra) -> JSONResponse:
    return JSONResponse({"error": mask(message), **extra}, status_code=status, headers=headers)


_MASKED_TYPES = ("application/json", "text/plain", "text/html")


async def _masked(response: Response) -> Response:
    """``response`` with every known secret masked in its body: the documents are masked when
    they are made, this holds for every route, present and future, whatever it returns."""
    if not response.headers.get("content-type", "").startswith(_MASKED_TYPES):
        return response
    body = b"".join([chunk async for chunk in response.body_iterator])
    masked = mask(body.decode("utf-8", "replace")).encode("utf-8")
    headers = {name: value for name, value in response.headers.items() if name.lower() != "content-length"}
    return Response(masked, status_code=response.status_code, headers=headers)


class BodyLimit:
    """Refuses bodies over ``limit`` bytes with 413 before the application sees them: by
    Content-Length when given, else (a chunked body) by counting while reading it. The API's
    bodies are small, so the body is read here whole and handed on."""

    def __init__(self, app, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            return await self._refuse(send)
        body, more = b"", True
        while more:
            message = await receive()
            if message["type"] != "http.request":           # the client went away
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.limit:
                return await self._refuse(send)
        handed_on = False

        async def replay():
            nonlocal handed_on
            if handed_on:
                return await receive()
            handed_on = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _refuse(self, send) -> None:
        body = json.dumps({"error": f"request body larger than {self.limit} bytes"}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


def client_address(request: Request, trusted_proxies: tuple = ()) -> Optional[str]:
    """Who is calling: the connection's peer, or — only when that peer is one of the proxies named
    in MIGRATION_SERVICE_TRUSTED_PROXIES — the address it says it forwards for (the nearest one in
    ``X-Forwarded-For`` that is not itself a trusted proxy). A header from anyone else is ignored:
    it would let a caller write any address into the audit trail."""
    import ipaddress

    peer = request.client.host if request.client else None
    if not peer or not _is_trusted(peer, trusted_proxies):
        return peer
    hops = [hop.strip() for header in request.headers.getlist("x-forwarded-for") for hop in header.split(",")]
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return peer                 # a malformed chain: keep what we know for certain
        if not _is_trusted(hop, trusted_proxies):
            return hop
    return peer


def _is_trusted(address: str, trusted_proxies: tuple) -> bool:
    import ipaddress

    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted_proxies)


def create_app(project, tokens: TokenStore, trusted_proxies: tuple = ()) -> FastAPI:
    runs = RunRegistry()

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        # at shutdown, before uvicorn re-raises the signal that stopped it: finish a running run
        await anyio.to_thread.run_sync(runs.wait_for_running)

    # /docs and /redoc would load Swagger UI and ReDoc from a CDN: off; /openapi.json describes the API
    app = FastAPI(title="migration-safety", version="1", docs_url=None, redoc_url=None, lifespan=lifespan,
                  description="Safe Alembic migrations for PostgreSQL over HTTP: status, migrate, rollback, "
                              "backups, runs. Bearer tokens with a read or a write scope.")
    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES)
    database = project.database.database

    # -- errors: JSON, one line, never a traceback ------------------------------------------------
    @app.exception_handler(ApiError)
    async def _api_error(request, exc: ApiError):
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return _error(exc.status, exc.message, headers, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request, exc: RequestValidationError):
        # location and message only: pydantic's own detail echoes the input back
        problems = [{"where": ".".join(str(part) for part in error.get("loc", ())), "problem": error.get("msg")}
                    for error in exc.errors()]
        return _error(422, "invalid request: " + "; ".join(f"{p['where']}: {p['problem']}" for p in problems),
                      problems=problems)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request, exc: StarletteHTTPException):
        return _error(exc.status_code, str(exc.detail))

    @app.exception_handler(MigrationSafetyError)
    async def _command_failed(request, exc: MigrationSafetyError):
        # the command could not answer with these settings or this database right now
        return _error(503, str(exc), hint=mask(exc.hint), exit_code=exc.exit_code)

    @app.exception_handler(Exception)
    async def _bug(request, exc: Exception):
        log.error("internal error on %s: %s", request.url.path, mask(f"{type(exc).__name__}: {exc}")[:300])
        return _error(500, f"internal error: {type(exc).__name__}")

    @app.middleware("http")
    async def _security_headers(request: Request, call_next):
        if request.url.query:
            response = _error(400, _QUERY_REFUSED)
        else:
            response = await _masked(await call_next(request))
        # the access log (uvicorn's own is off): who asked for which path, never a query string
        log.info('%s "%s %s" %d', client_address(request, trusted_proxies), request.method, request.url.path,
                 response.status_code)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    # -- who is calling --------------------------------------------------------------------------
    def reader(request: Request) -> Caller:
        caller = tokens.authenticate(request.headers.get("authorization"))
        if caller is None:
            raise ApiError(401, "missing or wrong bearer token")
        return caller

    def writer(caller: Caller = Depends(reader)) -> Caller:
        if not tokens.writable:
            raise ApiError(403, "write endpoints are disabled: no write token is configured")
        if not caller.can_write:
            raise ApiError(403, f"token {caller.name} has the read scope; this endpoint needs a write token")
        return caller

    def actor(request: Request, caller: Caller) -> Actor:
        agent = displayable(request.headers.get("user-agent", ""))[:200] or None
        return Actor(caller.name, client_address(request, trusted_proxies), agent)

    # -- liveness and the dashboard (no data without a token) ------------------------------------
    @app.get("/healthz", include_in_schema=False)
    def healthz():
        return {"status": "ok"}

    @app.get("/", include_in_schema=False)
    def dashboard():
        return FileResponse(STATIC / "index.html", media_type="text/html")

    @app.get("/static/{name}", include_in_schema=False)
    def static(name: str):
        files = {"dashboard.js": "text/javascript", "dashboard.css": "text/css"}
        if name not in files:
            raise ApiError(404, "not found")
        return FileResponse(STATIC / name, media_type=files[name])

    @app.get("/api/v1/whoami")
    def whoami(caller: Caller = Depends(reader)):
        """The token's name and scope, and whether write endpoints are enabled."""
        return {"token": caller.name, "scope": caller.scope, "write_enabled": tokens.writable, "database": database}

    # -- read ------------------------------------------------------------------------------------
    @app.get("/api/v1/migrations/status")
    def status(caller: Caller = Depends(reader)):
        """`status --format json`."""
        return _json(api.status(config=project))

    @app.get("/api/v1/migrations/history")
    def history(caller: Caller = Depends(reader)):
        """`history --format json`: revisions and the recorded runs (who, from where)."""
        return _json(api.history(config=project))

    @app.get("/api/v1/migrations/health")
    def health(caller: Caller = Depends(reader)):
        """`health --format json`; 200 when healthy, 503 when a check fails."""
        data = api.health(config=project)
        return _json(data, 200 if data["healthy"] else 503)

    @app.get("/api/v1/migrations/validate")
    def validate(caller: Caller = Depends(reader)):
        """`validate --format json`: the findings of every revision file and the graph checks."""
        from ..face.validation_report import report_document

        return _json(report_document(api.validate(config=project)))

    @app.get("/api/v1/backups")
    def backups(caller: Caller = Depends(reader)):
        """`backups list --format json`."""
        return _json({"backups": api.backups(config=project)})

    @app.get("/api/v1/runs")
    def recent_runs(caller: Caller = Depends(reader)):
        """The service's recent runs, newest first (the run records hold every run: history)."""
        return {"runs": [run.summary() for run in runs.recent()]}

    @app.get("/api/v1/runs/{run_id}")
    def run_document(run_id: str, caller: Caller = Depends(reader)):
        """A run's steps, progress and, once it ended, its result document (or error)."""
        run = runs.get(run_id)
        if run is None:
            raise ApiError(404, "no such run (the service keeps its last 100 runs; history has every record)")
        return _json(run.document())

    @app.get("/metrics", include_in_schema=False)
    def metrics(caller: Caller = Depends(reader)):
        return Response(metrics_text(project, runs), media_type=CONTENT_TYPE)

    # -- write: runs -------------------------------------------------------------------------------
    def start(who: Actor, kind: str, parameters: dict, work) -> Response:
        try:
            run = runs.start(kind, database, parameters, who, work, after=_audit_unrecorded)
        except RunInProgress as busy:
            raise ApiError(409, f"a {busy.running.kind} run is in progress on database {database}: "
                                f"{busy.running.url}", running=busy.running.summary()) from None
        log.info("run %s: %s %s asked by %s", run.id, kind, json.dumps(parameters), who.describe())
        return JSONResponse({"run_id": run.id, "url": run.url, "state": run.state}, status_code=202,
                            headers={"Location": run.url})

    def _audit_unrecorded(run: RunState) -> None:
        """Dry runs, runs with nothing to do and refused runs change nothing and the pipeline
        records none of them; a write call is audited all the same (one row, no revision)."""
        if run.outcome in _RECORDED_BY_THE_PIPELINE:
            return
        with contextlib.closing(connect(project.database)) as connection:
            record_run(connection, project.safety.history_table, direction=run.kind,
                       started_at=_dt.datetime.fromisoformat(run.created_at),
                       duration_ms=int(run.durations.get("total", 0) * 1000), backup_file=None,
                       outcome=run.outcome, steps=[], error=(run.error or {}).get("message"), actor=run.actor)

    def check_target(target: str) -> None:
        """Every form of target (an id, a prefix, ``heads``, ``branch@head``, ``id@+1``, ``id+2``):
        each part that names a revision or branch must exist, the rest be a step or head/base;
        otherwise it is the caller's mistake: 422 now, not a failed run later."""
        if not _TARGET_CHARACTERS.match(target):
            raise ApiError(422, "a revision target is made of letters, digits and _ . @ + - (at most 200)")
        if _SYMBOLIC_TARGET.match(target):
            return
        from ..sources.alembic_runner import load_script_directory

        script = load_script_directory(project.alembic_config())
        named, at, step = target.partition("@")
        relative = _RELATIVE_SUFFIX.match(named) if not at else None
        if relative:
            named = relative.group(1)
        names = [named] + ([step] if at and not _SYMBOLIC_TARGET.match(step) else [])
        for name in names:
            try:
                script.get_revisions(name)
            except Exception as exc:
                raise ApiError(422, f"unknown revision {target!r}: {' '.join(str(exc).split())[:200]}") from None

    def run_result(result) -> tuple:
        durations = {"total": result.duration_seconds, "backup": result.backup_seconds,
                     "restore": result.restore_seconds}
        return result, result.status.value, result.exit_code, durations

    @app.post("/api/v1/migrations/migrate", status_code=202)
    def migrate(request: Request, body: Optional[MigrateRequest] = None, caller: Caller = Depends(writer)):
        """Upgrade to ``target_version`` (default head) as a run: 202 with its URL; 409 while one runs."""
        body, who = body or MigrateRequest(), actor(request, caller)
        check_target(body.target_version)
        return start(who, "upgrade", body.model_dump(), lambda events: run_result(api.upgrade(
            body.target_version, dry_run=body.dry_run, allow_unsafe=body.allow_unsafe, events=events, actor=who,
            config=project)))

    @app.post("/api/v1/fleet/migrate", status_code=202)
    def fleet_migrate(request: Request, body: Optional[FleetRequest] = None, caller: Caller = Depends(writer)):
        """Upgrade a fleet as one run: the server's targets file, or tenant schemas; 202 with its URL.
        GET /api/v1/runs/{id} then shows it like a single run, its result the fleet's document."""
        body, who = body or FleetRequest(), actor(request, caller)
        check_target(body.target_version)
        from ..fleet.targets import valid_schema_name
        bad = [name for name in body.tenant_schemas or [] if not valid_schema_name(name)]
        if bad:
            raise ApiError(422, f"tenant_schemas: not a plain schema name: {bad[0][:80]!r}")
        if not body.tenant_schemas and not project.safety.fleet_targets:
            raise ApiError(409, "no fleet configured: set fleet_targets (MIGRATION_FLEET_TARGETS) on the server, "
                                "or name tenant_schemas")

        def work(events):
            result = api.fleet_upgrade(body.target_version, tenant_schemas=body.tenant_schemas,
                                       dry_run=body.dry_run, canary=body.canary, concurrency=body.concurrency,
                                       on_failure=body.on_failure, events=events, config=project)
            document = result.document()
            return document, "fleet-" + ("ok" if result.exit_code == 0 else "failed"), result.exit_code, \
                {"total": result.duration_seconds}
        return start(who, "fleet-upgrade", body.model_dump(), work)

    @app.post("/api/v1/migrations/rollback/{version}", status_code=202)
    def rollback(version: str, request: Request, body: Optional[RollbackRequest] = None,
                 caller: Caller = Depends(writer)):
        """Downgrade to ``version`` (an id, a unique prefix, -1 or base) as a run."""
        body, who = body or RollbackRequest(), actor(request, caller)
        check_target(version)
        return start(who, "downgrade", {"target_version": version, "dry_run": body.dry_run},
                     lambda events: run_result(api.downgrade(version, dry_run=body.dry_run, events=events,
                                                             actor=who, config=project)))

    @app.post("/api/v1/backups", status_code=202)
    def create_backup(request: Request, caller: Caller = Depends(writer)):
        """Take a verified backup now, as a run."""
        who = actor(request, caller)

        def work(events):
            document = api.create_backup(events=events, actor=who, config=project)
            return document, "backed-up", 0, {"total": document["duration_seconds"],
                                              "backup": document["duration_seconds"]}
        return start(who, "backup", {}, work)

    return app

