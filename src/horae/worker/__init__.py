"""Background work: the huey transport for outbox jobs, the sweeper, and the worker process."""
