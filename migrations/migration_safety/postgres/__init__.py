"""PostgreSQL itself: its client tools, connections, server and database identity, and catalog state."""
