"""Spot recovery: the reclaim notice, and bringing a reclaimed spot instance back.

``reclaim`` folds what upstream reports into the row (notice once, the verdict when the reclaim
completes); ``steps`` are the upstream moves (migrate, recreate, delete the reclaimed one);
``jobs`` are the two reconciler jobs that drive them; ``router`` serves the original service's
``/api/instances/migration/*`` routes.
"""
