"""Integration tests: need real XMPP servers on loopback."""
