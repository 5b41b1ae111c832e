"""What every wing shares: errors, events, redaction of secrets, private cache files."""
