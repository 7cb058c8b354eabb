"""Local stand-ins for the Messenger Graph API and the Spotify Accounts + Web API."""
