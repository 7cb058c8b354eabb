"""Send Songs: share a Spotify song in Messenger and learn when your friend listened."""

__version__ = "0.1.0"
