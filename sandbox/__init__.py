"""The local two-region sandbox: moto plus what it lacks (replication, outages, execute-api)."""
