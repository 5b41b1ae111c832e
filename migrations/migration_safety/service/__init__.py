"""Service mode (``migration_utils.py serve``): the commands over HTTP for deploy pipelines, a
dashboard for people, ``/metrics`` for monitoring. See app.py for the routes, auth.py for the
tokens, runs.py for runs in the background. FastAPI and uvicorn are imported only here."""
from __future__ import annotations

import ipaddress
import os
import sys

from ..backup.integrity import register_existing_key
from ..base import redaction
from ..base.errors import ConfigurationError
from ..config.settings import service_trusted_proxies
from .auth import TOKEN_VARIABLES, TokenStore, token_hash

__all__ = ["serve", "token_hash"]


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def serve(project, host: str = "127.0.0.1", port: int = 8080, *, err=None) -> int:
    """Run the service until SIGINT/SIGTERM (then finish a running run); refuses to start without a
    token (exit 2)."""
    err = err or sys.stderr
    try:   # the optional dependencies of `pip install migration-safety[service]`
        import uvicorn

        from .app import create_app
    except ImportError as exc:
        raise ConfigurationError(f"serve needs FastAPI, uvicorn and prometheus_client ({exc}): "
                                 "pip install 'migration-safety[service]'") from None
    tokens = TokenStore.from_environment()
    for variable in TOKEN_VARIABLES:          # masked wherever text leaves us, like the password
        redaction.register(os.environ.get(variable, "").strip() or None)
    register_existing_key()
    project.database, project.safety         # settings errors now (exit 2), not at the first request
    trusted_proxies = service_trusted_proxies()
    if not is_loopback(host):
        err.write(f"warning: serving on {host}, not a loopback address: bearer tokens and results travel in "
                  "clear text; terminate TLS in front of this service (a reverse proxy) and restrict who can "
                  "reach it\n")
        err.flush()
    _keep_service_logs()
    # uvicorn's proxy headers and access log are off: the app decides whom to believe about the
    # caller's address (app.client_address) and logs requests without their query string
    uvicorn.run(create_app(project, tokens, trusted_proxies), host=host, port=port, log_level="info",
                server_header=False, timeout_graceful_shutdown=5, proxy_headers=False, access_log=False)
    return 0


def _keep_service_logs() -> None:
    """The service's own log lines (who asked for which run) go to stderr whatever env.py does:
    a stock env.py calls ``logging.config.fileConfig(alembic.ini)``, which sets the root logger to
    WARN and, by default, disables every logger it does not name — in a long-running process that
    would silence uvicorn's access log and ours after the first run. Here fileConfig keeps the
    loggers that exist enabled."""
    import logging
    import logging.config

    service_log = logging.getLogger("migration_safety.service")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s:     %(name)s: %(message)s"))
    service_log.addHandler(handler)
    service_log.setLevel(logging.INFO)
    service_log.propagate = False
    original = logging.config.fileConfig

    def file_config(fname, defaults=None, disable_existing_loggers=True, encoding=None):
        return original(fname, defaults, disable_existing_loggers=False, encoding=encoding)

    logging.config.fileConfig = file_config
