"""Loading ONNX files that ship inside installed packages, in the form onnxruntime runs best.

Some exported graphs list every weight among the graph's inputs as well as among its
initializers. onnxruntime must then treat each weight as something a caller could replace, so
it can neither fold constants nor fuse batch norms into convolutions; and an input that no
node reads (a quantized graph's left-over float weights) is still demanded of the caller.
`without_weight_inputs` keeps only the real inputs.

onnxruntime's CPU PRelu with a per-channel slope is a slow broadcasting loop: in SFace it took
two thirds of the time, far more than the convolutions. `prelu_as_depthwise` spells it with
two 1 x 1 depthwise convolutions, which onnxruntime fuses with the activation and the sum and
runs in its blocked (NCHWc) layout like the network's own convolutions.
"""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt


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


def prelu_as_depthwise(model: Any) -> Any:
    """`model` (changed in place) with each PRelu(x, slope) as x + (1 - slope) * Relu(-x).

    For x > 0 that is x exactly; for x <= 0 it is x + (1 - slope) * -x, slope * x to within
    a float rounding or two. Each term is a 1 x 1 depthwise convolution: Relu(-x) one with
    weight -1 and the Relu fused in, then (1 - slope) times it one with the sum fused in.
    On x86 onnxruntime runs them in the blocked layout of the convolutions around them; as
    four element-wise operators (Relu(x) + Min(x, 0) * slope, the same bits) each PRelu also
    cost three layout conversions: SFace took 11.4 ms a face that way against 8.4 now, on
    one core. Without the blocked layout (onnxruntime's extended level) the two forms cost
    the same (20.5 against 19.6 ms).
    """
    from onnx import helper, numpy_helper

    weights = {init.name: init for init in model.graph.initializer}
    nodes = []
    replaced = set()
    for node in model.graph.node:
        slope = _channel_slope(node, weights)
        if slope is None:
            nodes.append(node)
            continue
        x, slope_name = node.input
        replaced.add(slope_name)
        (y,) = node.output
        channels = slope.size
        negate, keep = f"{y}_negate_weight", f"{y}_keep_weight"
        model.graph.initializer.extend(
            [
                numpy_helper.from_array(np.full((channels, 1, 1, 1), -1, np.float32), negate),
                numpy_helper.from_array((1 - slope).reshape(channels, 1, 1, 1), keep),
            ]
        )
        depthwise: dict[str, Any] = {"group": channels, "kernel_shape": [1, 1]}
        nodes += [
            helper.make_node("Conv", [x, negate], [f"{y}_negated"], **depthwise),
            helper.make_node("Relu", [f"{y}_negated"], [f"{y}_negative_part"]),
            helper.make_node(
                "Conv", [f"{y}_negative_part", keep], [f"{y}_correction"], **depthwise
            ),
            helper.make_node("Add", [x, f"{y}_correction"], [y]),
        ]
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    unread = replaced - {name for node in nodes for name in node.input}
    for init in [init for init in model.graph.initializer if init.name in unread]:
        model.graph.initializer.remove(init)  # the slopes replaced
    return model


def _channel_slope(node: Any, weights: dict[str, Any]) -> npt.NDArray[np.float32] | None:
    """The slopes of a PRelu with one constant slope per channel (shape C x 1 x 1, C > 1),
    else None: a PRelu of another form is left as it is."""
    from onnx import numpy_helper

    if node.op_type != "PRelu" or len(node.input) != 2 or node.input[1] not in weights:
        return None
    slope = numpy_helper.to_array(weights[node.input[1]])
    shape = list(slope.shape)
    while len(shape) > 3 and shape[0] == 1:
        shape.pop(0)
    if len(shape) != 3 or shape[1:] != [1, 1] or shape[0] < 2:
        return None
    return np.asarray(slope, dtype=np.float32).reshape(-1)
