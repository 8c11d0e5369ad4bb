"""Loading ONNX files that ship inside installed packages, in the form onnxruntime runs best.

Some exported graphs list every weight among the graph's inputs as well as among its
initializers. onnxruntime must then treat each weight as something a caller could replace, so
it can neither fold constants nor fuse batch norms into convolutions; and an input that no
node reads (a quantized graph's left-over float weights) is still demanded of the caller.
`without_weight_inputs` keeps only the real inputs.

onnxruntime's CPU PRelu with a per-channel slope is a slow broadcasting loop: in SFace it took
two thirds of the time, far more than the convolutions. `prelu_as_elementwise` spells it with
four fast element-wise operators that give the same bits.
"""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path
from typing import Any


class ModelFileError(RuntimeError):
    """A model file that ships in a package is missing, damaged or not the expected one."""


def package_file(package: str, name: str, sha256: str) -> Path:
    """The path of `name` inside the installed `package`, checked against `sha256`.

    Raises ModelFileError naming the package to reinstall when the file is missing or its
    digest differs (a truncated download, a different release).
    """
    try:
        path = Path(str(resources.files(package).joinpath(name)))
    except ModuleNotFoundError as err:
        raise ModelFileError(
            f"the package {package!r} is not installed; install the server extra "
            f"(pip install 'magic-hour-face-detection[server]')"
        ) from err
    try:
        data = path.read_bytes()
    except OSError as err:
        raise ModelFileError(
            f"{name} is missing from the {package!r} package; reinstall it "
            f"(pip install --force-reinstall {package})"
        ) from err
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        raise ModelFileError(
            f"{name} in the {package!r} package is not the expected file (sha256 {digest[:12]}…, "
            f"expected {sha256[:12]}…); reinstall it (pip install --force-reinstall {package})"
        )
    return path


def without_weight_inputs(model: Any) -> Any:
    """`model` (an onnx ModelProto, changed in place) with only its real inputs: those that a
    node reads and that are neither an initializer nor a node's output; and without the
    initializers that no node reads."""
    weights = {init.name for init in model.graph.initializer}
    weights.update(name for node in model.graph.node for name in node.output)
    read = {name for node in model.graph.node for name in node.input}
    inputs = [v for v in model.graph.input if v.name in read and v.name not in weights]
    del model.graph.input[:]
    model.graph.input.extend(inputs)
    unused = [init for init in model.graph.initializer if init.name not in read]
    for init in unused:  # e.g. batch norms' num_batches_tracked: onnxruntime warns of each
        model.graph.initializer.remove(init)
    return model


def set_batch_dynamic(model: Any, names: set[str]) -> Any:
    """Name the first dimension of the inputs and outputs in `names` (changed in place)."""
    for value in [*model.graph.input, *model.graph.output]:
        if value.name in names:
            value.type.tensor_type.shape.dim[0].dim_param = "batch"
    return model


def prelu_as_elementwise(model: Any) -> Any:
    """`model` (changed in place) with each PRelu(x, slope) as Relu(x) + Min(x, 0) * slope.

    Exact: for x > 0 it adds x and 0, for x <= 0 it adds 0 and slope * x, as PRelu does.
    """
    from onnx import helper, numpy_helper

    zero = "prelu_zero"
    nodes = []
    for node in model.graph.node:
        if node.op_type != "PRelu":
            nodes.append(node)
            continue
        x, slope = node.input
        (y,) = node.output
        nodes += [
            helper.make_node("Relu", [x], [f"{y}_positive"]),
            helper.make_node("Min", [x, zero], [f"{y}_negative_x"]),
            helper.make_node("Mul", [f"{y}_negative_x", slope], [f"{y}_negative"]),
            helper.make_node("Add", [f"{y}_positive", f"{y}_negative"], [y]),
        ]
    if len(nodes) != len(model.graph.node):
        import numpy as np

        model.graph.initializer.append(numpy_helper.from_array(np.zeros(1, np.float32), zero))
        del model.graph.node[:]
        model.graph.node.extend(nodes)
    return model
