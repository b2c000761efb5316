"""Resource limits of the wasi-nn backend: safe defaults, all configurable.

A guest that goes past a limit gets an errno (too_large; invalid_argument for a builder count),
never an exception the host cannot report.
"""

from __future__ import annotations

from dataclasses import dataclass

GiB = 1 << 30
MiB = 1 << 20


@dataclass
class Limits:
    """Per-backend limits; each count is of live handles (no wasi-nn call drops one, so for a
    guest that means handles created so far; `drop_graph`/`drop_context` release them)."""

    #: Live graph handles (`load` and `load_by_name` each make one).
    max_graphs: int = 64
    #: Live execution contexts.
    max_contexts: int = 256
    #: Bytes of all models held at once: builder bytes of each `load`, file sizes of each
    #: `register_dir` model once compiled. A model shared by several graph handles counts once.
    max_model_bytes: int = 2 * GiB
    #: Bytes of one output tensor that `get_output` will hand out.
    max_output_bytes: int = 512 * MiB
    #: Builders in one `load` call; more is invalid_argument, checked before any byte is read.
    max_builders: int = 16
    #: Bytes of one input tensor (`set_input`).
    max_input_bytes: int = 2 * GiB
    #: Bytes of any one tensor a model computes (an operation's output, intermediate or not),
    #: checked at load from the shapes the model declares: a static shape, or the lower bounds
    #: of a dynamic one, past this is too_large before OpenVINO compiles (constant folding) or
    #: allocates it. Constants are not counted (their bytes are the model's own). Shapes that
    #: depend on input values cannot be checked.
    max_tensor_bytes: int = 1 * GiB

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"Limits.{name} must be a non-negative int, got {value!r}")
