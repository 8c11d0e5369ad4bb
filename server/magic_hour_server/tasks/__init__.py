"""Tasks and their queue: the store (SQLite or PostgreSQL), migrations, workers."""
