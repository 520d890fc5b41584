"""Flask extensions, created unbound and initialised in create_app()."""

from typing import Any, cast

import sqlalchemy as sa
from flask_babel import Babel
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from .clients import network_key

# Stable constraint names, so migrations can drop and alter them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtect()
babel = Babel()
login_manager = LoginManager()


# The hashed client network: no raw IP in storage.
limiter = Limiter(key_func=network_key)


def changed_one(statement: sa.Update) -> bool:
    """Run a guarded UPDATE (compare-and-set): True when it changed its one row.

    The guard in the WHERE clause is the lock: of two requests racing for a row,
    one changes it and the other changes nothing and is told so. Objects in the
    session are not synchronised; callers refresh what they go on to read.
    """
    result = db.session.execute(statement.execution_options(synchronize_session=False))
    return cast(sa.CursorResult[Any], result).rowcount == 1
