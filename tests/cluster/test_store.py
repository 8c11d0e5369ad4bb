"""The task store on SQLite and on a real PostgreSQL: leases, take-overs, one completion."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest
from magic_hour_server.tasks._at_once import AtOnce, Busy
from magic_hour_server.tasks._records import Face
from magic_hour_server.tasks._tasks import Store

from tests.cluster.postgres import Postgres

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(params=["sqlite", "sqlite-waiting", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    if request.param == "sqlite-waiting":
        # A worker's claim and finish, made at once on SQLite, made through the engine
        # instead: what happens whenever another connection holds the write lock.
        def busy(*_args: object, **_kwargs: object) -> None:
            raise Busy("database is locked")

        monkeypatch.setattr(AtOnce, "claim", busy)
        monkeypatch.setattr(AtOnce, "finish_held", busy)
    if request.param.startswith("sqlite"):
        return Store(tmp_path / "tasks.sqlite3")
    postgres: Postgres = request.getfixturevalue("postgres")
    return Store(postgres.new_database())


FACE = Face(0, 0, (1, 2, 3, 4), 0.9, None)


def test_a_dead_workers_task_is_taken_over_once_its_lease_runs_out(store: Store) -> None:
    task_id = store.create_task("me", "api-assets/a/b.png", 0.5)
    first = store.claim_next("worker-1", lease=0.3)
    assert first is not None and first.id == task_id
    assert store.add_face(task_id, FACE, worker="worker-1")
    assert store.claim_next("worker-2", lease=5) is None  # still leased

    time.sleep(0.4)  # worker-1 died: no heartbeat
    second = store.claim_next("worker-2", lease=5)

    assert second is not None and second.id == task_id
    assert second.faces == []  # the dead run's partial faces are gone
    # The dead worker's late writes are refused; the new owner's are not.
    assert not store.add_face(task_id, FACE, worker="worker-1")
    assert not store.renew_lease(task_id, "worker-1")
    assert not store.finish(task_id, worker="worker-1")
    assert store.add_face(task_id, FACE, worker="worker-2")
    assert store.finish(task_id, worker="worker-2")
    assert not store.finish(task_id, worker="worker-2")  # complete once
    task = store.get_task(task_id)
    assert task is not None and task.status == "complete" and len(task.faces) == 1


def test_a_heartbeat_keeps_the_task(store: Store) -> None:
    task_id = store.create_task("me", "x", 0.5)
    assert store.claim_next("worker-1", lease=0.3) is not None
    for _ in range(4):
        time.sleep(0.15)
        assert store.renew_lease(task_id, "worker-1", lease=0.3)
    assert store.claim_next("worker-2", lease=5) is None


def test_concurrent_claims_take_each_task_once(store: Store) -> None:
    created = {store.create_task("me", f"t{n}", 0.5) for n in range(40)}
    claimed: list[str] = []
    lock = threading.Lock()

    def claim(worker: str) -> None:
        while (task := store.claim_next(worker, lease=30)) is not None:
            with lock:
                claimed.append(task.id)
            store.finish(task.id, worker=worker)

    threads = [threading.Thread(target=claim, args=(f"w{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(claimed) == sorted(created)


def test_changes_are_announced_after_commit(tmp_path: Path) -> None:
    seen: list[str] = []
    store = Store(tmp_path / "tasks.sqlite3", on_change=seen.append)
    task_id = store.create_task("me", "x", 0.5)
    store.claim_next("w", lease=5)
    store.add_face(task_id, FACE, worker="w")
    store.set_progress(task_id, 0.5, worker="w")
    store.finish(task_id, worker="w")
    assert seen == [task_id] * 4


def test_finishing_stores_the_faces_with_the_completion_or_nothing(store: Store) -> None:
    task_id = store.create_task("me", "api-assets/a/b.png", 0.5)
    claimed = store.claim_next("worker-1", lease=0.3)
    assert claimed is not None
    assert (claimed.id, claimed.status, claimed.target, claimed.threshold) == (
        task_id, "rendering", "api-assets/a/b.png", 0.5,
    )  # fmt: skip
    found = [FACE, Face(0, 1, (5, 6, 7, 8), 0.7, None)]
    time.sleep(0.4)
    assert store.claim_next("worker-2", lease=5) is not None  # worker-1's lease ran out

    assert not store.finish(task_id, worker="worker-1", found=found)
    task = store.get_task(task_id)
    assert task is not None and task.status == "rendering" and task.faces == []

    assert store.finish(task_id, worker="worker-2", found=found)
    task = store.get_task(task_id)
    assert task is not None and task.status == "complete" and task.faces == found


def test_faces_added_together_are_stored_together(store: Store) -> None:
    task_id = store.create_task("me", "api-assets/a/b.png", 0.5)
    assert store.claim_next("w") is not None
    found = [Face(3, index, (index, 0, 10, 10), 0.5 + index / 10, 0.1) for index in range(3)]
    assert store.add_faces(task_id, found, worker="w")
    # Stored again (a frame handed over twice): replaced, not doubled.
    assert store.add_faces(task_id, found[:1], worker="w")
    task = store.get_task(task_id)
    assert task is not None and task.faces == found


def test_a_read_that_must_not_wait_sees_what_a_read_that_may_wait_sees(store: Store) -> None:
    task_id = store.create_task("me", "api-assets/a/b.png", 0.5)
    asset_id = store.create_asset("me", "input.png")
    if not store.answers_at_once:
        # PostgreSQL: every read is a round trip, made where waiting is allowed.
        with pytest.raises(Busy):
            store.get_task(task_id, wait=False)
        with pytest.raises(Busy):
            store.get_asset(asset_id, "input.png", wait=False)
        with pytest.raises(Busy):
            store.create_asset("me", "input.png", wait=False)
        with pytest.raises(Busy):
            store.create_task("me", "x", 0.5, "key", wait=False)
        return
    assert store.get_task(task_id, wait=False) == store.get_task(task_id)
    assert store.claim_next("w") is not None
    found = [Face(0, index, (index, 0, 10, 10), 0.5, None) for index in (1, 0)]
    assert store.finish(task_id, worker="w", found=found)
    now = store.get_task(task_id, wait=False)
    assert now is not None and now.status == "complete" and len(now.faces) == 2
    assert now == store.get_task(task_id)
    assert store.get_task("nosuchtask", wait=False) is None
    assert store.get_asset(asset_id, "input.png", wait=False) == store.get_asset(
        asset_id, "input.png"
    )
    store.mark_uploaded(asset_id, 10)
    asset = store.get_asset(asset_id, "input.png", wait=False)
    assert asset is not None and asset.uploaded
    assert store.get_asset(asset_id, "other.png", wait=False) is None


def test_a_read_that_must_not_wait_says_busy_when_it_cannot_answer(tmp_path: Path) -> None:
    store = Store(tmp_path / "tasks.sqlite3")
    task_id = store.create_task("me", "x", 0.5)
    task = store.get_task(task_id, wait=False)
    assert task is not None and task.id == task_id
    store.close()
    with pytest.raises(Busy):  # a closed store's reads go where errors are reported
        store.get_task(task_id, wait=False)
    with pytest.raises(Busy):
        store.get_asset("a", "input.png", wait=False)


def test_writes_at_once_are_the_same_rows_and_say_busy_while_a_writer_holds_the_lock(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path / "tasks.sqlite3")
    asset_id = store.create_asset("me", "input.png", wait=False)
    asset = store.get_asset(asset_id, "input.png")
    assert asset is not None and (asset.owner, asset.name, asset.uploaded) == (
        "me",
        "input.png",
        False,
    )
    task_id = store.create_task("me", "api-assets/a/b.png", 0.25, "k1", wait=False)
    task = store.get_task(task_id)
    assert task is not None
    assert (task.owner, task.status, task.target, task.threshold, task.progress) == (
        "me", "queued", "api-assets/a/b.png", 0.25, 0.0,
    )  # fmt: skip
    # The same key again, either way: the same task.
    assert store.create_task("me", "other", 0.5, "k1", wait=False) == task_id
    assert store.create_task("me", "other", 0.5, "k1") == task_id
    assert store.claim_next("w") is not None  # a task made at once is claimed as any

    writer = sqlite3.connect(tmp_path / "tasks.sqlite3", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # a worker in the middle of its transaction
    started = time.monotonic()
    with pytest.raises(Busy):
        store.create_asset("me", "later.png", wait=False)
    with pytest.raises(Busy):
        store.create_task("me", "later", 0.5, wait=False)
    with pytest.raises(Busy):
        store.mark_uploaded(asset_id, 10, wait=False)
    assert time.monotonic() - started < 1.0  # at once, not after the 5 s busy timeout
    assert store.get_task(task_id, wait=False) is not None  # reads go on beside a writer
    writer.execute("COMMIT")
    writer.close()
    with store._engine.connect() as db:
        counts = [
            db.exec_driver_sql("SELECT count(*) FROM tasks").scalar(),
            db.exec_driver_sql("SELECT count(*) FROM assets").scalar(),
        ]
    assert counts == [1, 1]  # nothing half-made by the refused calls
    still = store.get_asset(asset_id, "input.png")
    assert still is not None and not still.uploaded
    store.mark_uploaded(asset_id, 10, wait=False)
    recorded = store.get_asset(asset_id, "input.png")
    assert recorded is not None and recorded.uploaded
    assert store.create_asset("me", "later.png", wait=False) != asset_id
    store.close()


def test_a_workers_claim_and_finish_wait_for_a_writer_that_holds_the_lock(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path / "tasks.sqlite3")
    first = store.create_task("me", "api-assets/a/b.png", 0.5)
    second = store.create_task("me", "api-assets/a/c.png", 0.5)
    claimed = store.claim_next("worker-1")
    assert claimed is not None and claimed.id == first
    assert store._at_once is not None
    writer = sqlite3.connect(
        tmp_path / "tasks.sqlite3", isolation_level=None, check_same_thread=False
    )
    writer.execute("BEGIN IMMEDIATE")  # another process's worker, mid-transaction
    with pytest.raises(Busy):
        store._at_once.claim("worker-2", 30.0, time.time())
    with pytest.raises(Busy):
        store._at_once.finish_held(
            {"task_id": first, "claimer": "worker-1", "message": None, "at": time.time()},
            [],
            complete=True,
        )
    # Through the store, they wait for the lock (up to the engine's busy timeout).
    threading.Timer(0.3, lambda: writer.execute("COMMIT")).start()
    started = time.monotonic()
    assert store.finish(first, worker="worker-1", found=[FACE])
    assert time.monotonic() - started >= 0.25
    taken = store.claim_next("worker-2")
    assert taken is not None and taken.id == second
    writer.close()
    done = store.get_task(first)
    assert done is not None and done.status == "complete" and len(done.faces) == 1
    store.close()


def test_the_log_of_writes_made_at_once_is_checkpointed_even_when_nothing_else_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from magic_hour_server.tasks import _at_once

    monkeypatch.setattr(_at_once, "CHECKPOINT_PAGES", 2000)  # a smaller bound, a faster test
    database = tmp_path / "tasks.sqlite3"
    store = Store(database)
    for _ in range(3000):  # only the event loop's connection writes: ~2 log pages each
        store.create_asset("me", "input.png", wait=False)
    # The log file is as large as it ever was: it is reused from its start after a
    # checkpoint. It went past SQLite's usual 1000 pages (the checkpoints were left to
    # the other connections), and no further than the bound (then this one made them).
    pages = (tmp_path / "tasks.sqlite3-wal").stat().st_size // 4096
    assert 1500 < pages < 2100, pages
    store.close()


def test_the_workers_connections_checkpoint_the_log_as_the_engine_does(tmp_path: Path) -> None:
    database = tmp_path / "tasks.sqlite3"
    store = Store(database)
    for _ in range(2500):
        store.create_task("me", "api-assets/a/b.png", 0.5)
    with sqlite3.connect(database) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the log starts empty
    for _ in range(2500):  # only the workers' connection writes: ~4 log pages a task
        claimed = store.claim_next("worker-1")
        assert claimed is not None
        assert store.finish(claimed.id, worker="worker-1", found=[FACE])
    # Checkpointed at SQLite's 1000 pages, as the engine's connections do: not left to
    # grow to the event loop's bound of 10 000.
    pages = (tmp_path / "tasks.sqlite3-wal").stat().st_size // 4096
    assert 900 < pages < 1300, pages
    store.close()


def test_the_event_loop_s_connection_is_set_up_as_the_store_s_own(tmp_path: Path) -> None:
    # synchronous=NORMAL above all: with SQLite's default (FULL) every insert the event
    # loop makes would wait for an fsync (381 us against 22 us here).
    store = Store(tmp_path / "tasks.sqlite3")
    store.create_asset("me", "input.png", wait=False)
    at_once = store._at_once._connection()  # type: ignore[union-attr]
    pragmas = ["journal_mode", "synchronous", "foreign_keys"]
    with store._engine.connect() as db:
        engine = [db.exec_driver_sql(f"PRAGMA {name}").scalar() for name in pragmas]
    assert [at_once.execute(f"PRAGMA {name}").fetchone()[0] for name in pragmas] == engine
    assert engine == ["wal", 1, 1]
    store.close()
