"""The scheduled service: APScheduler jobs and the one-leader-per-database lock."""
