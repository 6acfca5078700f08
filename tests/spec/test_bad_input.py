"""Every item of docs/spec.md §4.4 is rejected by both planners, naming source and field."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

import pytest

import arbiter
import deleter_a
import deleter_b
from tests.builders import event, obj, tenant
from tests.strategies import BAD_INSTANTS

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
    ("tenant-int", "inventory", ("objects", 1, "tenant"), 5, "inventory", "objects[1].tenant"),
    ("tenant-empty", "inventory", ("objects", 1, "tenant"), "", "inventory", "objects[1].tenant"),
    ("keep-int", "policy", ("categories", "audit", "keep"), 1, "policy", "categories.audit.keep"),
    (
        "not-a-leap-year",
        "inventory",
        ("objects", 0, "created_at"),
        "2026-02-29T00:00:00Z",
        "inventory",
        "objects[0].created_at",
    ),
    (
        "century-not-a-leap-year",
        "inventory",
        ("tenants", 0, "events", 0, "at"),
        "2100-02-29T00:00:00Z",
        "inventory",
        "tenants[0].events[0].at",
    ),
    (
        "day-31-of-april",
        "inventory",
        ("objects", 0, "created_at"),
        "2026-04-31T00:00:00Z",
        "inventory",
        "objects[0].created_at",
    ),
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
    ("tenants-not-list", "inventory", ("tenants",), "t", "inventory", "tenants"),
    ("tenant-not-a-table", "inventory", ("tenants", 1), "u", "inventory", "tenants[1]"),
    (
        "event-not-a-table",
        "inventory",
        ("tenants", 0, "events", 0),
        [],
        "inventory",
        "tenants[0].events[0]",
    ),
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
    assert (True, True) == (isinstance(info.value.message, str), bool(info.value.message))


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


@pytest.mark.parametrize(
    ("tid", "as_of", "source"),
    [
        (7, "2026-06-01T00:00:00Z", "tenant"),
        (None, "2026-06-01T00:00:00Z", "tenant"),
        ("t", None, "as_of"),
        ("t", 20260601, "as_of"),
    ],
)
def test_call_arguments_of_the_wrong_type(
    planner: ModuleType, tid: object, as_of: object, source: str
) -> None:
    """Spec §4.3: the tenant id and as_of must be strings; anything else is rejected by name."""
    inventory, policy = good()
    with pytest.raises(planner.PlanInputError) as info:
        planner.plan(inventory, policy, tid, as_of)
    assert (source, source) == (info.value.source, info.value.field)
    assert source in str(info.value)


@pytest.mark.parametrize("as_of", BAD_INSTANTS)
def test_every_malformed_instant_is_rejected(planner: ModuleType, as_of: str) -> None:
    """Spec §2.1, §4.4.6: each way an instant can break the grammar, a date or the range."""
    inventory, policy = good()
    with pytest.raises(planner.PlanInputError) as info:
        planner.plan(inventory, policy, "t", as_of)
    assert ("as_of", "as_of") == (info.value.source, info.value.field)
    assert (True, True) == (isinstance(info.value.message, str), bool(info.value.message))


@pytest.mark.parametrize("name", ["", 7])
def test_a_category_name_must_be_a_non_empty_string(planner: ModuleType, name: object) -> None:
    """Spec §4.2: a category table's name is a non-empty string."""
    inventory, policy = good()
    policy["categories"][name] = {"keep": True}
    with pytest.raises(planner.PlanInputError) as info:
        planner.plan(inventory, policy, "t", "2026-06-01T00:00:00Z")
    # How an empty name is spelled in the path is not fixed by the spec (docs/fault-detection.md);
    # a name that is not a string is written as its repr by both planners, like any such key.
    assert ("policy", True) == (
        info.value.source,
        info.value.field.startswith("categories."),
    )
    if name == 7:
        assert "categories.7" == info.value.field
    assert isinstance(info.value.message, str)
    assert info.value.message


def test_a_key_that_is_not_a_string_is_an_unknown_field(planner: ModuleType) -> None:
    """Spec §4.4.1: a non-string key is not a field of the spec; it is named by its repr."""
    inventory, policy = good()
    policy[5] = 1  # type: ignore[index]
    with pytest.raises(planner.PlanInputError) as info:
        planner.plan(inventory, policy, "t", "2026-06-01T00:00:00Z")
    assert ("policy", "5") == (info.value.source, info.value.field)


@pytest.mark.parametrize(
    ("inventory", "policy", "source"),
    [([], {"timezone": "UTC"}, "inventory"), ({"tenants": [], "objects": []}, "UTC", "policy")],
)
def test_an_argument_that_is_not_a_table_is_named_by_the_empty_path(
    planner: ModuleType, inventory: object, policy: object, source: str
) -> None:
    """Spec §4.4.3, §8: an inventory or policy that is not a table is rejected at its root."""
    with pytest.raises(planner.PlanInputError) as info:
        planner.plan(inventory, policy, "t", "2026-06-01T00:00:00Z")
    assert (source, "") == (info.value.source, info.value.field)
    assert source in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("key", ["legal\nhold", "hold\r", "tab\there", "\u2028"])
def test_an_unknown_key_that_cannot_be_printed_still_gives_a_one_line_error(
    planner: ModuleType, key: str
) -> None:
    """Spec §4.4.1, §8: str(error) stays one line even when the unknown key holds a line break."""
    # How such a key is spelled inside ``field`` is not fixed by the spec (A writes its repr,
    # B the raw key); only the record it belongs to and the one-line message are.
    inventory, policy = good()
    inventory["tenants"][1][key] = True
    with pytest.raises(planner.PlanInputError) as info:
        planner.plan(inventory, policy, "t", "2026-06-01T00:00:00Z")
    assert ("inventory", True) == (
        info.value.source,
        info.value.field.startswith("tenants[1]."),
    )
    assert 1 == len(str(info.value).splitlines())


@pytest.mark.parametrize("day", ["2000-02-29", "2024-02-29", "2400-02-29"])
def test_leap_days_are_valid(planner: ModuleType, day: str) -> None:
    """Spec §2.1: 29 February exists in years divisible by 4, except centuries not by 400."""
    inventory, policy = good()
    inventory["objects"][0]["created_at"] = f"{day}T00:00:00Z"
    assert "t" == planner.plan(inventory, policy, "t", "2026-06-01T00:00:00Z")["tenant"]


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
