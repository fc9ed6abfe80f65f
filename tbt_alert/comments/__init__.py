"""Calls for comments: from exporters' concerns to one comment per notification, in time."""
