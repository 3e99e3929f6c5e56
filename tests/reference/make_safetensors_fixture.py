"""Writes tests/reference/fixtures/safetensors_reference.safetensors with the official `safetensors`
package (pip install safetensors numpy), so the C++ reader is tested against files the ecosystem
writes, not only against its own writer. Values are simple formulas the C++ test recomputes."""
import numpy as np
from safetensors.numpy import save_file

tensors = {
    "weights/f32": (np.arange(24, dtype=np.float32).reshape(2, 3, 4) * 0.5 - 3.0),
    "weights/f64": np.linspace(-1.0, 1.0, 5, dtype=np.float64),
    "labels/i32": np.array([[7, -2], [0, 123456]], dtype=np.int32),
    "pixels/u8": np.arange(6, dtype=np.uint8).reshape(1, 6) * 40,
    "empty": np.zeros((0, 3), dtype=np.float32),
}
save_file(tensors, "fixtures/safetensors_reference.safetensors", metadata={"producer": "safetensors.numpy", "step": "42"})
