"""Do Rasa servers sharing a Redis lock store ever run two turns of one conversation at once?

Run by tests/deploy/test_lock_store.py with the Rasa environment's Python:

    PYTHONPATH=. .venv/rasa/bin/python tests/deploy/lock_race.py LOCK_STORE_CLASS REDIS_PORT [PROCESSES] [ROUNDS]

PROCESSES processes (as many Rasa servers) each take the lock of the same new conversation at the same
moment, ROUNDS times, and hold it for a short "turn". Prints JSON: turns run, turns that overlapped another
turn of the same conversation, and lock errors (a waiting turn whose lock vanished).
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import sys


def worker(store_path: str, port: int, rounds: int, barrier, results) -> None:
    import redis
    from rasa.shared.utils.common import class_from_module_path

    store = class_from_module_path(store_path)(host="127.0.0.1", port=port, db=1)
    probe = redis.Redis(host="127.0.0.1", port=port, db=2)
    counts = {"turns": 0, "overlaps": 0, "errors": 0}

    async def turn(conversation_id: str) -> None:
        async with store.lock(conversation_id, wait_time_in_seconds=0.005):
            if probe.incr(f"inside:{conversation_id}") > 1:
                counts["overlaps"] += 1
            await asyncio.sleep(0.01)
            probe.decr(f"inside:{conversation_id}")
            counts["turns"] += 1

    for n in range(rounds):
        try:
            barrier.wait(timeout=30)
            asyncio.run(asyncio.wait_for(turn(f"conversation-{n}"), timeout=30))
        except Exception:  # LockError (the lock was deleted under a waiting turn), a turn that never got it
            counts["errors"] += 1
    results.put(counts)


def main() -> None:
    store_path, port = sys.argv[1], int(sys.argv[2])
    processes = int(sys.argv[3]) if len(sys.argv) > 3 else 4
    rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 40
    import rasa.core.lock_store  # noqa: F401  (imported once, before the processes fork)

    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(processes), context.Queue()
    workers = [
        # daemons: a worker stuck on a lock never keeps this process (and the test) from ending
        context.Process(target=worker, args=(store_path, port, rounds, barrier, results), daemon=True)
        for _ in range(processes)
    ]
    for process in workers:
        process.start()
    totals = {"turns": 0, "overlaps": 0, "errors": 0}
    for _ in workers:
        for key, value in results.get(timeout=120).items():
            totals[key] += value
    for process in workers:
        process.join()
    print(json.dumps(totals))


if __name__ == "__main__":
    main()
