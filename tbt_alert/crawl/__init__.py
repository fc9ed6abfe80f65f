"""Everything that fetches: running spiders in a subprocess, the fetch guard, documents, the fixture recorder."""
