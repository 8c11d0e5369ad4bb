"""The HTTP API: the app, its routes, authentication, signed URLs, long-poll waiters."""
