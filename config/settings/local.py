"""Developer machine defaults: plain-text logs, otherwise base."""

from config.env import env_str
from config.settings.base import *  # noqa: F403
from config.settings.base import LOGGING

LOGGING["handlers"]["console"]["formatter"] = env_str("TALLY_LOG_FORMAT", "plain")
