"""Valid Chinese application numbers for tests: every id a test sends must pass its check digit."""

from __future__ import annotations

import itertools
import random
from datetime import date

from scoring.patent_ids import application_number

# A random start per process, then one up per call: distinct within a run, different between runs.
_SERIALS = itertools.count(random.SystemRandom().randrange(1, 5_000_000))


def fresh_patent_id(patent_type: str = "invention", *, filed: date = date(2021, 3, 15)) -> str:
    """An application number no other call in this process returns (canonical form, ``CN….d``)."""
    return application_number(filed, patent_type, next(_SERIALS))
