"""Rule suppression-without-reason (found by the structure/graph checks)."""
from ..model import Rule

RULE = Rule(
    id='suppression-without-reason',
    severity='warning',
    summary='A suppression comment gives no reason.',
    why='A silenced rule without a reason cannot be reviewed later.',
    do_instead='Write the reason after the brackets: `# migration-safety: ignore[rule-id] why this is safe here`.',
)
