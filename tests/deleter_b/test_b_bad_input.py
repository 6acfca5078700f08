"""Every kind of bad input of spec §4.4 raises PlanInputError with the right source and field."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import pytest

import deleter_b

from .b_support import Data, cancelled, event, inventory, obj, tenant

if TYPE_CHECKING:
    from collections.abc import Callable

_plan: Callable[..., dict[str, object]] = deleter_b.plan


@dataclass
class Case:
    """The four arguments of one call, as plain mutable data."""

    inventory: Any = field(
        default_factory=lambda: inventory(
            [
                cancelled("t", "2026-01-01T00:00:00Z"),
                tenant("u", [event("subscribed", "2025-01-01T00:00:00Z")], legal_hold=False),
            ],
            [
                obj("s", "a", category="logs", legal_hold=False, refs=[("s", "b")]),
                obj("s", "b"),
                obj("s", "c", "u", refs=[("s", "a"), ("x", "dangling")]),
            ],
        )
    )
    policy: Any = field(
        default_factory=lambda: {
            "timezone": "UTC",
            "grace_days": 30,
            "backup_lag_days": 14,
            "categories": {"logs": {"retain_days": 90}, "audit": {"keep": True}},
        }
    )
    tenant: object = "t"
    as_of: object = "2026-06-01T00:00:00Z"

    def run(self) -> dict[str, object]:
        """Call the planner."""
        return _plan(self.inventory, self.policy, self.tenant, self.as_of)


def _set(path: str, value: object) -> Callable[[Case], None]:
    """Return a mutator setting ``case.<path> = value`` (``path`` like ``inventory.x[0].y``)."""

    def mutate(case: Case) -> None:
        target: Any = case
        *parents, last = path.replace("[", ".[").split(".")
        for part in parents:
            target = target[int(part[1:-1])] if part.startswith("[") else _get(target, part)
        if last.startswith("["):
            target[int(last[1:-1])] = value
        elif isinstance(target, Case):
            setattr(target, last, value)
        else:
            target[last] = value

    return mutate


def _get(target: Any, name: str) -> Any:
    return getattr(target, name) if isinstance(target, Case) else target[name]


def _delete(path: str) -> Callable[[Case], None]:
    """Return a mutator deleting the mapping entry at ``path``."""

    def mutate(case: Case) -> None:
        *parents, last = path.replace("[", ".[").split(".")
        target: Any = case
        for part in parents:
            target = target[int(part[1:-1])] if part.startswith("[") else _get(target, part)
        del target[last]

    return mutate


def _append(path: str, value: object) -> Callable[[Case], None]:
    """Return a mutator appending ``value`` to the list at ``path``."""

    def mutate(case: Case) -> None:
        target: Any = case
        for part in path.replace("[", ".[").split("."):
            target = target[int(part[1:-1])] if part.startswith("[") else _get(target, part)
        target.append(copy.deepcopy(value))

    return mutate


# Each case: an id, the mutator injecting one fault, the expected source and field.
CASES: list[tuple[str, Callable[[Case], None], str, str]] = [
    # 1. unknown fields
    (
        "1-object-legalhold",
        _set("inventory.objects[0].legalhold", True),
        "inventory",
        "objects[0].legalhold",
    ),
    (
        "1-tenant-legalhold",
        _set("inventory.tenants[1].legalhold", True),
        "inventory",
        "tenants[1].legalhold",
    ),
    (
        "1-event-extra",
        _set("inventory.tenants[0].events[1].note", "x"),
        "inventory",
        "tenants[0].events[1].note",
    ),
    ("1-top-level", _set("inventory.version", 1), "inventory", "version"),
    ("1-policy", _set("policy.grace", 3), "policy", "grace"),
    ("1-category", _set("policy.categories.logs.retain", 3), "policy", "categories.logs.retain"),
    ("1-non-string-key", _set("inventory.objects[1].1", 1), "inventory", "objects[1].1"),
    # 2. missing required fields
    ("2-tenants", _delete("inventory.tenants"), "inventory", "tenants"),
    ("2-objects", _delete("inventory.objects"), "inventory", "objects"),
    ("2-tenant-id", _delete("inventory.tenants[1].id"), "inventory", "tenants[1].id"),
    ("2-tenant-events", _delete("inventory.tenants[0].events"), "inventory", "tenants[0].events"),
    (
        "2-event-kind",
        _delete("inventory.tenants[0].events[0].kind"),
        "inventory",
        "tenants[0].events[0].kind",
    ),
    (
        "2-event-at",
        _delete("inventory.tenants[0].events[1].at"),
        "inventory",
        "tenants[0].events[1].at",
    ),
    ("2-object-store", _delete("inventory.objects[2].store"), "inventory", "objects[2].store"),
    ("2-object-key", _delete("inventory.objects[0].key"), "inventory", "objects[0].key"),
    ("2-object-tenant", _delete("inventory.objects[0].tenant"), "inventory", "objects[0].tenant"),
    (
        "2-object-created",
        _delete("inventory.objects[1].created_at"),
        "inventory",
        "objects[1].created_at",
    ),
    ("2-timezone", _delete("policy.timezone"), "policy", "timezone"),
    # 3. wrong types, bool vs int, float, null
    (
        "3-hold-int",
        _set("inventory.tenants[0].legal_hold", 1),
        "inventory",
        "tenants[0].legal_hold",
    ),
    (
        "3-object-hold-str",
        _set("inventory.objects[0].legal_hold", "true"),
        "inventory",
        "objects[0].legal_hold",
    ),
    ("3-grace-float", _set("policy.grace_days", 30.0), "policy", "grace_days"),
    ("3-grace-true", _set("policy.grace_days", True), "policy", "grace_days"),
    ("3-lag-false", _set("policy.backup_lag_days", False), "policy", "backup_lag_days"),
    (
        "3-retain-str",
        _set("policy.categories.logs.retain_days", "90"),
        "policy",
        "categories.logs.retain_days",
    ),
    (
        "3-null-category",
        _set("inventory.objects[0].category", None),
        "inventory",
        "objects[0].category",
    ),
    (
        "3-null-hold",
        _set("inventory.tenants[1].legal_hold", None),
        "inventory",
        "tenants[1].legal_hold",
    ),
    ("3-null-refs", _set("inventory.objects[0].refs", None), "inventory", "objects[0].refs"),
    ("3-null-tenants", _set("inventory.tenants", None), "inventory", "tenants"),
    ("3-null-grace", _set("policy.grace_days", None), "policy", "grace_days"),
    ("3-null-categories", _set("policy.categories", None), "policy", "categories"),
    ("3-null-as-of", _set("as_of", None), "as_of", "as_of"),
    ("3-null-tenant", _set("tenant", None), "tenant", "tenant"),
    ("3-tenant-arg-int", _set("tenant", 5), "tenant", "tenant"),
    ("3-objects-dict", _set("inventory.objects", {}), "inventory", "objects"),
    ("3-events-tuple", _set("inventory.tenants[0].events", ()), "inventory", "tenants[0].events"),
    ("3-refs-str", _set("inventory.objects[0].refs", "s/b"), "inventory", "objects[0].refs"),
    ("3-object-str", _set("inventory.objects[1]", "s/b"), "inventory", "objects[1]"),
    ("3-tenant-list", _set("inventory.tenants[0]", []), "inventory", "tenants[0]"),
    (
        "3-event-null",
        _set("inventory.tenants[0].events[0]", None),
        "inventory",
        "tenants[0].events[0]",
    ),
    ("3-store-int", _set("inventory.objects[0].store", 7), "inventory", "objects[0].store"),
    (
        "3-kind-int",
        _set("inventory.tenants[0].events[0].kind", 1),
        "inventory",
        "tenants[0].events[0].kind",
    ),
    ("3-categories-list", _set("policy.categories", []), "policy", "categories"),
    ("3-category-bool", _set("policy.categories.logs", True), "policy", "categories.logs"),
    ("3-keep-int", _set("policy.categories.audit.keep", 1), "policy", "categories.audit.keep"),
    ("3-timezone-int", _set("policy.timezone", 9), "policy", "timezone"),
    (
        "3-at-int",
        _set("inventory.tenants[0].events[0].at", 0),
        "inventory",
        "tenants[0].events[0].at",
    ),
    # 4. empty strings
    ("4-tenant-id", _set("inventory.tenants[1].id", ""), "inventory", "tenants[1].id"),
    ("4-store", _set("inventory.objects[2].store", ""), "inventory", "objects[2].store"),
    ("4-key", _set("inventory.objects[0].key", ""), "inventory", "objects[0].key"),
    ("4-object-tenant", _set("inventory.objects[0].tenant", ""), "inventory", "objects[0].tenant"),
    ("4-category", _set("inventory.objects[0].category", ""), "inventory", "objects[0].category"),
    ("4-tenant-arg", _set("tenant", ""), "tenant", "tenant"),
    ("4-category-name", _set("policy.categories.", {"keep": True}), "policy", "categories."),
    # 5. unknown event kind
    (
        "5-kind",
        _set("inventory.tenants[1].events[0].kind", "paused"),
        "inventory",
        "tenants[1].events[0].kind",
    ),
    (
        "5-kind-case",
        _set("inventory.tenants[1].events[0].kind", "Cancelled"),
        "inventory",
        "tenants[1].events[0].kind",
    ),
    # 6. bad instants
    (
        "6-no-offset",
        _set("inventory.tenants[0].events[0].at", "2026-01-01T00:00:00"),
        "inventory",
        "tenants[0].events[0].at",
    ),
    (
        "6-minus-zero",
        _set("inventory.objects[0].created_at", "2026-01-01T00:00:00-00:00"),
        "inventory",
        "objects[0].created_at",
    ),
    (
        "6-seven-digits",
        _set("inventory.objects[2].created_at", "2026-01-01T00:00:00.1234567Z"),
        "inventory",
        "objects[2].created_at",
    ),
    (
        "6-before-1970",
        _set("inventory.tenants[1].events[0].at", "1969-12-31T23:59:59Z"),
        "inventory",
        "tenants[1].events[0].at",
    ),
    ("6-as-of-range", _set("as_of", "9001-01-01T00:00:00Z"), "as_of", "as_of"),
    ("6-as-of-space", _set("as_of", "2026-06-01 00:00:00Z"), "as_of", "as_of"),
    # 7. duplicate tenant ids
    ("7-dup-tenant", _append("inventory.tenants", tenant("u", [])), "inventory", "tenants[2]"),
    # 8. duplicate objects
    ("8-dup-object", _append("inventory.objects", obj("s", "b", "u")), "inventory", "objects[3]"),
    # 9. object of an unlisted tenant
    ("9-unlisted", _set("inventory.objects[1].tenant", "v"), "inventory", "objects[1].tenant"),
    # 10. call tenant not listed
    ("10-tenant-arg", _set("tenant", "v"), "tenant", "tenant"),
    ("10-tenant-arg-case", _set("tenant", "T"), "tenant", "tenant"),
    # 11. time zones
    ("11-missing", _delete("policy.timezone"), "policy", "timezone"),
    ("11-unknown", _set("policy.timezone", "Mars/Olympus_Mons"), "policy", "timezone"),
    ("11-case", _set("policy.timezone", "asia/tokyo"), "policy", "timezone"),
    ("11-traversal", _set("policy.timezone", "../../../etc/passwd"), "policy", "timezone"),
    ("11-relative-traversal", _set("policy.timezone", "Asia/../UTC"), "policy", "timezone"),
    ("11-absolute", _set("policy.timezone", "/usr/share/zoneinfo/UTC"), "policy", "timezone"),
    ("11-localtime", _set("policy.timezone", "localtime"), "policy", "timezone"),
    ("11-posixrules", _set("policy.timezone", "posixrules"), "policy", "timezone"),
    ("11-posix-dir", _set("policy.timezone", "posix/Asia/Tokyo"), "policy", "timezone"),
    ("11-offset", _set("policy.timezone", "+09:00"), "policy", "timezone"),
    ("11-nul", _set("policy.timezone", "UTC\x00"), "policy", "timezone"),
    ("11-empty", _set("policy.timezone", ""), "policy", "timezone"),
    ("11-index-file", _set("policy.timezone", "zone1970.tab"), "policy", "timezone"),
    # 12. category tables
    ("12-both", _set("policy.categories.audit.retain_days", 3), "policy", "categories.audit"),
    ("12-neither", _set("policy.categories.audit", {}), "policy", "categories.audit"),
    (
        "12-keep-false",
        _set("policy.categories.audit.keep", False),
        "policy",
        "categories.audit.keep",
    ),
    # 13. day counts out of range
    ("13-grace-negative", _set("policy.grace_days", -1), "policy", "grace_days"),
    ("13-grace-big", _set("policy.grace_days", 36501), "policy", "grace_days"),
    ("13-lag-big", _set("policy.backup_lag_days", 10**30), "policy", "backup_lag_days"),
    (
        "13-retain-negative",
        _set("policy.categories.logs.retain_days", -1),
        "policy",
        "categories.logs.retain_days",
    ),
    # 14. refs
    ("14-one", _set("inventory.objects[0].refs[0]", ["s"]), "inventory", "objects[0].refs[0]"),
    (
        "14-three",
        _set("inventory.objects[0].refs[0]", ["s", "b", "c"]),
        "inventory",
        "objects[0].refs[0]",
    ),
    (
        "14-empty-key",
        _set("inventory.objects[2].refs[1]", ["x", ""]),
        "inventory",
        "objects[2].refs[1]",
    ),
    (
        "14-empty-store",
        _set("inventory.objects[2].refs[0]", ["", "a"]),
        "inventory",
        "objects[2].refs[0]",
    ),
    ("14-int", _set("inventory.objects[2].refs[0]", ["s", 1]), "inventory", "objects[2].refs[0]"),
    ("14-null", _set("inventory.objects[2].refs[0]", None), "inventory", "objects[2].refs[0]"),
    (
        "14-tuple",
        _set("inventory.objects[0].refs[0]", ("s", "b")),
        "inventory",
        "objects[0].refs[0]",
    ),
    ("14-string", _set("inventory.objects[0].refs[0]", "sb"), "inventory", "objects[0].refs[0]"),
    (
        "14-dict",
        _set("inventory.objects[0].refs[0]", {"store": "s", "key": "b"}),
        "inventory",
        "objects[0].refs[0]",
    ),
    # roots
    ("root-inventory-list", _set("inventory", []), "inventory", ""),
    ("root-policy-null", _set("policy", None), "policy", ""),
]


def test_base_case_is_valid() -> None:
    """The unmutated base input gives a verdict (so each case below tests its one fault)."""
    actual = Case().run()
    assert (True, None) == (actual["eligible"], actual["reason"])


@pytest.mark.parametrize(
    ("mutate", "source", "where"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_input_is_rejected(mutate: Callable[[Case], None], source: str, where: str) -> None:
    """A single fault of spec §4.4 raises PlanInputError naming its source and field."""
    case = Case()
    mutate(case)
    with pytest.raises(deleter_b.PlanInputError) as caught:
        case.run()
    assert (source, where) == (caught.value.source, caught.value.field)
    assert where in str(caught.value)
    assert "\n" not in str(caught.value)


def test_fault_in_other_tenant_rejects_call() -> None:
    """Spec §4.4: a fault in another tenant's object rejects the call for T too."""
    case = Case()
    cast("list[Data]", case.inventory["objects"])[2]["created_at"] = "2026-01-01"
    with pytest.raises(deleter_b.PlanInputError) as caught:
        case.run()
    assert ("inventory", "objects[2].created_at") == (caught.value.source, caught.value.field)


def test_unused_category_fault_rejects_call() -> None:
    """Spec §4.4: a bad category no object uses still rejects the call."""
    case = Case()
    case.policy["categories"]["unused"] = {"keep": True, "retain_days": 1}
    with pytest.raises(deleter_b.PlanInputError) as caught:
        case.run()
    assert ("policy", "categories.unused") == (caught.value.source, caught.value.field)


def test_active_tenant_still_validates_everything() -> None:
    """Spec §4.4: the input is validated even when the verdict would be 'active'."""
    case = Case(tenant="u")
    case.inventory["objects"][0]["refs"] = [["s"]]
    with pytest.raises(deleter_b.PlanInputError) as caught:
        case.run()
    assert ("inventory", "objects[0].refs[0]") == (caught.value.source, caught.value.field)


@pytest.mark.parametrize("days", [0, 36500])
def test_day_count_bounds_are_accepted(days: int) -> None:
    """Spec §4.2: 0 and 36500 are valid day counts."""
    case = Case()
    case.policy.update(grace_days=days, backup_lag_days=days)
    case.policy["categories"]["logs"]["retain_days"] = days
    assert "t" == case.run()["tenant"]


def test_optional_fields_may_be_omitted() -> None:
    """Spec §4.1/§4.2: optional fields take their defaults when absent."""
    case = Case(policy={"timezone": "UTC"})
    case.inventory["objects"] = [
        {"store": "s", "key": "a", "tenant": "t", "created_at": "2020-01-01T00:00:00Z"}
    ]
    actual = case.run()
    assert ("2026-02-01T00:00:00Z", "2026-02-15T00:00:00Z", [{"store": "s", "key": "a"}]) == (
        actual["primary_due"],
        actual["backup_due"],
        actual["purge"],
    )


def test_error_str_is_one_line_with_field() -> None:
    """Spec §8: str(error) is a single line that contains the field, even for odd keys."""
    case = Case()
    case.inventory["objects"][0]["legal\nhold"] = True
    with pytest.raises(deleter_b.PlanInputError) as caught:
        case.run()
    assert "objects[0].legal\nhold" == caught.value.field
    assert 1 == len(str(caught.value).splitlines())
    assert "objects[0].legal\\nhold" in str(caught.value)


def test_error_attributes_and_hierarchy() -> None:
    """Spec §8: PlanInputError is a PlannerError with source, field and message."""
    with pytest.raises(deleter_b.PlannerError) as caught:
        Case(as_of="2026-06-01T00:00:00z").run()
    error = caught.value
    assert isinstance(error, deleter_b.PlanInputError)
    assert ("as_of", "as_of") == (error.source, error.field)
    assert error.message
    assert error.message in str(error)
