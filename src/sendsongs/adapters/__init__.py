"""Adapters: translate outside systems (Messenger, Spotify, databases) into our ports."""
