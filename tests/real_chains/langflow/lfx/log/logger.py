"""Stand-in for lfx.log.logger: env.py and four revisions log through it."""
import logging

logger = logging.getLogger("lfx")
