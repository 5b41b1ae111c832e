"""Pure logic: settings resolution, URL quoting, tool version checks. No database needed."""
from __future__ import annotations

import configparser

import pytest

from migration_safety.config.settings import (DatabaseSettings, SettingsError, database_settings,
                                     parse_database_url, safety_settings)
from migration_safety.base.errors import PreflightError
from migration_safety.postgres.tools import Tool, check_tool_compatible, parse_tool_version
from migration_safety.backup.restore import normalized_schema, toc_without_schemas

SPECIAL = "p@ss%w:rd/with!odd"


def test_defaults_when_nothing_is_set():
    settings = database_settings({})
    assert (settings.host, settings.port, settings.database, settings.user, settings.password) == (
        "localhost", 5432, "fataplus_dev", "fataplus_user", None)


def test_postgres_variables_fill_in_defaults():
    settings = database_settings({"POSTGRES_DB": "shop", "POSTGRES_PASSWORD": SPECIAL})
    assert settings.database == "shop" and settings.host == "localhost" and settings.password == SPECIAL


def test_database_url_wins_and_keeps_libpq_parameters():
    settings = database_settings({"DATABASE_URL": "postgresql://app:x@db.example:6543/prod?sslmode=require",
                                  "POSTGRES_DB": "ignored"})
    assert (settings.host, settings.port, settings.database, settings.user) == ("db.example", 6543, "prod", "app")
    assert settings.parameters == {"sslmode": "require"}
    assert "sslmode=require" in settings.conninfo()


def test_special_password_round_trips_through_url_and_configparser():
    settings = DatabaseSettings(password=SPECIAL)
    url = settings.sqlalchemy_url()
    assert parse_database_url(url).password == SPECIAL
    # Alembic's Config is a ConfigParser: the wrapper doubles '%' before set_main_option
    parser = configparser.ConfigParser()
    parser.add_section("alembic")
    parser.set("alembic", "sqlalchemy.url", url.replace("%", "%%"))
    assert parser.get("alembic", "sqlalchemy.url") == url


def test_password_never_in_repr_masked_url_or_conninfo():
    settings = DatabaseSettings(password=SPECIAL)
    for text in (repr(settings), settings.masked_url(), settings.conninfo()):
        assert SPECIAL not in text and "p%40ss" not in text
    assert settings.child_environment({})["PGPASSWORD"] == SPECIAL


def test_alembic_ini_url_used_only_without_environment():
    ini_url = "postgresql://u:pw@inihost/inidb"
    assert database_settings({}, ini_url).host == "inihost"
    assert database_settings({"POSTGRES_HOST": "envhost"}, ini_url).host == "envhost"
    assert database_settings({}, "driver://user:pass@localhost/dbname").database == "fataplus_dev"


@pytest.mark.parametrize("bad", [{"POSTGRES_PORT": "abc"}, {"DATABASE_URL": "mysql://x@y/z"},
                                 {"DATABASE_URL": "postgresql://x@y:5432/"}])
def test_bad_settings_are_one_line_errors(bad):
    with pytest.raises(SettingsError) as error:
        database_settings(bad)
    assert "\n" not in str(error.value)


def test_safety_settings_environment_beats_ini(tmp_path):
    settings = safety_settings(tmp_path, {"lock_timeout": "10s", "backup_compression": "6"},
                               {"MIGRATION_LOCK_TIMEOUT": "2s"})
    assert settings.lock_timeout == "2s" and settings.backup_compression == 6
    with pytest.raises(SettingsError):
        safety_settings(tmp_path, {"lock_timeout": "soon"}, {})


def test_tool_versions():
    assert parse_tool_version("pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)") == (15, "15.18")
    assert parse_tool_version("pg_dump (PostgreSQL) 9.6.24") == (9, "9.6")
    with pytest.raises(ValueError):
        parse_tool_version("something else")


def test_pg_dump_older_than_server_is_refused():
    old = Tool("pg_dump", "/opt/pg14/pg_dump", 14, "14.9")
    with pytest.raises(PreflightError) as error:
        check_tool_compatible(old, 15)
    assert "older than the server" in str(error.value)
    check_tool_compatible(Tool("pg_dump", "/x", 16, "16.1"), 15)   # newer is fine


def test_restore_list_leaves_out_preserved_schemas():
    toc = ["; comment",
           "6; 2615 16396 SCHEMA - migration_safety u",
           "216; 1259 16388 TABLE public t u",
           "217; 1259 16397 TABLE migration_safety migration_history u",
           "3349; 0 16397 TABLE DATA migration_safety migration_history u",
           "3348; 0 16388 TABLE DATA public t u"]
    kept = toc_without_schemas(toc, ["migration_safety"])
    assert kept == ["; comment", "216; 1259 16388 TABLE public t u", "3348; 0 16388 TABLE DATA public t u"]


def test_schema_normalization_ignores_restrict_keys_and_comments():
    a = "\\restrict abc\n-- Dumped\nCREATE TABLE t (id int);\n\n\\unrestrict abc\n"
    b = "\\restrict xyz\nCREATE TABLE t (id int);\n\\unrestrict xyz\n"
    assert normalized_schema(a) == normalized_schema(b)


def test_debian_installs_are_ordered_by_number():
    from migration_safety.postgres.tools import _install_version
    paths = ["/usr/lib/postgresql/9.6/bin/pg_dump", "/usr/lib/postgresql/15/bin/pg_dump",
             "/usr/lib/postgresql/10/bin/pg_dump"]
    assert sorted(paths, key=_install_version, reverse=True)[0] == "/usr/lib/postgresql/15/bin/pg_dump"
