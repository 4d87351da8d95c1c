"""Writes of course analytics: ingest of Open edX data (`ingest`) and the nightly rollups (`rollups`)."""
