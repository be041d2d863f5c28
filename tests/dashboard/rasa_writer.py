"""Write conversations into the SQL tracker store with Rasa's own code (run with the Rasa environment's Python).

    .venv/rasa/bin/python tests/dashboard/rasa_writer.py CONVERSATIONS.jsonl

Each line: {"sender_id": ..., "events": [Rasa event dicts]}. The connection comes
from DB_HOST, DB_PORT, DB_NAME, DB_USER and DB_PASSWORD, as in endpoints.yml.
"""

import asyncio
import json
import os
import sys


def main(path: str) -> int:
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import Event
    from rasa.shared.core.trackers import DialogueStateTracker

    store = SQLTrackerStore(
        domain=Domain.empty(),
        dialect="postgresql",
        host=os.environ["DB_HOST"],
        port=int(os.environ["DB_PORT"]),
        db=os.environ["DB_NAME"],
        username=os.environ["DB_USER"],
        password=os.environ.get("DB_PASSWORD") or None,
        query={"host": os.environ["DB_HOST"]},
    )

    async def write_all() -> int:
        count = 0
        with open(path, encoding="utf-8") as lines:
            for line in lines:
                conversation = json.loads(line)
                events = [Event.from_parameters(e) for e in conversation["events"]]
                tracker = DialogueStateTracker.from_events(conversation["sender_id"], events, slots=[])
                await store.save(tracker)
                count += len(events)
        return count

    written = asyncio.run(write_all())
    print(f"written {written} events", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
