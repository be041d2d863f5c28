"""The Redis lock store of scaled-out Rasa (deploy/rasa_lock_store.py) against a real Redis server.

Several processes (as many Rasa servers) take the lock of one new conversation at the same moment. Rasa's
own RedisLockStore lets their turns overlap; ours serves them one at a time. Runs in the Rasa environment.
"""

from __future__ import annotations

import json
import os
import subprocess

from scripts.stack import PROJECT_ROOT

RASA_PYTHON = PROJECT_ROOT / ".venv" / "rasa" / "bin" / "python"
RACE = PROJECT_ROOT / "tests" / "deploy" / "lock_race.py"


def race(store: str, redis_port: int, processes: int = 4, rounds: int = 20) -> dict[str, int]:
    done = subprocess.run(
        [str(RASA_PYTHON), str(RACE), store, str(redis_port), str(processes), str(rounds)],
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_our_lock_store_runs_the_turns_of_one_conversation_one_at_a_time(redis_port):
    result = race("deploy.rasa_lock_store.AtomicRedisLockStore", redis_port)
    assert result == {"turns": 80, "overlaps": 0, "errors": 0}


def test_rasas_own_redis_lock_store_lets_simultaneous_turns_overlap(redis_port):
    # the reason for ours, and proof that the race above really races
    result = race("rasa.core.lock_store.RedisLockStore", redis_port)
    assert result["overlaps"] + result["errors"] > 0, result
