"""Stand-ins for the names MLflow's revision files import from the `mlflow` package, which is never
installed or imported here. Each holds only what the revisions read: a table name, the strings
an enum renders to, and for the data migrations (89d4b8295536 queries `metrics` and fills
`latest_metrics`; cfd24bdc0731 and 867495a8f9d4 use column attributes) small declarative models
with the columns those revisions touch. Values are copied from mlflow-skinny 3.17.2 (see NOTICE.md)."""
from __future__ import annotations

import time

from sqlalchemy import BigInteger, Boolean, Column, Float, ForeignKey, PrimaryKeyConstraint, String
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class MlflowException(Exception):
    """mlflow.exceptions.MlflowException (0584bdc529eb raises it when a constraint is missing)."""


# -- constants and enums (mlflow.entities, mlflow.utils.mlflow_tags) --------------------------------
STAGE_NONE = "None"
MLFLOW_USER = "mlflow.user"


class _StringEnum:
    """MLflow's enums are ints with to_string(); the revisions only ever read the strings."""

    @classmethod
    def to_string(cls, value: str) -> str:
        return value


class RunStatus(_StringEnum):
    RUNNING, SCHEDULED, FINISHED, FAILED, KILLED = "RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"


class ModelVersionStatus(_StringEnum):
    PENDING_REGISTRATION, FAILED_REGISTRATION, READY = "PENDING_REGISTRATION", "FAILED_REGISTRATION", "READY"


class ViewType:
    ACTIVE_ONLY, DELETED_ONLY, ALL = range(1, 4)


class LifecycleStage:
    ACTIVE, DELETED = "active", "deleted"

    @classmethod
    def view_type_to_stages(cls, view_type: int = ViewType.ALL) -> list[str]:
        stages = []
        if view_type in (ViewType.ACTIVE_ONLY, ViewType.ALL):
            stages.append(cls.ACTIVE)
        if view_type in (ViewType.DELETED_ONLY, ViewType.ALL):
            stages.append(cls.DELETED)
        return stages


SourceTypes = ["NOTEBOOK", "JOB", "LOCAL", "UNKNOWN", "PROJECT"]


# -- models whose columns a revision reads -----------------------------------------------------------
class SqlRun(Base):
    __tablename__ = "runs"
    run_uuid = Column(String(32), primary_key=True)
    source_type = Column(String(20))
    lifecycle_stage = Column(String(20))


class SqlTraceInfo(Base):
    __tablename__ = "trace_info"
    request_id = Column(String(50), primary_key=True)


class SqlMetric(Base):
    __tablename__ = "metrics"
    __table_args__ = (PrimaryKeyConstraint("key", "timestamp", "step", "run_uuid", "value", "is_nan",
                                           name="metric_pk"),)
    key = Column(String(250))
    value = Column(Float(precision=53), nullable=False)
    timestamp = Column(BigInteger, default=lambda: int(time.time() * 1000))
    step = Column(BigInteger, default=0, nullable=False)
    is_nan = Column(Boolean(create_constraint=True), nullable=False, default=False)
    run_uuid = Column(String(32), ForeignKey("runs.run_uuid"))


class SqlLatestMetric(Base):
    __tablename__ = "latest_metrics"
    __table_args__ = (PrimaryKeyConstraint("key", "run_uuid", name="latest_metric_pk"),)
    key = Column(String(250))
    value = Column(Float(precision=53), nullable=False)
    timestamp = Column(BigInteger, default=lambda: int(time.time() * 1000))
    step = Column(BigInteger, default=0, nullable=False)
    is_nan = Column(Boolean(create_constraint=True), nullable=False, default=False)
    run_uuid = Column(String(32), ForeignKey("runs.run_uuid"))


# -- models the revisions read only __tablename__ from ---------------------------------------------
def _named(tablename: str) -> type:
    return type(f"Table_{tablename}", (), {"__tablename__": tablename})


SqlExperiment = _named("experiments")
SqlExperimentTag = _named("experiment_tags")
SqlDataset = _named("datasets")
SqlInput = _named("inputs")
SqlInputTag = _named("input_tags")
SqlTraceTag = _named("trace_tags")
SqlTraceMetadata = _named("trace_request_metadata")
SqlTraceMetrics = _named("trace_metrics")
SqlSpan = _named("spans")
SqlAssessments = _named("assessments")
SqlIssue = _named("issues")
SqlScorer = _named("scorers")
SqlScorerVersion = _named("scorer_versions")
SqlOnlineScoringConfig = _named("online_scoring_configs")
SqlRegisteredModel = _named("registered_models")
SqlRegisteredModelTag = _named("registered_model_tags")
SqlRegisteredModelAlias = _named("registered_model_aliases")
SqlModelVersion = _named("model_versions")
SqlModelVersionTag = _named("model_version_tags")
SqlWebhook = _named("webhooks")
SqlWebhookEvent = _named("webhook_events")
