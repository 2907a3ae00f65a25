"""Local emulators of the Google Calendar API v3 and Microsoft Graph, for testing Horae's connectors."""
