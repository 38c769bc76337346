"""Table-model instances from rows read outside the ORM (the raw asyncpg pool of `Database.fetch_row`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from sqlalchemy import inspect
from sqlalchemy.orm import attributes, configure_mappers

Model = TypeVar("Model")


def instance_from_row(model: type[Model], row: Mapping[str, Any]) -> Model:
    """A transient instance of `model` holding the row's columns (keys are the model's attribute names).

    Built as SQLAlchemy's own loader builds the rows a session reads: a new instance, its attribute
    dictionary filled in, no `__init__`. `Account(**row)` runs SQLModel's per-field `__setattr__` and
    the ORM's attribute events: ~60 µs per account against ~3 µs here, on every authenticated request
    (bench/README.md). Nothing is validated either way: the values come from the database.
    """
    mapper = inspect(model)
    if not mapper.configured:  # the ORM configures mappers before it loads a row; so must we (once)
        configure_mappers()
    instance = mapper.class_manager.new_instance()
    attributes.instance_dict(instance).update(row)
    return instance
