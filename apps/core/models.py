from django.db import models


class Heartbeat(models.Model):
    """Last time a background process proved it was alive (the worker runs core.heartbeat
    every minute from beat), shown to staff and on /readyz/."""

    name = models.CharField(max_length=64, primary_key=True)
    at = models.DateTimeField()

    def __str__(self):
        return f"{self.name} at {self.at:%Y-%m-%d %H:%M:%S}"
