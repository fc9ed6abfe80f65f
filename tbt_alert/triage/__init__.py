"""Analysts' triage: decisions about notifications, the effective labels they give, the queue of
what needs a decision, full-text search, and exports and statistics over the same filters."""
