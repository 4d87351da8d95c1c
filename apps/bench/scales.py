"""Sizes of the bench. `full` is the scale of the goals; `small` is the CI smoke run (a couple of minutes)."""

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Scale:
    name: str
    learners: int  # the generated tracking log has about 87 events per learner over 119 days
    days: int  # a multiple of 7 from a Monday, so that every generated week is complete
    groups: int
    newspark_groups: int  # the groups of the vhost that getGroups pages through
    http_seconds: float  # per target, split into alternating rounds
    http_clients: int
    repeats: int  # get_group_count's timings, of which the median counts
    dataset_tree: tuple[int, int, int] = (1, 1, 1)  # districts, schools per district, classes per school
    dataset_users: int = 0  # each with SESSIONS_PER_USER sessions
    aggregate_rows: int = 0  # activity_agg rows (users x courses x metrics) behind the aggregator's endpoint


START = date(2025, 1, 6)  # a Monday, long past: every generated week is complete
SCALES = {
    "small": Scale(
        "small",
        learners=1_200,
        days=35,
        groups=20_000,
        newspark_groups=10_000,
        # Long enough for a p99 over a few thousand requests, and a median over a query of a few milliseconds.
        http_seconds=6,
        http_clients=4,
        repeats=25,
        dataset_tree=(4, 5, 5),
        dataset_users=2_000,
        aggregate_rows=30_000,
    ),
    "full": Scale(
        "full",
        learners=117_000,
        days=119,
        groups=1_000_000,
        newspark_groups=100_000,
        http_seconds=10,
        http_clients=8,
        repeats=5,
        dataset_tree=(10, 20, 50),
        dataset_users=200_000,
        aggregate_rows=1_000_000,
    ),
}
SESSIONS_PER_USER = 10
COURSES = [
    "course-v1:BenchX+MATH101+2025_T1",
    "course-v1:BenchX+PHYS201+2025_T1",
    "course-v1:BenchX+CHEM110+2025_T1",
    "BenchX/HIST100/2025_Spring",
    "course-v1:BenchX+DATA300+2025_T1",
]
