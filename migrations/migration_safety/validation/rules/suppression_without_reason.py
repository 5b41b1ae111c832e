"""Rule suppression-without-reason."""
from ..model import Rule


def check_file(revision_file, context):
    for line, (ids, reason) in sorted(revision_file.suppressions.items()):
        if not reason:
            yield line, f"ignore[{', '.join(sorted(ids))}] without a reason"


RULE = Rule(
    id='suppression-without-reason',
    severity='warning',
    summary='A suppression comment gives no reason.',
    why='A silenced rule without a reason cannot be reviewed later.',
    do_instead='Write the reason after the brackets: `# migration-safety: ignore[rule-id] why this is safe here`.',
    check_file=check_file,
)
