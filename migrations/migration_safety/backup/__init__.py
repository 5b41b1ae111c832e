"""Backups: formats, the catalog of files and sidecars, integrity, the private directory, full and selective restore."""
