"""One protected run: the pipeline over a RunContext, its outcome, rehearsal, journal, lock and interruption."""
