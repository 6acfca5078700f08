"""Every item of docs/spec.md §4.4 is rejected by both planners, naming source and field."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

import pytest

import arbiter
import deleter_a
import deleter_b
from tests.builders import event, obj, tenant

if TYPE_CHECKING:
    from types import ModuleType


def good() -> tuple[dict[str, Any], dict[str, Any]]:
    """A valid inventory and policy that each case below breaks in one place."""
    inventory = {
        "tenants": [
            tenant(
                "t",
                event("subscribed", "2025-01-01T00:00:00Z"),
                event("cancelled", "2026-01-01T00:00:00Z"),
            ),
            tenant("u", legal_hold=False),
        ],
        "objects": [
            obj("a", "t", refs=[("db", "b")], legal_hold=False),
            obj("b", "u", category="logs"),
        ],
    }
    policy = {
        "timezone": "UTC",
        "grace_days": 30,
        "categories": {"logs": {"retain_days": 5}, "audit": {"keep": True}},
    }
    return inventory, policy


def _set(data: dict[str, Any], path: tuple[Any, ...], value: Any) -> None:
    target: Any = data
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value


def _del(data: dict[str, Any], path: tuple[Any, ...]) -> None:
    target: Any = data
    for step in path[:-1]:
        target = target[step]
    del target[path[-1]]


# (id, which input, path to change, new value or DELETE, expected source, expected field)
DELETE = object()
CASES: list[tuple[str, str, tuple[Any, ...], Any, str, str]] = [
    (
        "unknown-field-object",
        "inventory",
        ("objects", 0, "legalhold"),
        True,
        "inventory",
        "objects[0].legalhold",
    ),
    (
        "unknown-field-tenant",
        "inventory",
        ("tenants", 1, "hold"),
        True,
        "inventory",
        "tenants[1].hold",
    ),
    (
        "unknown-field-event",
        "inventory",
        ("tenants", 0, "events", 1, "note"),
        "x",
        "inventory",
        "tenants[0].events[1].note",
    ),
    ("unknown-field-top", "inventory", ("extra",), [], "inventory", "extra"),
    ("unknown-field-policy", "policy", ("grace",), 3, "policy", "grace"),
    (
        "unknown-field-category",
        "policy",
        ("categories", "logs", "keep_days"),
        3,
        "policy",
        "categories.logs.keep_days",
    ),
    ("missing-tenants", "inventory", ("tenants",), DELETE, "inventory", "tenants"),
    ("missing-objects", "inventory", ("objects",), DELETE, "inventory", "objects"),
    ("missing-id", "inventory", ("tenants", 1, "id"), DELETE, "inventory", "tenants[1].id"),
    (
        "missing-events",
        "inventory",
        ("tenants", 1, "events"),
        DELETE,
        "inventory",
        "tenants[1].events",
    ),
    (
        "missing-at",
        "inventory",
        ("tenants", 0, "events", 0, "at"),
        DELETE,
        "inventory",
        "tenants[0].events[0].at",
    ),
    (
        "missing-kind",
        "inventory",
        ("tenants", 0, "events", 0, "kind"),
        DELETE,
        "inventory",
        "tenants[0].events[0].kind",
    ),
    (
        "missing-store",
        "inventory",
        ("objects", 1, "store"),
        DELETE,
        "inventory",
        "objects[1].store",
    ),
    ("missing-key", "inventory", ("objects", 1, "key"), DELETE, "inventory", "objects[1].key"),
    (
        "missing-tenant",
        "inventory",
        ("objects", 1, "tenant"),
        DELETE,
        "inventory",
        "objects[1].tenant",
    ),
    (
        "missing-created",
        "inventory",
        ("objects", 1, "created_at"),
        DELETE,
        "inventory",
        "objects[1].created_at",
    ),
    ("missing-timezone", "policy", ("timezone",), DELETE, "policy", "timezone"),
    (
        "hold-as-int",
        "inventory",
        ("objects", 0, "legal_hold"),
        1,
        "inventory",
        "objects[0].legal_hold",
    ),
    (
        "hold-as-string",
        "inventory",
        ("tenants", 1, "legal_hold"),
        "false",
        "inventory",
        "tenants[1].legal_hold",
    ),
    (
        "hold-null",
        "inventory",
        ("tenants", 1, "legal_hold"),
        None,
        "inventory",
        "tenants[1].legal_hold",
    ),
    ("grace-float", "policy", ("grace_days",), 30.0, "policy", "grace_days"),
    ("grace-bool", "policy", ("grace_days",), True, "policy", "grace_days"),
    ("lag-string", "policy", ("backup_lag_days",), "14", "policy", "backup_lag_days"),
    (
        "events-not-list",
        "inventory",
        ("tenants", 1, "events"),
        {},
        "inventory",
        "tenants[1].events",
    ),
    ("objects-not-list", "inventory", ("objects",), {}, "inventory", "objects"),
    ("refs-not-list", "inventory", ("objects", 0, "refs"), "db/b", "inventory", "objects[0].refs"),
    (
        "category-null",
        "inventory",
        ("objects", 1, "category"),
        None,
        "inventory",
        "objects[1].category",
    ),
    ("categories-not-table", "policy", ("categories",), [], "policy", "categories"),
    ("timezone-int", "policy", ("timezone",), 9, "policy", "timezone"),
    ("empty-id", "inventory", ("tenants", 1, "id"), "", "inventory", "tenants[1].id"),
    ("empty-store", "inventory", ("objects", 1, "store"), "", "inventory", "objects[1].store"),
    ("empty-key", "inventory", ("objects", 1, "key"), "", "inventory", "objects[1].key"),
    (
        "empty-category",
        "inventory",
        ("objects", 1, "category"),
        "",
        "inventory",
        "objects[1].category",
    ),
    (
        "unknown-kind",
        "inventory",
        ("tenants", 0, "events", 1, "kind"),
        "canceled",
        "inventory",
        "tenants[0].events[1].kind",
    ),
    (
        "no-offset",
        "inventory",
        ("tenants", 0, "events", 1, "at"),
        "2026-01-01T00:00:00",
        "inventory",
        "tenants[0].events[1].at",
    ),
    (
        "unknown-offset",
        "inventory",
        ("objects", 0, "created_at"),
        "2026-01-01T00:00:00-00:00",
        "inventory",
        "objects[0].created_at",
    ),
    (
        "seven-digits",
        "inventory",
        ("objects", 0, "created_at"),
        "2026-01-01T00:00:00.0000001Z",
        "inventory",
        "objects[0].created_at",
    ),
    (
        "before-range",
        "inventory",
        ("objects", 0, "created_at"),
        "1969-12-31T23:59:59.999999Z",
        "inventory",
        "objects[0].created_at",
    ),
    (
        "after-range",
        "inventory",
        ("objects", 0, "created_at"),
        "9001-01-01T00:00:00Z",
        "inventory",
        "objects[0].created_at",
    ),
    ("duplicate-tenant", "inventory", ("tenants", 1, "id"), "t", "inventory", "tenants[1].id"),
    (
        "orphan-object",
        "inventory",
        ("objects", 1, "tenant"),
        "nobody",
        "inventory",
        "objects[1].tenant",
    ),
    ("unknown-zone", "policy", ("timezone",), "Mars/Olympus_Mons", "policy", "timezone"),
    ("traversal-zone", "policy", ("timezone",), "../../../etc/passwd", "policy", "timezone"),
    (
        "keep-and-retain",
        "policy",
        ("categories", "audit", "retain_days"),
        3,
        "policy",
        "categories.audit",
    ),
    (
        "keep-false",
        "policy",
        ("categories", "audit", "keep"),
        False,
        "policy",
        "categories.audit.keep",
    ),
    ("empty-category-table", "policy", ("categories", "audit"), {}, "policy", "categories.audit"),
    ("negative-grace", "policy", ("grace_days",), -1, "policy", "grace_days"),
    ("huge-lag", "policy", ("backup_lag_days",), 36501, "policy", "backup_lag_days"),
    (
        "negative-retain",
        "policy",
        ("categories", "logs", "retain_days"),
        -5,
        "policy",
        "categories.logs.retain_days",
    ),
    (
        "ref-too-short",
        "inventory",
        ("objects", 0, "refs", 0),
        ["db"],
        "inventory",
        "objects[0].refs[0]",
    ),
    (
        "ref-too-long",
        "inventory",
        ("objects", 0, "refs", 0),
        ["db", "b", "c"],
        "inventory",
        "objects[0].refs[0]",
    ),
    (
        "ref-not-strings",
        "inventory",
        ("objects", 0, "refs", 0),
        ["db", 7],
        "inventory",
        "objects[0].refs[0]",
    ),
    (
        "ref-empty-key",
        "inventory",
        ("objects", 0, "refs", 0),
        ["db", ""],
        "inventory",
        "objects[0].refs[0]",
    ),
]


@pytest.fixture(params=[deleter_a, deleter_b], ids=["a", "b"])
def planner(request: pytest.FixtureRequest) -> ModuleType:
    """Each planner module."""
    module: ModuleType = request.param
    return module


@pytest.mark.parametrize(
    ("name", "which", "path", "value", "source", "field"), CASES, ids=[c[0] for c in CASES]
)
def test_bad_input_is_rejected_with_its_field(  # noqa: PLR0913, PLR0917 -- one per table column
    planner: ModuleType,
    name: str,
    which: str,
    path: tuple[Any, ...],
    value: Any,
    source: str,
    field: str,
) -> None:
    """Spec §4.4: each bad input raises the planner's input error naming source and field."""
    inventory, policy = good()
    target = inventory if which == "inventory" else policy
    if value is DELETE:
        _del(target, path)
    else:
        _set(target, path, value)
    with pytest.raises(planner.PlanInputError) as info:
        planner.plan(inventory, policy, "t", "2026-06-01T00:00:00Z")
    actual = info.value.field
    # A record-level fault may be named by the record or by its offending field.
    assert source == info.value.source, name
    assert actual == field or field.startswith(actual + ".") or actual.startswith(field + "."), (
        name,
        actual,
    )
    assert actual in str(info.value)
    assert "\n" not in str(info.value)


def test_duplicate_object_identity_names_the_second(planner: ModuleType) -> None:
    """Spec §4.4.8: two objects with the same (store, key) name the later one."""
    inventory, policy = good()
    inventory["objects"].append(obj("a", "u"))
    with pytest.raises(planner.PlanInputError) as info:
        planner.plan(inventory, policy, "t", "2026-06-01T00:00:00Z")
    assert ("inventory", "objects[2]") == (info.value.source, info.value.field)


@pytest.mark.parametrize(
    ("tid", "as_of", "source"),
    [
        ("nobody", "2026-06-01T00:00:00Z", "tenant"),
        ("t", "2026-06-01", "as_of"),
        ("t", "2026-06-01T00:00:00-00:00", "as_of"),
    ],
)
def test_bad_call_arguments(planner: ModuleType, tid: str, as_of: str, source: str) -> None:
    """Spec §4.3, §4.4.6, §4.4.10: an unknown tenant or a bad as_of is rejected by name."""
    inventory, policy = good()
    with pytest.raises(planner.PlanInputError) as info:
        planner.plan(inventory, policy, tid, as_of)
    assert (source, source) == (info.value.source, info.value.field)


def test_error_anywhere_rejects_even_for_another_tenant(planner: ModuleType) -> None:
    """Spec §4.4: validation covers the whole input, not only T's part."""
    inventory, policy = good()
    inventory["tenants"][1]["events"].append({"kind": "cancelled", "at": "yesterday"})
    with pytest.raises(planner.PlanInputError):
        planner.plan(inventory, policy, "t", "2026-06-01T00:00:00Z")


def test_planner_does_not_mutate_its_arguments(planner: ModuleType) -> None:
    """Spec §8: the planner leaves its arguments as they were."""
    inventory, policy = good()
    before = copy.deepcopy((inventory, policy))
    planner.plan(inventory, policy, "t", "2026-06-01T00:00:00Z")
    assert before == (inventory, policy)


def test_both_rejecting_is_bad_input_through_the_arbiter() -> None:
    """Spec §9: when both planners reject, the arbiter raises InputError with A's field."""
    inventory, policy = good()
    inventory["objects"][0]["legalhold"] = True
    with pytest.raises(arbiter.InputError) as info:
        arbiter.arbitrate(inventory, policy, "t", "2026-06-01T00:00:00Z")
    assert ("inventory", "objects[0].legalhold") == (info.value.source, info.value.field)
