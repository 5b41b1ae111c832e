"""Graph checks over every revision (pure: made-up revisions test it): duplicate ids, unknown
down_revision, cycles, several heads."""
from __future__ import annotations

from .model import Finding, ValidationConfig


def _downs(value) -> tuple:
    if value is None or value == "<missing>":
        return ()
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def graph_findings(sources: list, config: ValidationConfig) -> list[Finding]:
    from .registry import RULES

    findings = []

    def add(rule_id, source, message, line=1):
        if rule_id in config.disabled:
            return
        rule = RULES[rule_id]
        findings.append(Finding(rule_id, config.severity_overrides.get(rule_id, rule.severity), str(source.path),
                                line, message, rule.why, rule.do_instead))

    by_id: dict = {}
    for source in sources:
        if source.revision:
            by_id.setdefault(source.revision, []).append(source)
    for revision, holders in by_id.items():
        for duplicate in holders[1:]:
            add("duplicate-revision", duplicate,
                f"revision {revision} is also declared in {holders[0].path.name}")
    known = {revision: holders[0] for revision, holders in by_id.items()}
    for revision, source in known.items():
        for down in _downs(source.down_revision):
            if down not in known:
                add("unknown-down-revision", source, f"down_revision {down!r} of {revision} names no revision")
    # cycles: depth-first over down_revision edges
    state: dict = {}
    reported = set()

    def visit(revision, trail):
        state[revision] = "active"
        for down in _downs(known[revision].down_revision):
            if down not in known:
                continue
            if state.get(down) == "active":
                cycle = trail[trail.index(down):] + [down] if down in trail else [revision, down]
                key = frozenset(cycle)
                if key not in reported:
                    reported.add(key)
                    add("revision-cycle", known[revision], "revisions form a cycle: " + " -> ".join(cycle))
            elif down not in state:
                visit(down, trail + [down])
        state[revision] = "done"

    for revision in known:
        if revision not in state:
            visit(revision, [revision])
    children = {down for source in known.values() for down in _downs(source.down_revision)}
    heads = sorted(revision for revision in known if revision not in children)
    if len(heads) > 1:
        add("multiple-heads", known[heads[-1]], f"{len(heads)} heads: {', '.join(heads)}; merge them into one")
    return findings
