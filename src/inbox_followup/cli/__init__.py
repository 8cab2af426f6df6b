"""The command line and the daemon: parse, call the sync service, print."""
