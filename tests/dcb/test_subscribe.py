"""Subscriptions: the matching events stored after ``after``, then each new one as it commits.

Iteration blocks (without polling) while caught up, delivers a new event promptly, and ends when
``stop()`` is called from any thread or the ``with`` block exits.
"""

from __future__ import annotations

import resource
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from fairway_django.dcb import (
    DcbStore,
    Event,
    Position,
    Query,
    QueryItem,
    SequencedEvent,
    Subscription,
)

from .conftest import BigLog, StoreOpener
from .support import expected_read

#: How soon a caught-up subscriber must receive an event after the append that made it.
LIVE_LATENCY_SECONDS = 0.1
#: A blocked iteration must end this soon after stop().
STOP_LATENCY_SECONDS = 0.5
#: Time to let a subscriber that has caught up block in its wait.
SETTLE_SECONDS = 0.2


class Consumer:
    """Iterates a subscription in a thread of its own, noting when each event arrived and the
    thread CPU time and wall time each ``next()`` took."""

    def __init__(self, subscription: Subscription) -> None:
        self.subscription = subscription
        self.received: list[SequencedEvent] = []
        self.arrivals: list[float] = []
        self.next_costs: list[tuple[float, float]] = []  # (thread CPU, wall) per event
        self.error: BaseException | None = None
        self.finished = threading.Event()
        self._changed = threading.Condition()
        self.thread = threading.Thread(target=self._run, daemon=True, name="subscriber")
        self.thread.start()

    def _run(self) -> None:
        iterator = iter(self.subscription)
        try:
            while True:
                cpu, wall = time.thread_time(), time.monotonic()
                try:
                    event = next(iterator)
                except StopIteration:
                    break
                now = time.monotonic()
                with self._changed:
                    self.received.append(event)
                    self.arrivals.append(now)
                    self.next_costs.append((time.thread_time() - cpu, now - wall))
                    self._changed.notify_all()
        except BaseException as exc:  # noqa: BLE001  (re-raised by the test thread)
            self.error = exc
        finally:
            self.finished.set()
            with self._changed:
                self._changed.notify_all()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[SequencedEvent]:
        """The first ``count`` events, once they have arrived."""
        with self._changed:
            self._changed.wait_for(
                lambda: len(self.received) >= count or self.finished.is_set(), timeout
            )
        if self.error is not None:
            raise self.error
        assert len(self.received) >= count, f"got {len(self.received)} of {count} events"
        return self.received[:count]

    def stop_and_join(self, timeout: float = STOP_LATENCY_SECONDS) -> float:
        """Stop the subscription from this thread; return how long the iteration took to end."""
        started = time.monotonic()
        self.subscription.stop()
        self.thread.join(timeout)
        elapsed = time.monotonic() - started
        assert not self.thread.is_alive(), f"iteration still blocked {timeout}s after stop()"
        if self.error is not None:
            raise self.error
        return elapsed


@pytest.fixture
def consume() -> Iterator[Callable[[Subscription], Consumer]]:
    """Starts consumers; stops every one at teardown, so no thread outlives its test."""
    started: list[Consumer] = []

    def start(subscription: Subscription) -> Consumer:
        started.append(Consumer(subscription))
        return started[-1]

    yield start
    for consumer in started:
        consumer.subscription.stop()
        consumer.thread.join(5)


def test_catch_up_then_live_within_100ms(
    store: DcbStore, consume: Callable[[Subscription], Consumer]
) -> None:
    stored = [Event("T", f"stored {i}".encode()) for i in range(3)]
    store.append(stored[:2])
    store.append(stored[2:])
    consumer = consume(store.subscribe())
    assert [e.event for e in consumer.wait_for(3)] == stored
    latencies = []
    for i in range(5):
        time.sleep(SETTLE_SECONDS)  # the subscriber is caught up and waiting
        appended_at = time.monotonic()
        store.append([Event("T", f"live {i}".encode())])
        consumer.wait_for(4 + i, timeout=5)
        latencies.append(consumer.arrivals[3 + i] - appended_at)
    assert max(latencies) < LIVE_LATENCY_SECONDS, latencies
    consumer.stop_and_join()
    assert consumer.received == list(store.read())


def test_live_events_from_another_handle_and_not_from_another_namespace(
    store: DcbStore,
    open_stores: StoreOpener,
    namespace: str,
    consume: Callable[[Subscription], Consumer],
) -> None:
    same, elsewhere = open_stores.open(namespace), open_stores.open()
    consumer = consume(store.subscribe())
    time.sleep(SETTLE_SECONDS)
    elsewhere.append([Event("T", b"elsewhere")])
    appended_at = time.monotonic()
    same.append([Event("T", b"same namespace")])
    (event,) = consumer.wait_for(1, timeout=5)
    assert event.event.data == b"same namespace"
    assert consumer.arrivals[0] - appended_at < LIVE_LATENCY_SECONDS
    consumer.stop_and_join()
    assert len(consumer.received) == 1


def test_subscriptions_deliver_only_matching_events(
    store: DcbStore, consume: Callable[[Subscription], Consumer]
) -> None:
    """Past and live events alike are filtered by the query; an event matched by several items
    is delivered once; 3-tag items are exact."""
    query = Query(
        [
            QueryItem(types=["A"], tags=["x"]),
            QueryItem(tags=["x", "y", "z"]),
            QueryItem(types=["C"]),
        ]
    )
    batches = [
        [Event("A", b"1", ["x"]), Event("B", b"2", ["x"]), Event("A", b"3", ["y"])],
        [
            Event("B", b"4", ["x", "y"]),
            Event("B", b"5", ["z", "y", "x"]),
            Event("A", b"6", ["x", "y", "z"]),
        ],
        [Event("C", b"7"), Event("D", b"8", ["x", "y", "w"])],
    ]
    store.append(batches[0])
    consumer = consume(store.subscribe(query))
    consumer.wait_for(1)
    time.sleep(SETTLE_SECONDS)
    store.append(batches[1])
    store.append(batches[2])
    sentinel = Event("C", b"sentinel")
    store.append([Event("D", b"ignored")])
    store.append([sentinel])
    expected = expected_read(store.read(), query)
    assert expected[-1].event == sentinel
    assert consumer.wait_for(len(expected)) == expected
    consumer.stop_and_join()
    assert consumer.received == expected
    assert [e.event.data for e in expected] == [b"1", b"5", b"6", b"7", b"sentinel"]


def test_subscription_after_is_honoured(
    store: DcbStore, consume: Callable[[Subscription], Consumer]
) -> None:
    store.append([Event("T", b"1"), Event("T", b"2")])
    middle = store.append([Event("T", b"3")])
    store.append([Event("T", b"4"), Event("T", b"5")])
    consumer = consume(store.subscribe(after=middle))
    assert [e.event.data for e in consumer.wait_for(2)] == [b"4", b"5"]
    at_head = consume(store.subscribe(Query([QueryItem(types=["T"])]), after=store.head()))
    time.sleep(SETTLE_SECONDS)
    store.append([Event("T", b"6")])
    assert [e.event.data for e in at_head.wait_for(1)] == [b"6"]
    assert [e.event.data for e in consumer.wait_for(3)] == [b"4", b"5", b"6"]
    for c in (consumer, at_head):
        c.stop_and_join()
    assert len(at_head.received) == 1 and len(consumer.received) == 3


def test_subscription_after_a_position_between_events(
    store: DcbStore, consume: Callable[[Subscription], Consumer]
) -> None:
    first = store.append([Event("T", b"1")])
    store.append([Event("T", b"2")])
    between = Position.parse(str(first)[:-4] + "ffff")
    consumer = consume(store.subscribe(after=between))
    assert [e.event.data for e in consumer.wait_for(1)] == [b"2"]
    consumer.stop_and_join()


def test_stop_from_another_thread_ends_a_blocked_iteration_promptly(
    store: DcbStore, consume: Callable[[Subscription], Consumer]
) -> None:
    store.append([Event("T", b"1")])
    consumer = consume(store.subscribe())
    consumer.wait_for(1)
    time.sleep(SETTLE_SECONDS)
    assert not consumer.finished.is_set(), "a caught-up iteration must block, not end"
    elapsed = consumer.stop_and_join()
    assert elapsed < STOP_LATENCY_SECONDS
    assert len(consumer.received) == 1


def test_stop_ends_a_subscription_that_never_received_anything(
    store: DcbStore, consume: Callable[[Subscription], Consumer]
) -> None:
    consumer = consume(store.subscribe(Query([QueryItem(types=["Nothing"])])))
    time.sleep(SETTLE_SECONDS)
    store.append([Event("Other", b"")])  # wakes the subscriber, which must wait again
    time.sleep(SETTLE_SECONDS)
    assert not consumer.finished.is_set()
    assert consumer.stop_and_join() < STOP_LATENCY_SECONDS
    assert consumer.received == []


def test_leaving_the_with_block_stops_the_subscription(store: DcbStore) -> None:
    store.append([Event("T", b"1"), Event("T", b"2"), Event("T", b"3")])
    with store.subscribe() as subscription:
        iterator = iter(subscription)
        assert next(iterator).event.data == b"1"
    started = time.monotonic()
    assert list(iterator) == []  # events remain, but the subscription has ended
    with pytest.raises(StopIteration):
        next(iterator)
    assert time.monotonic() - started < STOP_LATENCY_SECONDS


def test_leaving_the_with_block_on_an_error_stops_it(store: DcbStore) -> None:
    store.append([Event("T", b"1")])
    with pytest.raises(KeyError), store.subscribe() as subscription:
        for _ in subscription:
            raise KeyError("handler failed")
    assert list(subscription) == []


def test_stop_before_iterating(store: DcbStore) -> None:
    store.append([Event("T", b"1")])
    subscription = store.subscribe()
    subscription.stop()
    assert list(subscription) == []


def test_a_caught_up_subscriber_does_not_poll(
    store: DcbStore, consume: Callable[[Subscription], Consumer]
) -> None:
    """Idle for a second, a caught-up subscriber costs (next to) no CPU: it waits for a
    notification instead of re-reading the store in a loop."""
    store.append([Event("T", b"1")])
    consumer = consume(store.subscribe())
    consumer.wait_for(1)
    time.sleep(SETTLE_SECONDS)
    before = resource.getrusage(resource.RUSAGE_SELF)
    time.sleep(1.0)
    after = resource.getrusage(resource.RUSAGE_SELF)
    process_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    store.append([Event("T", b"2")])
    consumer.wait_for(2, timeout=5)
    consumer.stop_and_join()
    thread_cpu, wall = consumer.next_costs[1]
    assert wall >= 1.0, "the second event cannot arrive before it is appended"
    assert thread_cpu < 0.1, f"the subscriber's thread used {thread_cpu:.3f}s CPU while waiting"
    assert process_cpu < 0.1, f"the process used {process_cpu:.3f}s CPU while idle"


def test_no_event_is_lost_or_repeated_during_a_burst_of_appends(
    store: DcbStore, consume: Callable[[Subscription], Consumer]
) -> None:
    """Appends racing with the subscriber's catch-up and waits are each delivered once."""
    store.append([Event("T", b"before")])
    consumers = [
        consume(store.subscribe()),
        consume(store.subscribe(Query([QueryItem(tags=["odd"])]))),
    ]

    def burst() -> None:
        for i in range(200):
            store.append([Event("T", f"{i}".encode(), ["odd"] if i % 2 else [])])

    writer = threading.Thread(target=burst)
    writer.start()
    writer.join(60)
    log = list(store.read())
    odd = expected_read(log, Query([QueryItem(tags=["odd"])]))
    assert consumers[0].wait_for(len(log)) == log
    assert consumers[1].wait_for(len(odd)) == odd
    for consumer in consumers:
        consumer.stop_and_join()
    assert consumers[0].received == log and consumers[1].received == odd


@pytest.mark.parametrize(
    "query",
    [
        Query.all(),
        Query([QueryItem(tags=["all", "big", "hi"])]),
        Query(
            [
                QueryItem(types=["A"]),
                QueryItem(tags=["m5", "odd"]),
                QueryItem(tags=["even", "hi", "big"]),
            ]
        ),
    ],
    ids=["all", "three tags", "three items"],
)
def test_catching_up_across_chunks(
    big_log: BigLog, query: Query, consume: Callable[[Subscription], Consumer]
) -> None:
    """A subscriber far behind receives every stored event in order, over several chunks."""
    expected = expected_read(big_log.events, query)
    assert len(expected) > 1024
    consumer = consume(big_log.store.subscribe(query))
    assert consumer.wait_for(len(expected), timeout=30) == expected
    consumer.stop_and_join()
    assert len(consumer.received) == len(expected)
    middle = expected[len(expected) // 2].position
    consumer = consume(big_log.store.subscribe(query, after=middle))
    rest = [e for e in expected if e.position > middle]
    assert consumer.wait_for(len(rest), timeout=30) == rest
    consumer.stop_and_join()
