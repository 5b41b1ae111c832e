#!/usr/bin/env python3
"""Write docs/fix.md from the fixers' examples (the test suite checks it is current)."""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "migrations"))

from migration_safety.validation.fixes.examples import markdown  # noqa: E402

(ROOT / "docs" / "fix.md").write_text(markdown() + "\n")
print(f"wrote {ROOT / 'docs' / 'fix.md'}")
