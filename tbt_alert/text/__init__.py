"""Reading hostile text, no I/O: WTO symbols, dates, member names, HS/ICS codes, phrases, documents."""
