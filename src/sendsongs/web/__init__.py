"""The ASGI app: webhook, OAuth pages, health, demo."""
