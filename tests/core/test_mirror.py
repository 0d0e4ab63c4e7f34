"""The mirror's conditional writes: newest state wins, tombstones are final."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from core.mirror import SQLiteMirrorStore, normalize_id, normalize_time

T1, T2, T3 = (
    "2024-01-01T00:00:01.000000Z",
    "2024-01-01T00:00:02.000000Z",
    "2024-01-01T00:00:03.000000Z",
)


@pytest.fixture
def mirror(tmp_path: Path) -> Iterator[SQLiteMirrorStore]:
    store = SQLiteMirrorStore(tmp_path / "m.db")
    store.migrate()
    yield store
    store.close()


def _upsert(mirror: SQLiteMirrorStore, updated_at: str | None, name: str) -> bool:
    return mirror.upsert_entity(
        "budget",
        7,
        data={"id": 7, "name": name},
        updated_at=updated_at,
        fetched_at=T3,
        delivery_id="d",
    )


def test_a_newer_state_replaces_an_older_one(mirror: SQLiteMirrorStore) -> None:
    assert _upsert(mirror, T1, "old")
    assert _upsert(mirror, T2, "new")
    row = mirror.get_entity("budget", "7")
    assert row is not None and row.data == {"id": 7, "name": "new"} and row.updated_at == T2


def test_an_older_state_fetched_late_does_not_overwrite_a_newer_one(
    mirror: SQLiteMirrorStore,
) -> None:
    _upsert(mirror, T2, "new")
    assert not _upsert(mirror, T1, "old")
    row = mirror.get_entity("budget", 7)
    assert row is not None and row.data is not None and row.data["name"] == "new"


def test_a_tombstone_is_never_undone_by_a_later_upsert(mirror: SQLiteMirrorStore) -> None:
    _upsert(mirror, T1, "live")
    assert mirror.tombstone_entity("budget", 7, deleted_at=T2, delivery_id="del")
    assert not _upsert(mirror, T3, "resurrected")
    assert not mirror.tombstone_entity("budget", 7, deleted_at=T3, delivery_id="again")
    row = mirror.get_entity("budget", 7)
    assert row is not None and row.deleted and row.deleted_at == T2
    assert row.data == {"id": 7, "name": "live"}


def test_a_delete_seen_before_any_state_still_leaves_a_tombstone(
    mirror: SQLiteMirrorStore,
) -> None:
    assert mirror.tombstone_entity("customer", "c-1", deleted_at=T1, delivery_id=None)
    assert not mirror.upsert_entity(
        "customer", "c-1", data={}, updated_at=T2, fetched_at=T3, delivery_id=None
    )
    assert [r.id for r in mirror.list_entities("customer", include_deleted=False)] == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-01-01T00:00:01Z", T1),
        ("2024-01-01T01:00:01+01:00", T1),
        ("2024-01-01T00:00:01.000000Z", T1),
        ("yesterday", None),
        (None, None),
    ],
)
def test_times_are_normalised_to_fixed_width_utc(value: object, expected: str | None) -> None:
    assert normalize_time(value) == expected


@pytest.mark.parametrize("bad", [True, "", "  ", 1.5])
def test_entity_ids_must_be_integers_or_strings(bad: object) -> None:
    with pytest.raises(ValueError):
        normalize_id(bad)  # type: ignore[arg-type]
