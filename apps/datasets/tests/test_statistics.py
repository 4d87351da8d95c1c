"""The statistics of a dataset: the seed's known figures, the documented choices, and every field against an
independent numpy computation on random data."""

import json
import random
import re

import numpy as np
import polars as pl
import pytest

from apps.datasets.aggregation import MEMBERSHIP_SCHEMA, SESSION_SCHEMA, node_statistics, user_scores
from apps.datasets.spec import GROUP_FIELDS
from apps.datasets.tests.conftest import SEED_SCORES

ALL_FIELDS = [*GROUP_FIELDS, "p05_score", "p25_score", "p75_score", "p90_score", "p10_percent", "p99_percent"]


def _frames(users: list[dict], sessions: list[dict]) -> tuple[pl.DataFrame, pl.DataFrame]:
    memberships = pl.DataFrame(
        {
            "user_id": [u["user_id"] for u in users],
            "session_ids": [u["sessions"] for u in users],
            "path": [u["path"] for u in users],
        },
        schema=MEMBERSHIP_SCHEMA,
    )
    return memberships, pl.DataFrame(sessions, schema=SESSION_SCHEMA)


def _session(n: int, score: float, max_score: float = 10.0, *, activity: str = "a1", attempted: float | None = None):
    return {
        "session_id": f"s{n}",
        "user_id": f"u{n}",
        "activity_id": activity,
        "score": score,
        "max_score": max_score,
        "attempted_max_score": max_score if attempted is None else attempted,
        "unscored_max_score": 0.0,
    }


def test_the_seed_scores_give_the_known_statistics():
    # given eight users in two classes, one session each, scoring 2, 4, 4, 4, 5, 5, 7, 9 out of 10
    users = [
        {"user_id": f"u{n}", "sessions": [f"s{n}"], "path": ["Oregon", "Springfield", f"class{n % 2}"]}
        for n in range(8)
    ]
    memberships, sessions = _frames(users, [_session(n, float(score)) for n, score in enumerate(SEED_SCORES)])

    # when the root's statistics are computed
    nodes = node_statistics(user_scores(memberships, sessions), depth=3, fields=ALL_FIELDS)
    root = nodes.filter(pl.col("level") == 0).to_dicts()[0]

    # then they are the seed's: population stddev 2 (a sample one would be 2.138), linear-interpolated median 4.5
    assert {
        k: root[k]
        for k in (
            "population",
            "group_count",
            "lowest_score",
            "highest_score",
            "mean_score",
            "median_score",
            "stddev_score",
            "mean_percent",
            "stddev_percent",
        )
    } == {
        "population": 8,
        "group_count": 1,
        "lowest_score": 2.0,
        "highest_score": 9.0,
        "mean_score": 5.0,
        "median_score": 4.5,
        "stddev_score": 2.0,
        "mean_percent": 50.0,
        "stddev_percent": 20.0,
    }
    assert (root["p25_score"], root["p75_score"], root["p90_score"]) == (4.0, 5.5, pytest.approx(7.6))
    assert nodes.filter(pl.col("level") == 2)["group_count"].to_list() == [2]


def test_max_score_zero_leaves_percent_out_and_a_user_without_sessions_counts_only_in_population():
    # given one user with max_score 0, one with no session in range and one scoring 6/12 (attempted 6 of 12)
    users = [{"user_id": f"u{n}", "sessions": [f"s{n}"], "path": ["A"]} for n in range(3)]
    sessions = [_session(0, 0.0, 0.0), _session(2, 6.0, 12.0, attempted=6.0)]
    memberships, frame = _frames(users, sessions)

    # when the root is computed
    root = node_statistics(user_scores(memberships, frame), depth=1, fields=ALL_FIELDS).filter(pl.col("level") == 0)

    # then population counts all three, scores two users, percents one user
    row = root.to_dicts()[0]
    assert (row["population"], row["mean_score"], row["lowest_score"]) == (3, 3.0, 0.0)
    assert (row["mean_percent"], row["lowest_percent"], row["stddev_percent"], row["mean_attempted_percent"]) == (
        50.0,
        50.0,
        0.0,
        50.0,
    )


def _numpy_expected(users: list[dict], sessions: dict[str, dict], depth: int) -> dict[tuple, dict]:
    """The same fields, computed independently with plain Python sums and numpy statistics, per node path."""
    per_user = {}
    for user in users:
        found = [sessions[s] for s in user["sessions"] if s in sessions]
        if not found:
            per_user[user["user_id"]] = None
            continue
        score = sum(s["score"] for s in found)
        max_score = sum(s["max_score"] for s in found)
        attempted = sum(s["attempted_max_score"] for s in found)
        per_user[user["user_id"]] = {
            "score": score,
            "percent": score / max_score * 100 if max_score else None,
            "attempted_percent": attempted / max_score * 100 if max_score else None,
            "seen": len({s["activity_id"] for s in found}),
        }
    expected = {}
    for level in range(depth + 1):
        for path in {tuple(u["path"][:level]) for u in users}:
            members = [u for u in users if tuple(u["path"][:level]) == path]
            stats = [per_user[u["user_id"]] for u in members if per_user[u["user_id"]]]
            scores = np.array([s["score"] for s in stats])
            percents = np.array([s["percent"] for s in stats if s["percent"] is not None])
            node = {
                "population": len(members),
                "group_count": len({tuple(u["path"][: level + 1]) for u in members}) if level < depth else 0,
                "mean_seen_activities": np.mean([s["seen"] for s in stats]),
                "mean_attempted_percent": np.mean(
                    [s["attempted_percent"] for s in stats if s["attempted_percent"] is not None]
                ),
            }
            for name, values in (("score", scores), ("percent", percents)):
                node |= {
                    f"lowest_{name}": values.min(),
                    f"highest_{name}": values.max(),
                    f"mean_{name}": values.mean(),
                    f"median_{name}": np.median(values),
                    f"stddev_{name}": values.std(ddof=0),
                }
            for field in ALL_FIELDS:
                if match := re.fullmatch(r"p(\d\d)_(score|percent)", field):
                    values = scores if match.group(2) == "score" else percents
                    node[field] = np.percentile(values, int(match.group(1)), method="linear")
            expected[path] = node
    return expected


def test_every_field_equals_an_independent_numpy_computation_on_random_data():
    # given 400 users in a 3 x 4 x 5 hierarchy with 0-5 sessions each, random scores, some max_score 0
    rng = random.Random(12)
    users, sessions = [], {}
    for n in range(400):
        path = [f"d{rng.randrange(3)}", f"s{rng.randrange(4)}", f"c{rng.randrange(5)}"]
        ids = []
        for k in range(rng.randrange(6)):
            max_score = rng.choice([0.0, 5.0, 10.0, 20.0])
            session_id = f"s{n}-{k}"
            sessions[session_id] = {
                "session_id": session_id,
                "user_id": f"u{n}",
                "activity_id": f"a{rng.randrange(4)}",
                "score": round(rng.uniform(0, max_score), 2),
                "max_score": max_score,
                "attempted_max_score": round(rng.uniform(0, max_score), 2),
                "unscored_max_score": 1.0,
            }
            ids.append(session_id)
        users.append({"user_id": f"u{n}", "sessions": [*ids, "unknown-session"], "path": path})
    memberships, frame = _frames(users, list(sessions.values()))

    # when Tally computes every node
    nodes = node_statistics(user_scores(memberships, frame), depth=3, fields=ALL_FIELDS)

    # then every field of every node equals numpy's
    expected = _numpy_expected(users, sessions, depth=3)
    assert nodes.height == len(expected)
    for node in nodes.to_dicts():
        want = expected[tuple(node["path"])]
        assert {f: node[f] for f in ALL_FIELDS} == pytest.approx(want, rel=1e-9, abs=1e-9), node["path"]


def test_a_dataset_file_reproduces_the_seed_statistics(seed_dataset_files):
    # given the seed's scores uploaded and built through the services (fixture)
    root = json.loads(seed_dataset_files[()])

    # then the root file's self row carries them in the order of its fields
    values = dict(zip(root["fields"], root["self"], strict=True))
    assert (values["population"], values["mean_score"], values["median_score"], values["stddev_score"]) == (
        8,
        5.0,
        4.5,
        2.0,
    )


def test_the_time_filter_takes_rfc_3339_and_unix_times(consumer):
    from datetime import UTC, datetime

    from apps.datasets.models import DatasetOutputFile
    from apps.datasets.selectors import output_document_read
    from apps.datasets.services import dataset_build, dataset_create, dataset_file_upload
    from apps.datasets.spec import dataset_spec_parse
    from apps.datasets.tests.conftest import dataset_request, ndjson, seed_lines
    from apps.datasets.tests.factories import SessionFactory

    # given the seed's users, whose sessions were completed on days 1 to 8 of November 2026
    for n, score in enumerate(SEED_SCORES):
        SessionFactory(
            session_id=f"s{n}", user_id=f"u{n}", score=score, dt_completed=datetime(2026, 11, n + 1, 12, tzinfo=UTC)
        )
    mintime = int(datetime(2026, 11, 3, tzinfo=UTC).timestamp())
    spec = dataset_spec_parse(
        dataset_request(
            filters={"mintime": mintime, "maxtime": "2026-11-06T23:59:59Z"},
            options={"fields": ["population", "mean_score", "lowest_score", "highest_score"]},
        )
    )

    # when the dataset keeps days 3 to 6 only
    dataset_create(consumer=consumer, spec=spec)
    dataset_file_upload(dataset_id=spec.dataset_id, index=0, content=ndjson(seed_lines()))
    dataset_build(dataset_id=spec.dataset_id)

    # then every user counts, and the statistics cover the scores 4, 4, 5, 5
    root = DatasetOutputFile.objects.get(key="", page=1)
    assert output_document_read(output_file=root)["self"][3:] == [8, 4.5, 4.0, 5.0]
