"""Alembic environment: the engine comes from tbt_alert.store.engine (config.attributes['engine'])."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

from tbt_alert.store.tables import include_object  # registers the tables on SQLModel.metadata

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    engine = config.attributes["engine"]
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            include_object=include_object,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
