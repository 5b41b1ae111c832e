"""Fleets: the same protected command over many databases (``--targets FILE``) or the tenant
schemas of one (``--tenant-schemas``). Each target runs as its own process of this CLI, so each
has what a single run has — its lock, backup, journal, restore on failure, run record — and
nothing about one target's failure reaches another. The rollout decides only which targets start
and when: canary first, bounded concurrency, stop or continue after a failure, resume, shards."""
