"""Click commands only, one module per command group; shared context in :mod:`tbt_alert.cli.context`."""
