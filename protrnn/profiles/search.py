"""What every backend's search shares: parameter merging, the searchable queries, the thread pool,
the BLOSUM62 fallback and the statistics every backend reports.

Every backend's ``search_profiles`` returns :class:`Profiles` (per query an L x 20 float32 PSSM in
BLAST column order, half-bit log-odds, and in ``.extras`` its extra columns,
:mod:`protrnn.profiles.extras`) and a stats dict (:func:`finish`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np

from protrnn.core.alphabet import AMINO_ACIDS, N_AA
from protrnn.profiles import extras as extra_columns
from protrnn.profiles.blosum import blosum_profile

T = TypeVar("T")
R = TypeVar("R")


def merge_params(backend: str, params: dict, defaults: dict) -> dict:
    """``params`` over ``defaults``; ValueError naming unknown keys."""
    unknown = sorted(set(params) - set(defaults))
    if unknown:
        raise ValueError(
            f"unknown {backend} profile parameter(s) {unknown}; known: {sorted(defaults)}"
        )
    return {**defaults, **params}


def searchable(queries: dict[str, str]) -> dict[int, str]:
    """Position in ``queries`` -> sequence of every non-empty query (an empty one is not
    searched: it gets an empty profile)."""
    return {i: seq for i, seq in enumerate(queries.values()) if seq}


def map_threads(function: Callable[[T], R], items: Iterable[T], threads: int) -> Iterator[R]:
    """``map(function, items)`` on up to ``threads`` threads, results in input order."""
    items = list(items)
    workers = max(1, min(int(threads), len(items)))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        yield from pool.map(function, items)


class Profiles(dict):
    """Query key -> raw L x 20 PSSM (a dict), plus ``extras``: key -> L x
    :data:`~protrnn.profiles.extras.N_EXTRA` float32 extra columns of the same queries."""

    def __init__(self, pssms: dict | None = None, extras: dict | None = None) -> None:
        super().__init__(pssms or {})
        self.extras: dict[str, np.ndarray] = dict(extras or {})


def complete_profiles(
    queries: dict[str, str], pssms: dict[int, np.ndarray], extras: dict[int, np.ndarray]
) -> Profiles:
    """PSSM and extras of every query: the searched ones (by position; a searched PSSM must come
    with its extras) or, without hits, BLOSUM62 rows and
    :func:`~protrnn.profiles.extras.no_hit_extras`."""
    profiles = Profiles()
    for i, (name, seq) in enumerate(queries.items()):
        if i in pssms:
            if i not in extras:
                raise RuntimeError(f"profile of {name} has no extra columns")
            profiles[name] = pssms[i]
            profiles.extras[name] = extra_columns.quantized(extras[i])
        else:
            profiles[name] = blosum_profile(seq)
            profiles.extras[name] = extra_columns.quantized(extra_columns.no_hit_extras(len(seq)))
        if profiles[name].shape != (len(seq), N_AA):
            raise RuntimeError(f"profile of {name} has shape {profiles[name].shape}")
        extra_columns.check_extras("search", name, profiles.extras[name], len(seq))
    return profiles


@dataclass
class Outcome:
    """What a backend's search of the :func:`searchable` queries found, by query position."""

    #: the PSSMs of the queries with included hits
    pssms: dict[int, np.ndarray] = field(default_factory=dict)
    #: sequences included in the profile of each searched query
    hits: dict[int, int] = field(default_factory=dict)
    #: per round, the sequences included for the first time (summed over the queries)
    per_iteration: list[int] = field(default_factory=list)
    #: searched queries with identical copies in the database (excluded from their search)
    n_self_in_db: int = 0
    #: the extra columns (:mod:`protrnn.profiles.extras`) of the queries with a PSSM
    extras: dict[int, np.ndarray] = field(default_factory=dict)

    def renumbered(self, keys: list[int]) -> Outcome:
        """The same outcome with query ``j`` renamed ``keys[j]`` (a backend that numbers the
        searched queries 0, 1, ... back to their positions among all queries)."""
        return Outcome(
            {keys[j]: v for j, v in self.pssms.items()},
            {keys[j]: v for j, v in self.hits.items()},
            self.per_iteration,
            self.n_self_in_db,
            {keys[j]: v for j, v in self.extras.items()},
        )


def finish(
    queries: dict[str, str],
    outcome: Outcome,
    started: float,
    params: dict,
    details: dict | None = None,
    **after: object,
) -> tuple[Profiles, dict]:
    """Every query's profile (:func:`complete_profiles`) and the stats: the common counts,
    ``details``, wall seconds since ``started`` (``time.perf_counter``), parameters, units, then
    ``after`` (tool, version, ...)."""
    todo = searchable(queries)
    hits = [outcome.hits.get(i, 0) for i in todo]
    stats = {
        "n_queries": len(queries),
        "n_no_hits": len(queries) - len(outcome.pssms),
        "n_empty": len(queries) - len(todo),
        "n_self_in_db": outcome.n_self_in_db,
        "mean_hits_per_query": round(float(np.mean(hits)), 2) if hits else 0.0,
        "median_hits_per_query": float(np.median(hits)) if hits else 0.0,
        "hits_per_iteration": outcome.per_iteration,
        **(details or {}),
        "seconds": round(time.perf_counter() - started, 2),
        "params": params,
        "unit": "half-bit log-odds",
        "column_order": AMINO_ACIDS,
        "extras_version": extra_columns.EXTRAS_VERSION,
        **after,
    }
    return complete_profiles(queries, outcome.pssms, outcome.extras), stats
