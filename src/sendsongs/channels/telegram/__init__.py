"""The Telegram channel: Bot API client, webhook update parsing, slash commands."""
