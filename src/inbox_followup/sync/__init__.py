"""One pass over an account: observe changes into the store, plan (the pure core), reconcile
through a provider with a crash-safe ledger; the lock that keeps one process per state dir."""
