"""The action server of the booking assistant, and the booking core it is built on.

rasa-sdk imports every module of this package and registers each concrete
``Action``; the plain modules (settings, business, db, timeparse, slots) hold
the logic and are what the tests, the dashboard and the jobs import.
"""

import logging as _logging
import os as _os
import sys as _sys

# The action server answers from web worker processes whose root logger has no handler, so our
# records get their own handler (the format of rasa-sdk's) and do not depend on the root's.
_handler = _logging.StreamHandler(_sys.stderr)
_handler.setFormatter(_logging.Formatter("%(asctime)s %(levelname)-8s %(name)s  - %(message)s", "%Y-%m-%d %H:%M:%S"))
for _name in ("actions", "rag"):
    _logger = _logging.getLogger(_name)
    if not _logger.handlers:
        _logger.addHandler(_handler)
        _logger.propagate = False
        _logger.setLevel(_os.environ.get("LOG_LEVEL_ACTIONS", "INFO").upper())
