"""Every rule, one module each, named after its public id (``drop-column`` -> ``drop_column.py``);
the registry finds them all (modules starting with ``_`` are helpers)."""
