"""Athena queries over the study's three tables, each with its answer computed in plain Python.

Every query is written from the Trino/Athena documentation's semantics (date_diff
counts whole units, element_at is 1-based and NULL out of range, regexp_extract
is NULL without a match, integer division truncates, ...). Each answer comes
from the lake's raw JSON files (``Lake.obs``, ``Lake.out``) or from the Hudi
table read through hudi-rs (``Lake.joined``), never from DuckDB.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from zfish.settings import LakeLayout

Rows = list[tuple[Any, ...]]


@dataclass
class Lake:
    """The raw rows of the three tables, as Python dicts."""

    layout: LakeLayout
    obs: list[dict[str, Any]]
    out: list[dict[str, Any]]
    joined: list[dict[str, Any]]

    @classmethod
    def load(cls, layout: LakeLayout) -> Lake:
        from zfish import fishtable

        def rows(kind: str) -> list[dict[str, Any]]:
            found = []
            for path in sorted((layout.dataset / kind).glob("day=*/*.json")):
                for line in path.read_text().splitlines():
                    value = json.loads(line)
                    for record in value if isinstance(value, list) else [value]:
                        record["day"] = path.parent.name.removeprefix("day=")
                        rel = path.relative_to(layout.dataset).as_posix()
                        record["$path"] = f"{layout.s3_uri}/{rel}"
                        record["$file_size"] = path.stat().st_size
                        found.append(record)
            return found

        joined = fishtable.read(layout.table).to_pylist()
        for row in joined:
            row["timestamp"] = row["timestamp"].astimezone(UTC).replace(tzinfo=None)
        return cls(layout=layout, obs=rows("observations"), out=rows("outcomes"), joined=joined)

    @property
    def first_image(self) -> dict[str, Any]:
        return min(self.obs, key=lambda r: r["image_id"])


@dataclass(frozen=True)
class Case:
    name: str
    sql: str
    expect: Callable[[Lake], Rows]


def _iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _day(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _nearest_rank(values: list[Any], p: float) -> Any:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(p * len(ordered))) - 1]


def _trunc_div(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def _label_day_counts(lake: Lake) -> Rows:
    counts = Counter(r["day"] for r in lake.out)
    running, rows = 0, []
    for day in sorted(counts):
        running += counts[day]
        rows.append((day, counts[day], running))
    return rows


def _first_obs_per_fish(lake: Lake) -> Rows:
    by_fish: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in lake.obs:
        by_fish[r["fish_id"]].append(r)
    rows = []
    for fish in sorted(by_fish)[:2]:
        for rn, r in enumerate(sorted(by_fish[fish], key=lambda r: r["age_days"]), start=1):
            rows.append((fish, r["age_days"], rn))
    return rows


FIRST = "(SELECT min(image_id) FROM observations)"

CASES: list[Case] = [
    # The seed's statements.
    Case(
        "seed_outcomes_count",
        'SELECT count(*) FROM "zebra_fish_demo"."outcomes";',
        lambda L: [(len(L.out),)],
    ),
    Case(
        "seed_joined_count",
        'SELECT count(*) FROM "zebra_fish_demo"."joined_fish_data";',
        lambda L: [(len(L.joined),)],
    ),
    Case(
        "qualified_with_catalog",
        'SELECT count(*) FROM "awsdatacatalog"."zebra_fish_demo"."observations"',
        lambda L: [(len(L.obs),)],
    ),
    Case(
        "observations_per_day",
        "SELECT day, count(*) AS n FROM observations GROUP BY day ORDER BY day",
        lambda L: sorted(Counter(r["day"] for r in L.obs).items()),
    ),
    # Date and time.
    Case(
        "date_parse_partition",
        "SELECT DISTINCT date_parse(day, '%Y-%m-%d') AS d FROM outcomes ORDER BY d",
        lambda L: [(_day(d),) for d in sorted({r["day"] for r in L.out})],
    ),
    Case(
        "from_iso8601_timestamp",
        f'SELECT from_iso8601_timestamp("timestamp") FROM observations WHERE image_id = {FIRST}',
        lambda L: [(_iso(L.first_image["timestamp"]),)],
    ),
    Case(
        "date_format_mysql_specifiers",
        f"SELECT date_format(from_iso8601_timestamp(\"timestamp\"), '%Y/%m/%d %H:%i:%s') FROM observations WHERE image_id = {FIRST}",
        lambda L: [(_iso(L.first_image["timestamp"]).strftime("%Y/%m/%d %H:%M:%S"),)],
    ),
    Case(
        "date_format_names",
        "SELECT date_format(DATE '2025-05-11', '%W %M %e, %Y')",
        lambda L: [("Sunday May 11, 2025",)],
    ),
    Case(
        "date_add_timestamp",
        "SELECT DISTINCT date_add('day', 3, date_parse(day, '%Y-%m-%d')) AS d FROM outcomes ORDER BY d",
        lambda L: [(_day(d) + timedelta(days=3),) for d in sorted({r["day"] for r in L.out})],
    ),
    Case(
        "date_add_date_stays_date",
        "SELECT date_add('day', 1, DATE '2025-05-10')",
        lambda L: [(date(2025, 5, 11),)],
    ),
    Case(
        "date_add_month",
        "SELECT date_add('month', 1, DATE '2025-01-31')",
        lambda L: [(date(2025, 2, 28),)],
    ),
    Case(
        "date_diff_days_since",
        "SELECT date_diff('day', DATE '2025-04-01', date_parse(max(day), '%Y-%m-%d')) FROM observations",
        lambda L: [((_day(max(r["day"] for r in L.obs)) - datetime(2025, 4, 1)).days,)],
    ),
    Case(
        "date_diff_whole_units",
        "SELECT date_diff('day', TIMESTAMP '2025-05-10 23:00:00', TIMESTAMP '2025-05-11 01:00:00'), "
        "date_diff('hour', TIMESTAMP '2025-05-10 23:00:00', TIMESTAMP '2025-05-11 01:30:00')",
        lambda L: [(0, 2)],
    ),
    Case(
        "date_diff_negative",
        "SELECT date_diff('day', DATE '2025-05-11', DATE '2025-05-01')",
        lambda L: [(-10,)],
    ),
    Case(
        "to_unixtime",
        "SELECT to_unixtime(from_iso8601_timestamp('2025-05-10T00:00:00Z'))",
        lambda L: [(datetime(2025, 5, 10, tzinfo=UTC).timestamp(),)],
    ),
    Case(
        "year_month_day_of_week",
        "SELECT year(d), month(d), day(d), day_of_week(d), day_of_year(d) FROM (SELECT DATE '2025-05-11' AS d)",
        lambda L: [(2025, 5, 11, 7, date(2025, 5, 11).timetuple().tm_yday)],
    ),
    Case("current_date", "SELECT current_date", lambda L: [(datetime.now(UTC).date(),)]),
    Case(
        "interval_hours",
        "SELECT from_iso8601_timestamp('2025-05-10T00:00:00Z') + INTERVAL '36' HOUR",
        lambda L: [(datetime(2025, 5, 11, 12, tzinfo=UTC),)],
    ),
    Case(
        "date_plus_interval_is_date",
        "SELECT DATE '2025-05-10' + INTERVAL '2' DAY",
        lambda L: [(date(2025, 5, 12),)],
    ),
    Case(
        "date_trunc_month_of_date",
        "SELECT date_trunc('month', DATE '2025-05-17')",
        lambda L: [(date(2025, 5, 1),)],
    ),
    Case(
        "label_delay_days",
        "SELECT o.fish_id, date_diff('day', date_parse(min(b.day), '%Y-%m-%d'), date_parse(o.day, '%Y-%m-%d')) AS delay "
        "FROM outcomes o JOIN observations b ON b.fish_id = o.fish_id GROUP BY o.fish_id, o.day ORDER BY o.fish_id LIMIT 5",
        lambda L: [
            (
                f,
                (
                    _day(next(r["day"] for r in L.out if r["fish_id"] == f))
                    - _day(min(r["day"] for r in L.obs if r["fish_id"] == f))
                ).days,
            )
            for f in sorted({r["fish_id"] for r in L.out} & {r["fish_id"] for r in L.obs})[:5]
        ],
    ),
    # Strings and regular expressions.
    Case(
        "split_element_at",
        "SELECT element_at(split(fish_id, '_'), 2) AS n FROM outcomes ORDER BY n LIMIT 3",
        lambda L: [(x,) for x in sorted(r["fish_id"].split("_")[1] for r in L.out)[:3]],
    ),
    Case("element_at_negative", "SELECT element_at(split('a_b_c', '_'), -1)", lambda L: [("c",)]),
    Case("element_at_out_of_range", "SELECT element_at(ARRAY[1, 2], 5)", lambda L: [(None,)]),
    Case(
        "split_subscript_group",
        "SELECT split(image_id, '_')[3] AS obs_no, count(*) FROM observations GROUP BY 1 ORDER BY 1",
        lambda L: sorted(Counter(r["image_id"].split("_")[2] for r in L.obs).items()),
    ),
    Case(
        "regexp_like_partial",
        "SELECT count(*) FROM observations WHERE regexp_like(image_id, '_0[1-3]$')",
        lambda L: [(sum(1 for r in L.obs if r["image_id"][-3:] in ("_01", "_02", "_03")),)],
    ),
    Case(
        "regexp_extract_group",
        "SELECT regexp_extract(fish_id, 'zfish_0*(\\d+)', 1) AS n FROM outcomes ORDER BY fish_id LIMIT 3",
        lambda L: [(str(int(f.split("_")[1])),) for f in sorted(r["fish_id"] for r in L.out)[:3]],
    ),
    Case(
        "regexp_extract_no_match_is_null",
        "SELECT regexp_extract('abc', '\\d+')",
        lambda L: [(None,)],
    ),
    Case(
        "regexp_extract_first_match",
        "SELECT regexp_extract('fish 42 and 7', '\\d+')",
        lambda L: [("42",)],
    ),
    Case(
        "concat_operator",
        "SELECT fish_id || '/' || day FROM outcomes ORDER BY 1 LIMIT 2",
        lambda L: [(x,) for x in sorted(f"{r['fish_id']}/{r['day']}" for r in L.out)[:2]],
    ),
    Case(
        "lower_upper",
        "SELECT DISTINCT upper(treatment) AS t, lower(upper(treatment)) AS l FROM observations ORDER BY t",
        lambda L: [(t.upper(), t) for t in sorted({r["treatment"] for r in L.obs})],
    ),
    Case(
        "substr_forms",
        "SELECT substr(fish_id, 7), substr(fish_id, 1, 5), substr(fish_id, -2) FROM outcomes ORDER BY fish_id LIMIT 1",
        lambda L: [(f[6:], f[:5], f[-2:]) for f in sorted(r["fish_id"] for r in L.out)[:1]],
    ),
    Case(
        "strpos_found_and_not",
        "SELECT strpos('zfish_00001_01', '_'), strpos('zfish', 'x')",
        lambda L: [(6, 0)],
    ),
    Case("array_join", "SELECT array_join(ARRAY['a', 'b', 'c'], '-')", lambda L: [("a-b-c",)]),
    # Arrays and maps.
    Case(
        "cardinality_array_agg",
        "SELECT fish_id, cardinality(array_agg(image_id)) FROM observations GROUP BY fish_id ORDER BY fish_id LIMIT 5",
        lambda L: sorted(Counter(r["fish_id"] for r in L.obs).items())[:5],
    ),
    Case(
        "element_at_array_agg_ordered",
        "SELECT fish_id, element_at(array_agg(age_days ORDER BY age_days DESC), 1) FROM observations GROUP BY fish_id ORDER BY fish_id LIMIT 3",
        lambda L: [
            (f, max(r["age_days"] for r in L.obs if r["fish_id"] == f))
            for f in sorted({r["fish_id"] for r in L.obs})[:3]
        ],
    ),
    Case(
        "contains_in_where",
        "SELECT count(*) FROM observations WHERE contains(ARRAY['placebo', 'compound_x'], treatment)",
        lambda L: [(sum(1 for r in L.obs if r["treatment"] in ("placebo", "compound_x")),)],
    ),
    Case(
        "contains_null_semantics",
        "SELECT contains(ARRAY[1, NULL], 3), contains(ARRAY[1, NULL], 1), contains(ARRAY[1, 2], NULL), contains(ARRAY[1, 2], 3)",
        lambda L: [(None, True, None, False)],
    ),
    Case(
        "unnest_with_ordinality",
        "SELECT x, n FROM UNNEST(ARRAY['a', 'b', 'c']) WITH ORDINALITY AS t(x, n) ORDER BY n",
        lambda L: [("a", 1), ("b", 2), ("c", 3)],
    ),
    Case(
        "unnest_cross_join",
        "SELECT o.fish_id, g.gene FROM outcomes o CROSS JOIN UNNEST(ARRAY['gene_a', 'gene_b']) AS g(gene) "
        "WHERE o.fish_id = (SELECT min(fish_id) FROM outcomes) ORDER BY g.gene",
        lambda L: [(min(r["fish_id"] for r in L.out), g) for g in ("gene_a", "gene_b")],
    ),
    Case(
        "transform_lambda",
        "SELECT transform(ARRAY[1, 2, 3], x -> x * 10)",
        lambda L: [([10, 20, 30],)],
    ),
    Case(
        "filter_array_agg",
        "SELECT fish_id, filter(array_agg(age_days ORDER BY age_days), x -> x > 2) FROM observations GROUP BY fish_id ORDER BY fish_id LIMIT 3",
        lambda L: [
            (f, sorted(r["age_days"] for r in L.obs if r["fish_id"] == f and r["age_days"] > 2))
            for f in sorted({r["fish_id"] for r in L.obs})[:3]
        ],
    ),
    Case(
        "map_cardinality_element_at",
        "SELECT cardinality(m), element_at(m, 'b') FROM (SELECT map(ARRAY['a', 'b'], ARRAY[1, 2]) AS m)",
        lambda L: [(2, 2)],
    ),
    # JSON.
    Case(
        "json_extract_scalar",
        'SELECT json_extract_scalar(\'{"fish": {"id": "z1"}}\', \'$.fish.id\')',
        lambda L: [("z1",)],
    ),
    Case(
        "json_extract_scalar_of_object_is_null",
        "SELECT json_extract_scalar('{\"a\": {\"b\": 1}}', '$.a')",
        lambda L: [(None,)],
    ),
    Case(
        "json_parse_format",
        'SELECT json_format(json_parse(\'{"a": 1, "b": [1, 2]}\'))',
        lambda L: [('{"a":1,"b":[1,2]}',)],
    ),
    # Aggregates.
    Case(
        "approx_distinct",
        "SELECT approx_distinct(fish_id) FROM observations",
        lambda L: [(len({r["fish_id"] for r in L.obs}),)],
    ),
    Case(
        "approx_percentile_median",
        "SELECT approx_percentile(age_days, 0.5) FROM joined_fish_data",
        lambda L: [(_nearest_rank([r["age_days"] for r in L.joined], 0.5),)],
    ),
    Case(
        "approx_percentile_array",
        "SELECT approx_percentile(length_mm, ARRAY[0.25, 0.75]) FROM observations",
        lambda L: [([_nearest_rank([r["length_mm"] for r in L.obs], p) for p in (0.25, 0.75)],)],
    ),
    Case(
        "count_if",
        "SELECT count_if(condition_developed) FROM outcomes",
        lambda L: [(sum(1 for r in L.out if r["condition_developed"]),)],
    ),
    Case(
        "max_by_min_by",
        "SELECT max_by(length_mm, image_id), min_by(length_mm, image_id) FROM observations",
        lambda L: [
            (max(L.obs, key=lambda r: r["image_id"])["length_mm"], L.first_image["length_mm"])
        ],
    ),
    Case(
        "max_by_keeps_null",
        "SELECT max_by(x, y), min_by(x, y) FROM (VALUES (NULL, 3), (1, 2)) AS t(x, y)",
        lambda L: [(None, 1)],
    ),
    Case(
        "arbitrary",
        "SELECT arbitrary(day) FROM outcomes WHERE day = (SELECT min(day) FROM outcomes)",
        lambda L: [(min(r["day"] for r in L.out),)],
    ),
    Case(
        "avg_double",
        "SELECT avg(length_mm) FROM observations",
        lambda L: [(sum(r["length_mm"] for r in L.obs) / len(L.obs),)],
    ),
    Case(
        "sum_integer_division",
        "SELECT sum(age_days) / count(*) FROM observations",
        lambda L: [(_trunc_div(sum(r["age_days"] for r in L.obs), len(L.obs)),)],
    ),
    # try, casts, arithmetic.
    Case(
        "try_cast_failure",
        "SELECT try(CAST('abc' AS integer)), try_cast('12' AS integer), try_cast('x' AS integer)",
        lambda L: [(None, 12, None)],
    ),
    Case("try_division_by_zero", "SELECT try(10 / 0)", lambda L: [(None,)]),
    Case(
        "integer_division_truncates",
        "SELECT 7 / 2, -7 / 2, 7 % 3, 7.0 / 2",
        lambda L: [(3, -3, 1, Decimal("3.5"))],
    ),
    Case(
        "cast_varchar",
        f"SELECT CAST(age_days AS varchar) FROM observations WHERE image_id = {FIRST}",
        lambda L: [(str(L.first_image["age_days"]),)],
    ),
    Case(
        "cast_double_ratio",
        "SELECT CAST(count_if(condition_developed) AS double) / count(*) FROM outcomes",
        lambda L: [(sum(1 for r in L.out if r["condition_developed"]) / len(L.out),)],
    ),
    Case(
        "cast_decimal",
        f"SELECT CAST(length_mm AS decimal(6, 1)) FROM observations WHERE image_id = {FIRST}",
        lambda L: [
            (
                Decimal(repr(L.first_image["length_mm"])).quantize(
                    Decimal("0.1"), rounding=ROUND_HALF_UP
                ),
            )
        ],
    ),
    Case(
        "coalesce_if",
        "SELECT count_if(coalesce(sex, 'unknown') = 'unknown'), count(if(age_days > 3, 1)) FROM observations",
        lambda L: [
            (
                sum(1 for r in L.obs if r.get("sex") is None),
                sum(1 for r in L.obs if r["age_days"] > 3),
            )
        ],
    ),
    Case(
        "case_groups",
        "SELECT CASE WHEN age_days < 3 THEN 'young' ELSE 'old' END AS g, count(*) FROM observations GROUP BY 1 ORDER BY 1",
        lambda L: sorted(Counter("young" if r["age_days"] < 3 else "old" for r in L.obs).items()),
    ),
    # Window functions, WITH, VALUES, set operations, joins.
    Case(
        "row_number_window",
        "SELECT fish_id, age_days, row_number() OVER (PARTITION BY fish_id ORDER BY age_days) AS rn FROM observations "
        "WHERE fish_id IN (SELECT fish_id FROM observations GROUP BY fish_id ORDER BY fish_id LIMIT 2) ORDER BY fish_id, rn",
        _first_obs_per_fish,
    ),
    Case(
        "running_sum_window",
        "SELECT day, count(*) AS n, sum(count(*)) OVER (ORDER BY day) AS running FROM outcomes GROUP BY day ORDER BY day",
        _label_day_counts,
    ),
    Case(
        "lag_window",
        "SELECT day, lag(day) OVER (ORDER BY day) FROM (SELECT DISTINCT day FROM outcomes) ORDER BY day",
        lambda L: [
            (d, p)
            for d, p in zip(
                sorted({r["day"] for r in L.out}),
                [None, *sorted({r["day"] for r in L.out})],
                strict=False,
            )
        ],
    ),
    Case(
        "with_join",
        "WITH labelled AS (SELECT fish_id FROM outcomes WHERE condition_developed) "
        "SELECT count(*) FROM observations o JOIN labelled l ON o.fish_id = l.fish_id",
        lambda L: [
            (
                sum(
                    1
                    for r in L.obs
                    if r["fish_id"] in {o["fish_id"] for o in L.out if o["condition_developed"]}
                ),
            )
        ],
    ),
    Case(
        "values_table",
        "SELECT * FROM (VALUES (1, 'a'), (2, 'b')) AS t(id, name) ORDER BY id",
        lambda L: [(1, "a"), (2, "b")],
    ),
    Case(
        "union_all",
        "SELECT 'observations' AS t, count(*) AS n FROM observations UNION ALL SELECT 'outcomes', count(*) FROM outcomes ORDER BY t",
        lambda L: [("observations", len(L.obs)), ("outcomes", len(L.out))],
    ),
    Case(
        "left_join_unlabelled",
        "SELECT count(*) FROM observations o LEFT JOIN outcomes c ON o.fish_id = c.fish_id WHERE c.fish_id IS NULL",
        lambda L: [(sum(1 for r in L.obs if r["fish_id"] not in {o["fish_id"] for o in L.out}),)],
    ),
    Case(
        "struct_fields",
        "SELECT count(*) FROM observations WHERE genetic_markers.gene_a AND NOT genetic_markers.gene_b",
        lambda L: [
            (
                sum(
                    1
                    for r in L.obs
                    if r["genetic_markers"]["gene_a"] and not r["genetic_markers"]["gene_b"]
                ),
            )
        ],
    ),
    # Pseudo-columns.
    Case(
        "path_pseudo_column",
        f'SELECT "$path" FROM observations WHERE image_id = {FIRST}',
        lambda L: [(L.first_image["$path"],)],
    ),
    Case(
        "file_size_pseudo_column",
        'SELECT sum("$file_size"), count(DISTINCT "$path") FROM outcomes',
        lambda L: [(sum(r["$file_size"] for r in L.out), len({r["$path"] for r in L.out}))],
    ),
    Case(
        "path_qualified_in_join",
        'SELECT count(DISTINCT c."$path") FROM observations o JOIN outcomes c ON o.fish_id = c.fish_id',
        lambda L: [
            (len({c["$path"] for c in L.out if c["fish_id"] in {o["fish_id"] for o in L.obs}}),)
        ],
    ),
    # The Hudi table.
    Case(
        "joined_label_rate_by_treatment",
        "SELECT treatment, count_if(condition_developed) AS positives, count(*) AS n FROM joined_fish_data GROUP BY treatment ORDER BY treatment",
        lambda L: sorted(
            (
                t,
                sum(1 for r in L.joined if r["treatment"] == t and r["condition_developed"]),
                sum(1 for r in L.joined if r["treatment"] == t),
            )
            for t in {r["treatment"] for r in L.joined}
        ),
    ),
    Case(
        "joined_timestamp_without_zone",
        'SELECT min("timestamp"), max("timestamp") FROM joined_fish_data',
        lambda L: [(min(r["timestamp"] for r in L.joined), max(r["timestamp"] for r in L.joined))],
    ),
    Case(
        "joined_meta_columns",
        "SELECT count(DISTINCT _hoodie_commit_time), count(DISTINCT _hoodie_partition_path) FROM joined_fish_data",
        lambda L: [
            (
                len({r["_hoodie_commit_time"] for r in L.joined}),
                len({r["_hoodie_partition_path"] for r in L.joined}),
            )
        ],
    ),
    Case(
        "joined_gene_rates",
        "SELECT gene_a, round(avg(CAST(condition_developed AS integer)), 4) FROM joined_fish_data GROUP BY gene_a ORDER BY gene_a",
        lambda L: [
            (
                g,
                round(
                    sum(1 for r in L.joined if r["gene_a"] is g and r["condition_developed"])
                    / sum(1 for r in L.joined if r["gene_a"] is g),
                    4,
                ),
            )
            for g in sorted({r["gene_a"] for r in L.joined})
        ],
    ),
]
