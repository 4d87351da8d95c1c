"""What course_analytics tells the apps above it, which it does not know (the activity aggregator listens)."""

from django.dispatch import Signal

# Sent after an ingest batch stored new tracking events, with `days`: the sorted UTC days that received some.
tracking_events_stored = Signal()
