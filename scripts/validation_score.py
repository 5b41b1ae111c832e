#!/usr/bin/env python3
"""The validator's score on its own corpus (tests/validation/corpus): recall and specificity.

    .venv/bin/python scripts/validation_score.py [--json] [--misses]

Each corpus file states what it expects on its first line (``# expect: rule@line ...`` or
``# expect: none``). Recall is the share of expected findings the validator reports (rule and
line both right); specificity is the share of safe files (``none``) on which it raises no
warning or error (info findings, such as style notes on a new table, are not alarms).
Unexpected warnings and errors in hazardous files are counted too, as false alarms.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "validation" / "corpus"
sys.path.insert(0, str(ROOT / "migrations"))

from migration_safety.validation import ValidationConfig, validate_paths  # noqa: E402


def expected(path: Path) -> set:
    items = path.read_text().splitlines()[0][len("# expect:"):].split()
    return set() if items == ["none"] else {(rule, int(line)) for rule, line in (i.split("@") for i in items)}


def score(corpus: Path = CORPUS) -> dict:
    wanted = found = safe = quiet = false_alarms = 0
    misses, alarms = [], []
    for path in sorted(corpus.glob("*.py")):
        expect = expected(path)
        findings = validate_paths([path], ValidationConfig()).findings
        reported = {(f.rule, f.line) for f in findings}
        loud = {(f.rule, f.line) for f in findings if f.severity in ("warning", "error")} - expect
        wanted += len(expect)
        found += len(expect & reported)
        misses += [f"{path.name}: {rule}@{line}" for rule, line in sorted(expect - reported)]
        false_alarms += len(loud)
        alarms += [f"{path.name}: {rule}@{line}" for rule, line in sorted(loud)]
        if not expect:
            safe += 1
            quiet += not loud
    return {"files": len(list(corpus.glob("*.py"))), "expected_findings": wanted, "found": found,
            "recall": round(found / wanted, 3) if wanted else 1.0, "safe_files": safe, "quiet_safe_files": quiet,
            "specificity": round(quiet / safe, 3) if safe else 1.0, "false_alarms": false_alarms,
            "misses": misses, "alarms": alarms}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print the score as one JSON document")
    parser.add_argument("--misses", action="store_true", help="list missed findings and false alarms")
    args = parser.parse_args()
    if not any(CORPUS.glob("*.py")):     # no case is not a perfect score
        sys.exit(f"error: no corpus files in {CORPUS} (the score needs the repository's tests/ folder)")
    result = score()
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"corpus: {result['files']} files, {result['expected_findings']} expected findings, "
          f"{result['safe_files']} safe files")
    print(f"recall       {result['recall']:.1%}  ({result['found']}/{result['expected_findings']} expected findings)")
    print(f"specificity  {result['specificity']:.1%}  ({result['quiet_safe_files']}/{result['safe_files']} "
          "safe files without a warning or error)")
    print(f"false alarms {result['false_alarms']}  (unexpected warnings and errors, all files)")
    if args.misses:
        for line in result["misses"]:
            print(f"  missed   {line}")
        for line in result["alarms"]:
            print(f"  alarm    {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
