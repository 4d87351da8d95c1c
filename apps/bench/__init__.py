"""`make bench`: Tally's real code paths against baselines on the same data, in the same run.

A leaf of the app graph (like the tests): it may import every app; no app imports it.
"""
