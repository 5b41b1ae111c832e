"""Settings and finding the project's configuration; nothing here touches a database."""
