#!/usr/bin/env python3
"""Write docs/rules.md from the rule registry (the test suite checks it is current)."""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "migrations"))

from migration_safety.validation import rules_markdown  # noqa: E402

(ROOT / "docs" / "rules.md").write_text(rules_markdown() + "\n")
print(f"wrote {ROOT / 'docs' / 'rules.md'}")
