"""Admin registrations of this app: every model with list display, filters and search."""
