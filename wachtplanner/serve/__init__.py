"""Serving GPs' calendar subscriptions (ASGI, uvicorn)."""
