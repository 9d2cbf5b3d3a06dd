"""Extensions, created unbound and attached to the app in ``create_app``."""
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from .openapi import ErrorResponsesPlugin
from .schemas import ErrorSchema, VisitRefConverter

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class ZaicunApi(Api):
    """flask-smorest with our error shape and no catch-all ``default`` response: the document
    names every status a view answers (``server/openapi.py`` adds the shared refusals)."""

    ERROR_SCHEMA = ErrorSchema
    DEFAULT_ERROR_RESPONSE_NAME = None


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
api = ZaicunApi(spec_kwargs={"extra_plugins": [ErrorResponsesPlugin()]})
api.register_converter(VisitRefConverter,
                       lambda converter: {"type": "string", "pattern": f"^{converter.regex}$"})
