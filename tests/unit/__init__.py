"""Fast tests: no servers, no network."""
