"""tbt-alert: warns exporters about foreign technical regulations notified under the WTO TBT Agreement."""

__version__ = "0.1.0"
