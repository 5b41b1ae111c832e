"""Stand-in for sqlmodel.sql.sqltypes: AutoString as SQLModel defines it (a TypeDecorator over
String, VARCHAR(255) on MySQL only), and ``types`` (SQLAlchemy's, as SQLModel re-exports it)."""
from sqlalchemy import types
from sqlalchemy.engine.interfaces import Dialect


class AutoString(types.TypeDecorator):
    impl = types.String
    cache_ok = True
    mysql_default_length = 255

    def load_dialect_impl(self, dialect: Dialect) -> "types.TypeEngine":
        impl = self.impl
        if impl.length is None and dialect.name == "mysql":
            return dialect.type_descriptor(types.String(self.mysql_default_length))
        return super().load_dialect_impl(dialect)
