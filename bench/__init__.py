"""Benchmarks of the local sandbox (`make bench`): cold start, failover switch, replication lag (raw and
through the app's signed APIs), web app size, and 20 failover drills in a row.

Its own package because it drives both the sandbox (`sandbox/`) and the operator CLI (`ops/`):
neither imports the other.
"""
