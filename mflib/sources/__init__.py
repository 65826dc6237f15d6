"""Market sources: live venue APIs and recorded snapshots, both yielding raw pages."""
