"""A software prefetch for numba kernels: ``prefetch(array, byte_offset)`` compiles to one ``prefetcht0``.

A single row reads every tree's nodes and leaf tables once.  When other work
has evicted them, each tree waits on memory line by line, since the
hardware prefetcher cannot guess the jumps between one tree's arrays and
the next tree's.  Asking for the next tree's lines while the current one
is computed overlaps those waits.  A prefetch is only a hint: it never
faults and changes no value.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import numpy as np
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic


@intrinsic
def _prefetch(typingctx: Any, array: Any, offset: Any) -> Any:  # noqa: ARG001 - numba's intrinsic signature
    """Prefetch the cache line at ``offset`` bytes from the start of ``array`` (any offset; nothing is read)."""
    sig = types.void(array, offset)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        data = context.make_array(signature.args[0])(context, builder, args[0]).data
        # numba's cgutils is untyped (a third-party gap)
        addr = cgutils.pointer_add(builder, data, args[1], return_type=cgutils.voidptr_t)  # type: ignore[no-untyped-call]
        i32 = ir.IntType(32)
        # LLVM names the intrinsic by its pointer type: ``ptr`` (opaque pointers, llvmlite >= 0.45) or ``i8*``
        name = "llvm.prefetch.p0" if str(addr.type) == "ptr" else "llvm.prefetch.p0i8"
        fnty = ir.FunctionType(ir.VoidType(), [addr.type, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, name)  # type: ignore[no-untyped-call]  # as above
        builder.call(fn, [addr, i32(0), i32(3), i32(1)])  # read, keep in all cache levels, data cache
        return context.get_dummy_value()

    return sig, codegen


# What kernels see (numba's intrinsic object is typed by its compile-time signature, not its call).
prefetch = cast(Callable[[np.ndarray, int], None], _prefetch)
