"""Who gets what: subscribers, matching, planning deliveries, digests."""
