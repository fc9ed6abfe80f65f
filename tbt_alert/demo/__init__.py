"""The offline demo and its loopback ePing-shaped server (reused by the tests)."""
