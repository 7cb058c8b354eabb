"""The Telegram channel: Bot API client, update reading (in the worker), slash commands."""
