"""The web app: subscribe, confirm, preferences, one-click unsubscribe, archive and feeds."""
