from django.db import models


class Heartbeat(models.Model):
    """Last time a background process proved it was alive: "worker" (the worker runs
    core.heartbeat every minute from beat), shown to staff and on /readyz/; and one row per
    worker process, "process:<host>:<pid>:<random>", beaten every few seconds by the process
    itself, which the outbox reaper reads to know a claimer is dead (apps/core/tasks.py)."""

    name = models.CharField(max_length=64, primary_key=True)
    at = models.DateTimeField()

    def __str__(self):
        return f"{self.name} at {self.at:%Y-%m-%d %H:%M:%S}"
