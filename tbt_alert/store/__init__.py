"""Tables, engine, migrations, ingest, the measure's derived state, and read queries."""
