"""Shards: N workers' shares partition the fleet, stably; bad shard text is bad input."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arbiter import InputError, Shard, parse_shard
from tests.builders import event, obj, tenant, workspace

if TYPE_CHECKING:
    from pathlib import Path

TENANT_IDS = st.lists(st.text(min_size=1, max_size=12), unique=True, max_size=40)


@given(tenants=TENANT_IDS, count=st.integers(1, 12))
def test_the_shards_of_n_partition_any_fleet(tenants: list[str], count: int) -> None:
    """Every tenant belongs to exactly one of the N shards."""
    owners = {t: [k for k in range(count) if Shard(k, count).owns(t)] for t in tenants}
    assert dict.fromkeys(tenants, 1) == {t: len(ks) for t, ks in owners.items()}


@given(tenants=TENANT_IDS, others=TENANT_IDS, count=st.integers(1, 12))
def test_a_tenants_shard_does_not_depend_on_the_other_tenants(
    tenants: list[str], others: list[str], count: int
) -> None:
    """Metamorphic: adding tenants to the fleet moves no tenant to another shard."""
    before = {t: [k for k in range(count) if Shard(k, count).owns(t)] for t in tenants}
    fleet = tenants + [o for o in others if o not in tenants]
    after = {t: [k for k in range(count) if Shard(k, count).owns(t)] for t in fleet}
    assert before == {t: after[t] for t in tenants}


@pytest.mark.parametrize(
    ("text", "expected"), [("0/1", Shard(0, 1)), ("2/3", Shard(2, 3)), (" 9/10 ", Shard(9, 10))]
)
def test_a_shard_is_read_from_k_slash_n(text: str, expected: Shard) -> None:
    """K/N with K counted from 0."""
    assert expected == parse_shard(text)


@pytest.mark.parametrize("text", ["3/3", "1/0", "-1/3", "a/b", "1", "01/3", "1/3/4", "", "0/10001"])
def test_a_bad_shard_is_bad_input_naming_the_option(text: str) -> None:
    """Anything but K/N with 0 <= K < N <= 10000 is an InputError naming the field."""
    with pytest.raises(InputError) as refused:
        parse_shard(text, field="--shard")
    assert ("arguments", "--shard") == (refused.value.source, refused.value.field)


def test_runs_of_every_shard_purge_what_one_unsharded_run_purges(tmp_path: Path) -> None:
    """Shard runs 0/3, 1/3, 2/3 together execute exactly the tenants of a whole run."""
    inventory = {
        "tenants": [tenant(f"t{i}", event("cancelled", "2026-01-01T00:00:00Z")) for i in range(9)],
        "objects": [obj(f"k{i}", f"t{i}") for i in range(9)],
    }
    whole = workspace(tmp_path / "whole", inventory)
    sharded = workspace(tmp_path / "sharded", inventory)
    with whole, sharded:
        expected = {o.tenant: o.purged for o in whole.run_due("2026-03-01T00:00:00Z").outcomes}
        reports = [sharded.run_due("2026-03-01T00:00:00Z", shard=Shard(k, 3)) for k in range(3)]
        actual = {o.tenant: o.purged for r in reports for o in r.outcomes}
        assert ["0/3", "1/3", "2/3"] == [r.shard for r in reports]
        assert sum(len(r.outcomes) for r in reports) == len(expected)
        assert expected == actual
        assert [] == sharded.export_inventory()["objects"]
