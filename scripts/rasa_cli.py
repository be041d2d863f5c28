"""The `rasa` command as the local stack starts it, without Rasa's dependencies' deprecation noise.

    .venv/rasa/bin/python -m scripts.rasa_cli shell --model models/lotus.tar.gz ...

Runs in the Rasa environment (Python 3.10) and imports nothing of the project. Sanic 21.12, which
Rasa 3.6 pins, turns every DeprecationWarning back on ("once") when it is imported, so
PYTHONWARNINGS cannot quiet the screens of warnings that setuptools, SQLAlchemy, TensorFlow,
sanic-cors and matplotlib print before "Bot loaded". They are about those libraries' own use of deprecated APIs,
not about this project: after Sanic's import this puts the filter back in front. User warnings
(about the model or the data) still show.
"""

from __future__ import annotations

import os
import sys
import warnings

os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import sanic  # noqa: F401  (its import adds the "once" filter for DeprecationWarning)
warnings.filterwarnings("ignore", category=DeprecationWarning)
warnings.filterwarnings("ignore", category=PendingDeprecationWarning)
# matplotlib 3.5 (Rasa's pin) calls pyparsing's old names; pyparsing's warning is its own class
warnings.filterwarnings("ignore", message=".* deprecated - use .*", module="matplotlib")

from rasa.__main__ import main  # noqa: E402

if __name__ == "__main__":
    sys.argv[0] = "rasa"
    sys.exit(main())
