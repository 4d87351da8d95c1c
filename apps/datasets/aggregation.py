"""The statistics of a "sessions-summary-by-group" dataset, computed set-based in polars.

Choices where the reference is silent (docs/api-dialects.md repeats them):
- A user's score, max_score, attempted_max_score and unscored_max_score are the sums over their sessions inside the
  time filter; seen_activities is the number of distinct activities of those sessions.
- percent = score / max_score x 100; attempted percent = attempted_max_score / max_score x 100. With max_score 0
  both are null: such a user counts in the score statistics and population, not in the percent statistics.
- population counts every user placed in the group, with or without sessions; the statistics are over the users
  who have sessions (a user without any has null scores, shown as null in the user rows).
- Percentiles interpolate linearly between closest ranks (numpy's default, Excel's PERCENTILE.INC); medians too.
- Standard deviations are population ones (ddof 0). Values are not rounded.
- group_count is the number of child groups (0 at the leaves); the root is the node of path [].
- A leaf's file lists its users: its `fields` are `user_id` and the user fields, sorted by the users' sort field.
"""

import json
import re
from datetime import datetime

import polars as pl

from apps.common.exceptions import ServiceError
from apps.common.frames import text_refused
from apps.datasets.spec import MAX_LINE_BYTES, PERCENTILE_FIELD

MAX_SESSIONS_PER_USER = 50
MAX_REPORTED_LINES = 20
KEY_SEPARATOR = "\x1f"
LINE_SCHEMA = pl.Struct(
    {
        "user_id": pl.String,
        "session_id": pl.List(pl.String),
        "session_ids": pl.List(pl.String),
        "group_path": pl.List(pl.String),
    }
)
SESSION_SCHEMA = {
    "session_id": pl.String,
    "user_id": pl.String,
    "activity_id": pl.String,
    "score": pl.Float64,
    "max_score": pl.Float64,
    "attempted_max_score": pl.Float64,
    "unscored_max_score": pl.Float64,
}
MEMBERSHIP_SCHEMA = {"user_id": pl.String, "session_ids": pl.List(pl.String), "path": pl.List(pl.String)}


class InputFileError(ServiceError):
    """A membership file with bad lines; the message lists them by file and line number."""


def _bad_lines(problems: pl.DataFrame, file_index: int) -> InputFileError:
    shown = problems.head(MAX_REPORTED_LINES)
    listed = "; ".join(f"file {file_index} line {line}: {why}" for line, why in shown.iter_rows())
    more = f" (and {problems.height - MAX_REPORTED_LINES} more)" if problems.height > MAX_REPORTED_LINES else ""
    return InputFileError(f"Bad lines: {listed}{more}", code="invalid")


def _structural_errors(lines: pl.DataFrame) -> pl.DataFrame:
    """Which lines are not JSON objects of the expected shape. Only reached when polars refuses the file as a whole,
    so that a good file is never parsed line by line."""
    problems = []
    for number, text in lines.select("line", "text").iter_rows():
        try:
            pl.Series([text]).str.json_decode(LINE_SCHEMA)
            value = json.loads(text)
        except Exception:  # polars and json raise several types for the same fault
            problems.append((number, "not a JSON object of user_id, session_id(s) and group_path strings"))
            continue
        if not isinstance(value, dict):
            problems.append((number, "not a JSON object"))
    return pl.DataFrame(problems, schema={"line": pl.Int64, "why": pl.String}, orient="row")


def memberships_parse(content: bytes, *, depth: int, file_index: int = 0) -> pl.DataFrame:
    """One uploaded NDJSON file as (user_id, session_ids, path, line); an InputFileError naming its bad lines.

    A line is `{"user_id": ..., "session_id": [...], "group_path": [...]}` (`session_ids` too; a single id may be a
    string), at most MAX_LINE_BYTES. Blank lines are skipped; line numbers count every line of the file.
    """
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        raise InputFileError(f"Bad file {file_index}: not UTF-8", code="invalid") from None
    lines = pl.DataFrame({"text": text.split("\n")}).with_row_index("line", offset=1)
    lines = lines.with_columns(pl.col("text").str.strip_chars()).filter(pl.col("text") != "")
    too_long = lines.filter(pl.col("text").str.len_bytes() > MAX_LINE_BYTES)
    if too_long.height:
        raise _bad_lines(too_long.select("line", why=pl.lit(f"longer than {MAX_LINE_BYTES} bytes")), file_index)
    try:
        parsed = lines.with_columns(pl.col("text").str.json_decode(LINE_SCHEMA).alias("parsed")).unnest("parsed")
    except pl.exceptions.PolarsError:
        raise _bad_lines(_structural_errors(lines), file_index) from None
    parsed = parsed.with_columns(pl.coalesce("session_ids", "session_id").alias("session_ids"))
    why = (
        pl.when(pl.col("user_id").is_null() | (pl.col("user_id") == ""))
        .then(pl.lit("user_id is missing"))
        .when(pl.col("session_ids").list.len().fill_null(0) > MAX_SESSIONS_PER_USER)
        .then(pl.lit(f"more than {MAX_SESSIONS_PER_USER} session ids"))
        .when(pl.col("group_path").is_null() | (pl.col("group_path").list.len() != depth))
        .then(pl.lit(f"group_path must list {depth} group names"))
        .when(pl.col("group_path").list.eval(pl.element().is_null() | (pl.element() == "")).list.any())
        .then(pl.lit("group_path has an empty name"))
        # A NUL (polars also decodes an escaped lone surrogate to one) cannot be stored in an output file's key, nor
        # can the separator of the key's names.
        .when(text_refused("user_id"))
        .then(pl.lit("user_id holds a NUL or a lone surrogate"))
        .when(pl.col("group_path").list.eval(pl.element().str.contains(f"[\x00{KEY_SEPARATOR}]")).list.any())
        .then(pl.lit("a group name holds a NUL, a lone surrogate or \\x1f"))
        .when(pl.col("user_id").is_duplicated())
        .then(pl.lit("user_id is listed twice"))
    )
    checked = parsed.with_columns(why.alias("why"))
    problems = checked.filter(pl.col("why").is_not_null()).select("line", "why")
    if problems.height:
        raise _bad_lines(problems, file_index)
    return checked.select(
        "user_id",
        pl.col("session_ids").fill_null(pl.lit([], dtype=pl.List(pl.String))),
        pl.col("group_path").alias("path"),
    )


def memberships_combine(frames: list[pl.DataFrame]) -> pl.DataFrame:
    """The files of a dataset as one frame; a user listed in two files is an error."""
    combined = pl.concat(frames) if frames else pl.DataFrame(schema=MEMBERSHIP_SCHEMA)
    twice = combined.filter(pl.col("user_id").is_duplicated())["user_id"].unique().head(MAX_REPORTED_LINES)
    if twice.len():
        raise InputFileError(f"Users listed in more than one line: {', '.join(twice.to_list())}", code="invalid")
    return combined


def sessions_within(sessions: pl.DataFrame, *, mintime: datetime | None, maxtime: datetime | None) -> pl.DataFrame:
    """The sessions completed inside [mintime, maxtime] (either end open), as a frame of SESSION_SCHEMA. A session
    with no completion time is outside any filter that sets a bound."""
    if mintime is not None:
        sessions = sessions.filter(pl.col("dt_completed") >= mintime)
    if maxtime is not None:
        sessions = sessions.filter(pl.col("dt_completed") <= maxtime)
    return sessions.select(list(SESSION_SCHEMA))


def user_scores(memberships: pl.DataFrame, sessions: pl.DataFrame, *, by_user: bool = False) -> pl.DataFrame:
    """Per placed user: path, summed scores, seen activities and percents (null without sessions).

    Sessions are matched by the ids the membership lists, or by user id when `by_user` (a hierarchy from Tally's
    groups, whose members list no sessions).
    """
    if by_user:
        matched = memberships.select("user_id").join(sessions, on="user_id")
    else:
        listed = memberships.select("user_id", pl.col("session_ids").alias("session_id")).explode("session_id")
        matched = listed.join(sessions.drop("user_id"), on="session_id")
    totals = matched.group_by("user_id").agg(
        pl.col("score", "max_score", "attempted_max_score", "unscored_max_score").sum(),
        pl.col("activity_id").n_unique().alias("seen_activities"),
    )
    return (
        memberships.select("user_id", "path")
        .join(totals, on="user_id", how="left")
        .with_columns(
            pl.when(pl.col("max_score") > 0).then(100 * pl.col("score") / pl.col("max_score")).alias("percent"),
            pl.when(pl.col("max_score") > 0)
            .then(100 * pl.col("attempted_max_score") / pl.col("max_score"))
            .alias("attempted_percent"),
        )
    )


def _field_expression(field: str, *, child: str | None) -> pl.Expr:
    if match := PERCENTILE_FIELD.match(field):
        return pl.col(match.group(2)).quantile(int(match.group(1)) / 100, interpolation="linear").alias(field)
    if field == "group_count":
        return (pl.col(child).n_unique() if child else pl.lit(0)).cast(pl.Int64).alias(field)
    if field == "population":
        return pl.len().cast(pl.Int64).alias(field)
    if field == "mean_seen_activities":
        return pl.col("seen_activities").mean().alias(field)
    if field == "mean_attempted_percent":
        return pl.col("attempted_percent").mean().alias(field)
    statistic, column = re.fullmatch(r"(lowest|highest|mean|median|stddev)_(score|percent)", field).groups()
    value = pl.col(column)
    return {
        "lowest": value.min(),
        "highest": value.max(),
        "mean": value.mean(),
        "median": value.median(),
        "stddev": value.std(ddof=0),
    }[statistic].alias(field)


def _level(depth: int) -> list[str]:
    return [f"level_{n}" for n in range(1, depth + 1)]


def _key(columns: list[str]) -> pl.Expr:
    return pl.concat_str([pl.col(c) for c in columns], separator=KEY_SEPARATOR) if columns else pl.lit("")


def node_statistics(users: pl.DataFrame, *, depth: int, fields: list[str]) -> pl.DataFrame:
    """Every node of the hierarchy, the root included: level, key, parent key, path, name and each field.

    One grouped aggregation per level (a fixed number of passes, whatever the number of groups).
    """
    levels = _level(depth)
    placed = users.with_columns(pl.col("path").list.get(n).alias(name) for n, name in enumerate(levels))
    per_level = []
    for depth_here in range(depth + 1):
        keys = levels[:depth_here]
        child = levels[depth_here] if depth_here < depth else None
        aggregations = [_field_expression(field, child=child) for field in fields]
        grouped = placed.group_by(keys).agg(aggregations) if keys else placed.select(aggregations)
        per_level.append(
            grouped.select(
                pl.lit(depth_here).alias("level"),
                _key(keys).alias("key"),
                _key(keys[:-1]).alias("parent_key"),
                (pl.concat_list(keys) if keys else pl.lit([], dtype=pl.List(pl.String))).alias("path"),
                (pl.col(keys[-1]) if keys else pl.lit(None, dtype=pl.String)).alias("name"),
                *fields,
            )
        )
    return pl.concat(per_level, how="vertical_relaxed")


def _json(expression: pl.Expr) -> pl.Expr:
    """A column's values as JSON text, escaped by polars' own encoder."""
    return pl.struct(expression.alias("v")).struct.json_encode().str.slice(5).str.head(-1)


def _json_row(columns: list[str]) -> pl.Expr:
    return pl.concat_str([pl.lit("["), pl.concat_str([_json(pl.col(c)) for c in columns], separator=","), pl.lit("]")])


def _paged(frame: pl.DataFrame, *, parent: str, sort: str, descending: bool, rows_per_page: int) -> pl.DataFrame:
    """Rows sorted within their parent (ties by their key) and cut into pages of rows_per_page: (parent, page,
    rows as one JSON text, rows_total)."""
    ordered = frame.sort([parent, sort, "tie"], descending=[False, descending, False], nulls_last=True)
    return (
        ordered.with_columns(
            (pl.int_range(pl.len()).over(parent) // rows_per_page + 1).alias("page"),
            pl.len().over(parent).alias("rows_total"),
        )
        .group_by([parent, "page"], maintain_order=True)
        .agg(pl.col("row").str.join(","), pl.col("rows_total").first())
        .rename({parent: "key"})
    )


# The fields that name a node, first in its row.
NAMING_FIELDS = ("group_id", "group_path", "group_name")


def node_fields(spec: dict) -> list[str]:
    """The fields of a node's row (its own, in `self`, and its child groups'), in order."""
    return [*NAMING_FIELDS, *spec["fields"]]


def dataset_documents(users: pl.DataFrame, nodes: pl.DataFrame, *, spec: dict) -> pl.DataFrame:
    """Every output file: (key, group_id, page, document), the document in the reference's JSON shape."""
    node_columns = node_fields(spec)
    user_fields = ["user_id", *spec["user_fields"]]
    nodes = nodes.with_columns(
        pl.col("key").hash(seed=20).cast(pl.String).str.zfill(20).alias("group_id"),
        pl.col("path").alias("group_path"),
        pl.col("name").alias("group_name"),
    ).with_columns(_json_row(node_columns).alias("row"))
    children = _paged(
        nodes.filter(pl.col("level") > 0).with_columns(pl.col("key").alias("tie")),
        parent="parent_key",
        sort=spec["sort_field"],
        descending=spec["sort_order"] == "desc",
        rows_per_page=spec["rows_per_page"],
    )
    leaf_users = _paged(
        users.with_columns(
            pl.col("path").list.join(KEY_SEPARATOR).alias("leaf"),
            pl.col("user_id").alias("tie"),
            _json_row(user_fields).alias("row"),
        ),
        parent="leaf",
        sort=spec["users_sort_field"],
        descending=spec["users_sort_order"] == "desc",
        rows_per_page=spec["rows_per_page"],
    )
    headers = [
        (node_columns, spec["sort_field"], spec["sort_order"]),
        (user_fields, spec["users_sort_field"], spec["users_sort_order"]),
    ]
    pages = pl.concat(
        frame.with_columns(
            pl.lit(json.dumps(fields)).alias("fields"), pl.lit(sort_field).alias("sf"), pl.lit(order).alias("so")
        )
        for frame, (fields, sort_field, order) in zip((children, leaf_users), headers, strict=True)
    )
    documents = pages.join(nodes.select("key", "group_id", "group_path", "group_name", "row"), on="key", suffix="_self")
    parts = {
        "group_id": _json(pl.col("group_id")),
        "group_name": _json(pl.col("group_name")),
        "group_path": _json(pl.col("group_path")),
        "fields": pl.col("fields"),
        "sort_field": _json(pl.col("sf")),
        "sort_order": _json(pl.col("so")),
        "rows_per_page": pl.lit(str(spec["rows_per_page"])),
        "rows_total": pl.col("rows_total").cast(pl.String),
        "self": pl.col("row_self"),
        "rows": pl.concat_str([pl.lit("["), pl.col("row"), pl.lit("]")]),
    }
    members = [pl.concat_str([pl.lit(json.dumps(name) + ":"), value]) for name, value in parts.items()]
    document = pl.concat_str([pl.lit("{"), pl.concat_str(members, separator=","), pl.lit("}")])
    return documents.select("key", "group_id", "page", document.alias("document"))
