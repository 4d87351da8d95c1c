from hypothesis import settings

pytest_plugins = ["apps.common.testing.fixtures"]

# The suite's property tests draw the same examples on every run, so that a red run is a change's doing, not a new
# draw's; `--hypothesis-profile=explore` draws new ones (and keeps failures in .hypothesis/ to replay them).
settings.register_profile("tally", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile("tally")
