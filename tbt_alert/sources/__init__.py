"""Each source's format to the canonical record, pure functions: ePing, EU TBT database, feeds, WTO documents, addenda."""
