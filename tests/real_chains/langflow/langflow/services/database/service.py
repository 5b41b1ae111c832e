"""Stand-in for langflow.services.database.service: env.py needs only SQLModel (its metadata, which
autogenerate compares with; upgrades do not read it)."""
from sqlmodel import SQLModel  # noqa: F401
