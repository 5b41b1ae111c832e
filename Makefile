# Shortcuts for the migration-safety CLI and the project's scripts. Each target is one thin call;
# `make help` lists them. The database comes from POSTGRES_* / DATABASE_URL in the environment (or
# alembic.ini), exactly as for the CLI itself; after `make db-up`, load the local database's
# settings into your shell with: eval "$$(make -s db-env)"
#
# Variables:  msg="..."  the new revision's message (migration, migration-empty)
#             rev=REV     upgrade target for `make migrate` (default: head)
#             CONFIG=INI  another project's alembic.ini
#             ARGS="..."  extra options for the command (e.g. ARGS=--dry-run, ARGS="--format json";
#                         for `make test`: pytest's arguments)
#             PYTHON=...  the interpreter (default: the project's .venv, created on first use)

ROOT := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
VENV_PYTHON := $(ROOT)/.venv/bin/python
PYTHON ?= $(VENV_PYTHON)

# A value as one shell word, taken literally: the raw text (make's $(value), so a `$` stays a `$`)
# in single quotes, each single quote written as '\''. Nothing inside is expanded by make or the shell.
shell_word = '$(subst ','\'',$(1))'

define newline


endef

# The message, checked when a target that needs it runs (an error names the target's usage).
message = $(if $(strip $(value msg)),,$(error msg is required: make $@ msg="what the revision does"))$(if \
          $(findstring $(newline),$(value msg)),$(error msg must be one line))$(call shell_word,$(value msg))

CLI = $(PYTHON) $(ROOT)/migrations/migration_utils.py$(if $(CONFIG), --config $(call shell_word,$(CONFIG)))

# The .venv is made by scripts/bootstrap.sh when a target needs it and it does not exist yet.
NEEDS_PYTHON := $(filter $(VENV_PYTHON),$(PYTHON))
$(VENV_PYTHON):
	bash $(ROOT)/scripts/bootstrap.sh

.DEFAULT_GOAL := help
.PHONY: help migrate migration migration-empty migrate-rollback migrate-current migrate-history \
        validate backup db-up db-down db-env test

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z][a-z-]*:.*## / {printf "  %-18s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

migrate: | $(NEEDS_PYTHON) ## upgrade to head (or rev=REV) behind a verified backup
	$(CLI) upgrade$(if $(rev), --revision $(call shell_word,$(rev))) $(ARGS)

migration: | $(NEEDS_PYTHON) ## new revision from the models (autogenerate): make migration msg="..."
	$(CLI) create --autogenerate --message $(message) $(ARGS)

migration-empty: | $(NEEDS_PYTHON) ## new empty revision: make migration-empty msg="..."
	$(CLI) create --message $(message) $(ARGS)

migrate-rollback: | $(NEEDS_PYTHON) ## downgrade one revision behind a verified backup
	$(CLI) downgrade --revision -1 $(ARGS)

migrate-current: | $(NEEDS_PYTHON) ## the revision the database is at
	$(CLI) current $(ARGS)

migrate-history: | $(NEEDS_PYTHON) ## every revision, applied or pending, with its last run
	$(CLI) history $(ARGS)

validate: | $(NEEDS_PYTHON) ## static checks of every revision (no database needed)
	$(CLI) validate $(ARGS)

backup: | $(NEEDS_PYTHON) ## a verified backup of the database now
	$(CLI) backups create $(ARGS)

db-up: | $(NEEDS_PYTHON) ## start the local throwaway PostgreSQL (data in .pgdata/)
	$(PYTHON) $(ROOT)/scripts/local_postgres.py start

db-down: | $(NEEDS_PYTHON) ## stop the local PostgreSQL
	$(PYTHON) $(ROOT)/scripts/local_postgres.py stop

db-env: | $(NEEDS_PYTHON) ## print the local database's settings as exports (for eval)
	@$(PYTHON) $(ROOT)/scripts/local_postgres.py env

test: ## the whole test suite (scripts/run_tests.sh; ARGS go to pytest)
	$(ROOT)/scripts/run_tests.sh $(ARGS)
