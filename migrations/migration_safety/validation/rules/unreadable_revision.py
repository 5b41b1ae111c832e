"""Rule unreadable-revision."""
from ..model import Rule


_PROBLEMS = {"empty": "the file is empty", "binary": "the file is binary", "not-utf8": "the file is not UTF-8 text"}


def check_file(revision_file, context):
    if revision_file.problem in _PROBLEMS:
        yield 1, _PROBLEMS[revision_file.problem]


RULE = Rule(
    id='unreadable-revision',
    severity='error',
    summary='The revision file is empty, binary or not UTF-8.',
    why='Alembic cannot load it, and nothing in it can be checked.',
    do_instead='Restore the file from version control or delete it.',
    check_file=check_file,
)
