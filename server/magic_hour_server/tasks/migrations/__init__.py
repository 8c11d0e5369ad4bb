"""The task store's schema history, as Alembic migrations (run on start by `_tasks`)."""
