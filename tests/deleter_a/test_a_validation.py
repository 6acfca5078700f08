"""Tests of bad input (spec §4.4): each item raises PlanInputError with source and field."""

# Tests here write `assert expected == actual` (house style), which SIM300 calls yoda.

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

import pytest

from deleter_a import PlanInputError, plan

from .a_support import DUE_AS_OF, cancelled_tenant, event, inventory, obj, tenant

if TYPE_CHECKING:
    from collections.abc import Callable

Inputs = tuple[dict[str, object], dict[str, object]]


def _good() -> Inputs:
    """Return a valid inventory and policy using every optional field."""
    inv = inventory(
        [
            cancelled_tenant(),
            tenant("u", event("erasure_requested", "2026-01-01T00:00:00Z"), hold=False),
        ],
        [
            obj("s", "a", category="logs", hold=False, refs=[["s", "b"], ["x", "missing"]]),
            obj("s", "b", "u"),
        ],
    )
    policy: dict[str, object] = {
        "timezone": "Asia/Tokyo",
        "grace_days": 30,
        "backup_lag_days": 14,
        "categories": {"audit": {"keep": True}, "logs": {"retain_days": 90}},
    }
    return inv, policy


def _tenants(inv: dict[str, object]) -> list[dict[str, object]]:
    value = inv["tenants"]
    assert isinstance(value, list)
    return value


def _objects(inv: dict[str, object]) -> list[dict[str, object]]:
    value = inv["objects"]
    assert isinstance(value, list)
    return value


def _events(inv: dict[str, object], index: int) -> list[dict[str, object]]:
    value = _tenants(inv)[index]["events"]
    assert isinstance(value, list)
    return value


def _categories(policy: dict[str, object]) -> dict[str, object]:
    value = policy["categories"]
    assert isinstance(value, dict)
    return value


def _rejects(
    inv: object, policy: object, name: object = "t", as_of: object = DUE_AS_OF
) -> PlanInputError:
    with pytest.raises(PlanInputError) as caught:
        plan(inv, policy, name, as_of)  # type: ignore[arg-type]
    assert 1 == len(str(caught.value).splitlines())
    assert caught.value.field in str(caught.value)
    return caught.value


def test_a_good_input_is_accepted() -> None:
    """The baseline input of these tests yields a verdict."""
    inv, policy = _good()
    assert "t" == plan(inv, policy, "t", DUE_AS_OF)["tenant"]


def _set(
    target: Callable[[Inputs], dict[str, object]], key: str, *, to: object
) -> Callable[[Inputs], None]:
    def edit(inputs: Inputs) -> None:
        target(inputs)[key] = to

    return edit


def _drop(target: Callable[[Inputs], dict[str, object]], key: str) -> Callable[[Inputs], None]:
    def edit(inputs: Inputs) -> None:
        del target(inputs)[key]

    return edit


def _inv(inputs: Inputs) -> dict[str, object]:
    return inputs[0]


def _pol(inputs: Inputs) -> dict[str, object]:
    return inputs[1]


def _tenant0(inputs: Inputs) -> dict[str, object]:
    return _tenants(inputs[0])[0]


def _event1(inputs: Inputs) -> dict[str, object]:
    return _events(inputs[0], 0)[1]


def _object0(inputs: Inputs) -> dict[str, object]:
    return _objects(inputs[0])[0]


def _object1(inputs: Inputs) -> dict[str, object]:
    return _objects(inputs[0])[1]


def _logs(inputs: Inputs) -> dict[str, object]:
    value = _categories(inputs[1])["logs"]
    assert isinstance(value, dict)
    return value


def _audit(inputs: Inputs) -> dict[str, object]:
    value = _categories(inputs[1])["audit"]
    assert isinstance(value, dict)
    return value


CASES: list[tuple[str, Callable[[Inputs], None], str, str]] = [
    # 1. a field not listed above, anywhere
    ("1 top level", _set(_inv, "tenant", to=[]), "inventory", "tenant"),
    ("1 tenant", _set(_tenant0, "legalhold", to=True), "inventory", "tenants[0].legalhold"),
    ("1 event", _set(_event1, "note", to="x"), "inventory", "tenants[0].events[1].note"),
    ("1 object", _set(_object1, "legalhold", to=True), "inventory", "objects[1].legalhold"),
    ("1 policy", _set(_pol, "grace", to=3), "policy", "grace"),
    ("1 category", _set(_logs, "retain", to=3), "policy", "categories.logs.retain"),
    # 2. a required field missing
    ("2 tenants", _drop(_inv, "tenants"), "inventory", "tenants"),
    ("2 objects", _drop(_inv, "objects"), "inventory", "objects"),
    ("2 tenant id", _drop(_tenant0, "id"), "inventory", "tenants[0].id"),
    ("2 events", _drop(_tenant0, "events"), "inventory", "tenants[0].events"),
    ("2 kind", _drop(_event1, "kind"), "inventory", "tenants[0].events[1].kind"),
    ("2 at", _drop(_event1, "at"), "inventory", "tenants[0].events[1].at"),
    ("2 store", _drop(_object0, "store"), "inventory", "objects[0].store"),
    ("2 key", _drop(_object0, "key"), "inventory", "objects[0].key"),
    ("2 owner", _drop(_object0, "tenant"), "inventory", "objects[0].tenant"),
    ("2 created_at", _drop(_object1, "created_at"), "inventory", "objects[1].created_at"),
    ("2 timezone", _drop(_pol, "timezone"), "policy", "timezone"),
    # 3. a value of the wrong type
    ("3 tenants", _set(_inv, "tenants", to={}), "inventory", "tenants"),
    ("3 objects", _set(_inv, "objects", to=None), "inventory", "objects"),
    ("3 objects tuple", _set(_inv, "objects", to=()), "inventory", "objects"),
    ("3 tenant", _set(_inv, "tenants", to=[None]), "inventory", "tenants[0]"),
    ("3 tenant id", _set(_tenant0, "id", to=7), "inventory", "tenants[0].id"),
    ("3 tenant hold 1", _set(_tenant0, "legal_hold", to=1), "inventory", "tenants[0].legal_hold"),
    (
        "3 tenant hold null",
        _set(_tenant0, "legal_hold", to=None),
        "inventory",
        "tenants[0].legal_hold",
    ),
    ("3 events", _set(_tenant0, "events", to=None), "inventory", "tenants[0].events"),
    ("3 event", _set(_tenant0, "events", to=["cancelled"]), "inventory", "tenants[0].events[0]"),
    ("3 kind", _set(_event1, "kind", to=None), "inventory", "tenants[0].events[1].kind"),
    ("3 object", _set(_inv, "objects", to=[[]]), "inventory", "objects[0]"),
    (
        "3 object hold",
        _set(_object0, "legal_hold", to="true"),
        "inventory",
        "objects[0].legal_hold",
    ),
    ("3 category", _set(_object0, "category", to=None), "inventory", "objects[0].category"),
    ("3 refs", _set(_object0, "refs", to=None), "inventory", "objects[0].refs"),
    ("3 store", _set(_object0, "store", to=["s"]), "inventory", "objects[0].store"),
    ("3 grace float", _set(_pol, "grace_days", to=30.0), "policy", "grace_days"),
    ("3 grace bool", _set(_pol, "grace_days", to=True), "policy", "grace_days"),
    ("3 lag null", _set(_pol, "backup_lag_days", to=None), "policy", "backup_lag_days"),
    ("3 lag string", _set(_pol, "backup_lag_days", to="14"), "policy", "backup_lag_days"),
    (
        "3 retain bool",
        _set(_logs, "retain_days", to=False),
        "policy",
        "categories.logs.retain_days",
    ),
    ("3 retain float", _set(_logs, "retain_days", to=9.0), "policy", "categories.logs.retain_days"),
    ("3 keep 1", _set(_audit, "keep", to=1), "policy", "categories.audit.keep"),
    ("3 categories", _set(_pol, "categories", to=[1]), "policy", "categories"),
    ("3 category table", _set(_pol, "categories", to={"x": 1}), "policy", "categories.x"),
    ("3 timezone", _set(_pol, "timezone", to=None), "policy", "timezone"),
    # 4. an empty string where a non-empty one is required
    ("4 tenant id", _set(_tenant0, "id", to=""), "inventory", "tenants[0].id"),
    ("4 store", _set(_object0, "store", to=""), "inventory", "objects[0].store"),
    ("4 key", _set(_object0, "key", to=""), "inventory", "objects[0].key"),
    ("4 owner", _set(_object0, "tenant", to=""), "inventory", "objects[0].tenant"),
    ("4 category", _set(_object0, "category", to=""), "inventory", "objects[0].category"),
    (
        "4 category name",
        _set(_pol, "categories", to={"": {"keep": True}}),
        "policy",
        "categories.''",
    ),
    # 5. an unknown event kind
    ("5 kind", _set(_event1, "kind", to="canceled"), "inventory", "tenants[0].events[1].kind"),
    (
        "5 kind case",
        _set(_event1, "kind", to="Cancelled"),
        "inventory",
        "tenants[0].events[1].kind",
    ),
    # 6. an instant that breaks §2.1
    (
        "6 no offset",
        _set(_event1, "at", to="2026-01-10T12:00:00"),
        "inventory",
        "tenants[0].events[1].at",
    ),
    (
        "6 unknown offset",
        _set(_event1, "at", to="2026-01-10T12:00:00-00:00"),
        "inventory",
        "tenants[0].events[1].at",
    ),
    (
        "6 fraction",
        _set(_object1, "created_at", to="2026-01-10T12:00:00.1234567Z"),
        "inventory",
        "objects[1].created_at",
    ),
    (
        "6 range",
        _set(_object1, "created_at", to="1969-12-31T23:59:59Z"),
        "inventory",
        "objects[1].created_at",
    ),
    # 11. a missing time zone, or a name that is not a zone of the tzdata package
    ("11 zone", _set(_pol, "timezone", to="Mars/Olympus"), "policy", "timezone"),
    ("11 traversal", _set(_pol, "timezone", to="../zones"), "policy", "timezone"),
    ("11 directory", _set(_pol, "timezone", to="Asia"), "policy", "timezone"),
    ("11 empty", _set(_pol, "timezone", to=""), "policy", "timezone"),
    # 12. a category with both keep and retain_days, neither, or keep not true
    ("12 both", _set(_logs, "keep", to=True), "policy", "categories.logs"),
    ("12 neither", _set(_pol, "categories", to={"logs": {}}), "policy", "categories.logs"),
    ("12 keep false", _set(_audit, "keep", to=False), "policy", "categories.audit.keep"),
    # 13. a day count out of 0..36500
    ("13 grace high", _set(_pol, "grace_days", to=36501), "policy", "grace_days"),
    ("13 grace negative", _set(_pol, "grace_days", to=-1), "policy", "grace_days"),
    ("13 lag high", _set(_pol, "backup_lag_days", to=10**40), "policy", "backup_lag_days"),
    ("13 retain", _set(_logs, "retain_days", to=-5), "policy", "categories.logs.retain_days"),
    # 14. a ref that is not a list of exactly two non-empty strings
    ("14 short", _set(_object0, "refs", to=[["s"]]), "inventory", "objects[0].refs[0]"),
    (
        "14 long",
        _set(_object0, "refs", to=[["s", "b"], ["s", "b", "c"]]),
        "inventory",
        "objects[0].refs[1]",
    ),
    ("14 tuple", _set(_object0, "refs", to=[("s", "b")]), "inventory", "objects[0].refs[0]"),
    ("14 string", _set(_object0, "refs", to=["sb"]), "inventory", "objects[0].refs[0]"),
    ("14 empty key", _set(_object0, "refs", to=[["s", ""]]), "inventory", "objects[0].refs[0]"),
    ("14 null", _set(_object0, "refs", to=[["s", None]]), "inventory", "objects[0].refs[0]"),
    (
        "14 dict",
        _set(_object0, "refs", to=[{"store": "s", "key": "b"}]),
        "inventory",
        "objects[0].refs[0]",
    ),
]


@pytest.mark.parametrize(
    ("edit", "source", "field"),
    [pytest.param(edit, source, field, id=name) for name, edit, source, field in CASES],
)
def test_a_bad_input(edit: Callable[[Inputs], None], source: str, field: str) -> None:
    """Each bad input of spec §4.4 is rejected with the source and field that name it."""
    inputs = _good()
    edit(inputs)
    error = _rejects(*inputs)
    assert (source, field) == (error.source, error.field)


def test_a_duplicate_tenant() -> None:
    """Item 7: a second tenant with an id already listed is rejected at its index."""
    inv, policy = _good()
    _tenants(inv).append(tenant("u"))
    error = _rejects(inv, policy)
    assert ("inventory", "tenants[2]") == (error.source, error.field)


def test_a_duplicate_object() -> None:
    """Item 8: a second object with a (store, key) already seen is rejected at its index."""
    inv, policy = _good()
    _objects(inv).append(obj("s", "a", "u"))
    error = _rejects(inv, policy)
    assert ("inventory", "objects[2]") == (error.source, error.field)


def test_a_same_key_other_store_is_not_duplicate() -> None:
    """Objects differing only in store are distinct."""
    inv, policy = _good()
    _objects(inv).append(obj("s2", "a"))
    assert "t" == plan(inv, policy, "t", DUE_AS_OF)["tenant"]


def test_a_object_of_unknown_tenant() -> None:
    """Item 9: an object whose tenant is not listed is rejected at its tenant field."""
    inv, policy = _good()
    _objects(inv).append(obj("s", "z", "nobody"))
    error = _rejects(inv, policy)
    assert ("inventory", "objects[2].tenant") == (error.source, error.field)


@pytest.mark.parametrize("name", ["nobody", "", "T", None, 1])
def test_a_unknown_call_tenant(name: object) -> None:
    """Item 10: the call's tenant must be a string naming a listed tenant."""
    inv, policy = _good()
    error = _rejects(inv, policy, name)
    assert ("tenant", "tenant") == (error.source, error.field)


@pytest.mark.parametrize(
    "as_of", ["2026-05-01T00:00:00", "2026-05-01T00:00:00-00:00", "2026-05-01", None, 0]
)
def test_a_bad_as_of(as_of: object) -> None:
    """Item 6: as_of must be an instant of §2.1."""
    inv, policy = _good()
    error = _rejects(inv, policy, "t", as_of)
    assert ("as_of", "as_of") == (error.source, error.field)


@pytest.mark.parametrize(("inv_ok", "source"), [(False, "inventory"), (True, "policy")])
def test_a_root_not_a_mapping(*, inv_ok: bool, source: str) -> None:
    """Item 3: an inventory or policy that is not a mapping is a wrong type at the root."""
    inv, policy = _good()
    error = _rejects(inv if inv_ok else [inv], policy if not inv_ok else None)
    assert (source, "") == (error.source, error.field)


def test_a_error_in_other_tenant_rejects_call() -> None:
    """The whole input is validated: a bad object of another tenant rejects the call."""
    inv, policy = _good()
    _objects(inv)[1]["created_at"] = "soon"
    error = _rejects(inv, policy)
    assert ("inventory", "objects[1].created_at") == (error.source, error.field)


def test_a_error_when_tenant_not_eligible_rejects_call() -> None:
    """Objects are validated also when T is active."""
    inv, policy = _good()
    _objects(inv)[0]["refs"] = [["only-store"]]
    error = _rejects(inv, policy, "u")
    assert ("inventory", "objects[0].refs[0]") == (error.source, error.field)


def test_a_non_string_key_is_unknown() -> None:
    """Item 1: a key that is not a string is an unknown field, named by its repr."""
    inv, policy = _good()
    _object0((inv, policy))[1] = "x"  # type: ignore[index]
    error = _rejects(inv, policy)
    assert ("inventory", "objects[0].1") == (error.source, error.field)


def test_a_unprintable_name_keeps_error_on_one_line() -> None:
    """A category name with a line break is written escaped in the field."""
    inv, policy = _good()
    policy["categories"] = {"a\nb": {"keep": False}}
    error = _rejects(inv, policy)
    assert ("policy", "categories.'a\\nb'.keep") == (error.source, error.field)


def test_a_empty_categories_table_is_accepted() -> None:
    """An empty categories table is a table of (no) tables."""
    inv, policy = _good()
    policy["categories"] = {}
    assert "t" == plan(inv, policy, "t", DUE_AS_OF)["tenant"]


def test_a_defaults_apply_when_optional_fields_are_absent() -> None:
    """A policy with only a timezone uses grace 30 and lag 14 (spec §4.2)."""
    inv, policy = _good()
    minimal = {"timezone": "UTC"}
    verdict = plan(inv, minimal, "t", DUE_AS_OF)
    assert ("2026-02-10T00:00:00Z", "2026-02-24T00:00:00Z") == (
        verdict["primary_due"],
        verdict["backup_due"],
    )
    assert copy.deepcopy(policy) == policy
