"""Stand-in for Langflow's CatalogPolicyRule model: revision d4a7c9e1b2f6 reads the model's
constraints and indexes (as in langflow-base 1.13.0); a plain Table with the same ones."""
from types import SimpleNamespace

import sqlalchemy as sa
from sqlalchemy.sql.naming import conv

_metadata = sa.MetaData()
sa.Table("user", _metadata, sa.Column("id", sa.Uuid(), primary_key=True))
_table = sa.Table(
    "catalog_policy_rule", _metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    sa.Column("resource_kind", sa.String(), nullable=False),
    sa.Column("resource_key", sa.String(), nullable=False),
    sa.Column("mode", sa.String(), nullable=False, server_default=sa.text("'block'")),
    sa.Column("scope", sa.String(), nullable=False, server_default=sa.text("'global'")),
    sa.Column("domain_id", sa.Uuid(), nullable=True),
    sa.Column("created_by", sa.Uuid(), sa.ForeignKey("user.id", ondelete="SET NULL"), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.CheckConstraint("resource_kind IN ('component', 'template')", name=conv("ck_catalog_policy_rule_resource_kind")),
    sa.CheckConstraint("mode IN ('block', 'allow')", name=conv("ck_catalog_policy_rule_mode")),
    sa.CheckConstraint("scope IN ('global', 'org', 'workspace')", name=conv("ck_catalog_policy_rule_scope")),
    sa.CheckConstraint("(scope = 'global' AND domain_id IS NULL) OR (scope IN ('org', 'workspace') AND domain_id IS NOT NULL)",
                       name=conv("ck_catalog_policy_rule_scope_domain_consistency")),
    sa.Index("uq_catalog_policy_rule_scoped", "resource_kind", "resource_key", "scope", "domain_id", unique=True,
             postgresql_where=sa.text("domain_id IS NOT NULL"), sqlite_where=sa.text("domain_id IS NOT NULL")),
    sa.Index("uq_catalog_policy_rule_unscoped", "resource_kind", "resource_key", "scope", unique=True,
             postgresql_where=sa.text("domain_id IS NULL"), sqlite_where=sa.text("domain_id IS NULL")),
)
CatalogPolicyRule = SimpleNamespace(__table__=_table)
