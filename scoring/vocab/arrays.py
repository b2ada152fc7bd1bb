"""Numpy arrays named by what their elements are, for the signatures of scoring and training.

A feature matrix is a ``FloatArray`` of rows × features (a contributions matrix has
one more column, the expected value).  Dates are ``datetime64[D]`` unless a
signature says otherwise; NaT marks a missing date.  Labels and ids read from a
table are Python objects (``str``, or ``None`` where missing).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
IndexArray = NDArray[np.intp]  # row positions, or codes into a vocabulary
DateArray = NDArray[np.datetime64]
ObjectArray = NDArray[np.object_]
AnyArray = NDArray[Any]  # a table column of any dtype, as a frame hands it out
