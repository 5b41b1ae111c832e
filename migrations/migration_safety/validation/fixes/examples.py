"""One before/after example per fixer, as ``validate --fix`` writes it: the documentation page
(docs/fix.md, written by scripts/generate_fix_doc.py) is made from these, and the suite checks it
is current, so the page always shows what the tool does."""
from __future__ import annotations

import textwrap

# rule id -> upgrade() body before the fix (tables with rows, so each is a real hazard)
BEFORE = {
    "create-index-without-concurrently": 'op.create_index("ix_orders_account_id", "orders", ["account_id"])',
    "drop-index-without-concurrently": 'op.drop_index("ix_orders_total", table_name="orders")',
    "add-foreign-key-without-not-valid": ('op.create_foreign_key("fk_orders_account", "orders", "accounts", '
                                          '["account_id"], ["id"])'),
    "add-check-without-not-valid": 'op.create_check_constraint("ck_orders_total_positive", "orders", "total > 0")',
    "add-unique-constraint": 'op.create_unique_constraint("uq_accounts_email", "accounts", ["email"])',
    "set-not-null": 'op.alter_column("accounts", "email", existing_type=sa.Text(), nullable=False)',
    "add-column-volatile-default": ('op.add_column("orders", sa.Column("token", sa.Text(), '
                                    'server_default=sa.text("md5(random()::text)"), nullable=False))'),
    "timeout-override": ('with op.get_context().autocommit_block():\n'
                         '    op.execute("SET statement_timeout = \'2h\'")\n'
                         '    op.execute("CREATE INDEX CONCURRENTLY ix_orders_account_id ON orders (account_id)")\n'
                         'op.execute("SET statement_timeout = \'30min\'")  # the backfill takes minutes\n'
                         'op.execute("UPDATE orders SET note = \'none\' WHERE note IS NULL")'),
}


def example_source(rule: str) -> str:
    body = textwrap.indent(BEFORE[rule], "    ")
    return ('from alembic import op\nimport sqlalchemy as sa\n\nrevision = "b1"\ndown_revision = "a1"\n\n\n'
            f"def upgrade():\n{body}\n\n\ndef downgrade():\n    pass\n")


def fixed_source(rule: str) -> str:
    """What ``validate --fix`` writes for the example: the validator's own findings of the rule
    (with what the rule tells its fixer), in a project run the way Alembic's template runs it."""
    import tempfile
    from pathlib import Path

    from ..checker import validate_paths
    from ..model import ValidationConfig
    from . import fix_source

    source = example_source(rule)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "example.py"
        path.write_text(source)
        findings = [f for f in validate_paths([path], ValidationConfig()).findings
                    if f.rule == rule and f.phase == "upgrade"]
    assert findings, f"the example of {rule} raises no finding"
    return fix_source("example.py", source, findings).fixed


def _upgrade_body(source: str) -> str:
    body = source.split("def upgrade():\n", 1)[1].split("\n\n\ndef downgrade", 1)[0]
    return textwrap.dedent(body).strip()


def markdown() -> str:
    from . import FIXERS

    parts = ["# `validate --fix`: the safe form, written for the reviewer", "",
             "`validate --fix [-f FILE ...]` rewrites the hazards whose safe form is mechanical, in place; "
             "`--diff` prints a unified diff and writes nothing; `create --autogenerate --safe` writes a new "
             "revision in its safe form. Comments and layout are kept (libcst). Only findings the validator "
             "reports in `upgrade()` are rewritten: a suppressed or accepted finding is left alone, a file that "
             "cannot be parsed is never touched, and a second run changes nothing. Hazards with no mechanical "
             "safe form (drops, renames, type changes that rewrite) are listed with their do-instead.", "",
             "Where the `VALIDATE` of a constraint goes: in the same revision, in an autocommit block after the "
             "revision's transactional work, so it runs in its own transaction with the weaker lock. A separate "
             "revision would let a deploy stop between the two and leave an unvalidated constraint behind.", "",
             "Timeouts: the wrapper applies `lock_timeout` (and `statement_timeout` when set) to every "
             "migration connection, autocommit blocks included. A revision that needs its own "
             "`statement_timeout` (a long backfill, a long concurrent index build) scopes it to the statements "
             "that need it, as the `timeout-override` fix below writes; `lock_timeout` disabled (`0`) is listed, "
             "not fixed, and one raised above the wrapper's is scoped and still reported.", "",
             "This page is generated from the fixers (`scripts/generate_fix_doc.py`); the suite checks it is "
             "current and that each fixed revision leaves the same schema as the original on PostgreSQL.", ""]
    for rule in FIXERS:
        doc = " ".join((FIXERS[rule].__doc__ or "").strip().split("\n\n")[0].split())
        doc = doc.removeprefix(f"Fix for {rule}: ")
        parts += [f"## {rule}", "", doc[:1].upper() + doc[1:], "", "Before:", "", "```python",
                  _upgrade_body(example_source(rule)), "```", "", "After `validate --fix`:", "", "```python",
                  _upgrade_body(fixed_source(rule)), "```", ""]
    return "\n".join(parts)
