"""Model `.h5` files: written so that Keras 2 (tf-keras) reads them too, and read through one gate that turns
every bad file into one line naming the file and the problem.

Keras 3 and tf-keras 2 write different model configs (`batch_shape` or `batch_input_shape`, dtype policy dicts
or names, call arguments or node lists) over the same weight layout. Keras 3 also reads Keras 2's config, so a
model with no nested model is saved in Keras 2's form and both read the file as it is. A nested model (the
conditional pair's trunk) is where they part: Keras 2 counts the trunk's own first node and Keras 3 does not,
so no one file serves both; `facegan export --keras2` writes tf-keras its own copy.
"""
import json
import logging
import os
import shutil
import tempfile
import zipfile

import h5py
import keras

from facegan import FaceganError
from facegan.gan.models import SUPPORTED_IMAGE_SIZES
from facegan.gan.prior import NOISE_DIM
from facegan.io.files import replaced_atomically

NESTED = ("Sequential", "Functional", "Model")
KERAS3_ONLY = ("quantization_config",)  # config keys that tf-keras' layers refuse


def float32_twin(model):
    """`model` itself, or, if it computes in a mixed precision (`train.py --precision bf16`), a float32 copy
    with its weights: the .h5 contract is float32 models, whatever precision trained them."""
    config = model.get_config()
    if '"mixed_' not in json.dumps(config):
        return model

    def to_float32(node):
        if isinstance(node, dict):
            if node.get("class_name") == "DTypePolicy":
                return {**node, "config": {**node["config"], "name": "float32"}}
            return {key: to_float32(value) for key, value in node.items()}
        return [to_float32(value) for value in node] if isinstance(node, list) else node
    twin = type(model).from_config(to_float32(config))
    twin.set_weights(model.get_weights())
    return twin


def save_model_h5(model, path):
    """A full-model .h5 without optimizer or compile settings, so plain Keras loads it with no custom objects;
    without a nested model, in the config form that tf-keras reads too."""
    absl_logger = logging.getLogger("absl")  # Keras logs "HDF5 is legacy" here; .h5 is our chosen contract
    level = absl_logger.level
    absl_logger.setLevel(logging.ERROR)
    try:
        float32_twin(model).save(path, include_optimizer=False)
    finally:
        absl_logger.setLevel(level)
    with h5py.File(path, "r+") as f:
        config = json.loads(f.attrs["model_config"])
        if not _nested_models(config):
            f.attrs["model_config"] = json.dumps(keras2_config(config))


def save_half_h5(source, out):
    """A copy of the model file `source` with its float32 weights stored as float16: half the bytes of the
    weights that every clone carries. The config is untouched, so the model still computes in float32: Keras 3
    and tf-keras cast each weight as they load it (a generator's pixels move by at most ~0.002 of their range)."""
    def copy(source_group, out_group):
        out_group.attrs.update(source_group.attrs)
        for name, item in source_group.items():
            if isinstance(item, h5py.Group):
                copy(item, out_group.create_group(name))
            else:
                data = item[()]
                out_group.create_dataset(name, data=data.astype("float16") if data.dtype == "float32" else data)
                out_group[name].attrs.update(item.attrs)
    with replaced_atomically(out) as temporary, h5py.File(source, "r") as read, h5py.File(temporary, "w") as write:
        copy(read, write)


def export_keras2(source, out):
    """Writes a copy of the model in `source` that tf-keras 2 loads: the same weights, the config in Keras 2's
    form. Returns the checked model (as Keras 3 reads `source`)."""
    model = load_model_h5(source, kind="generator")
    with h5py.File(source, "r") as f:
        config = json.loads(f.attrs["model_config"])
    shutil.copyfile(source, out + ".tmp")
    with h5py.File(out + ".tmp", "r+") as f:
        f.attrs["model_config"] = json.dumps(keras2_config(config, _nested_models(config)))
    os.replace(out + ".tmp", out)
    return model


def _nested_models(config):
    return {layer["config"]["name"] for layer in config["config"].get("layers", []) if layer["class_name"] in NESTED}


def _layer_classes(config):
    for layer in config.get("config", {}).get("layers", []):
        yield layer["class_name"]
        yield from _layer_classes(layer)


def keras2_config(node, nested=frozenset()):
    """A Keras 3 model config as tf-keras writes it. `nested`: names of nested models, whose outputs Keras 2
    numbers from 1."""
    if isinstance(node, list):
        return [keras2_config(value, nested) for value in node]
    if not isinstance(node, dict):
        return node
    if node.get("class_name") == "DTypePolicy":
        return node["config"]["name"]
    if node.get("class_name") == "__keras_tensor__":
        name, index, tensor = node["config"]["keras_history"]
        return [name, index + (name in nested), tensor, {}]
    converted = {}
    for key, value in node.items():
        if key in KERAS3_ONLY:
            continue
        if key == "inbound_nodes":  # Keras 3: the call's arguments; Keras 2: a flat list of tensors per call
            value = [[tensor for argument in keras2_config(call["args"], nested)
                      for tensor in (argument if argument and isinstance(argument[0], list) else [argument])]
                     for call in value]
        elif key in ("input_layers", "output_layers"):
            value = [[name, index + (name in nested), tensor]
                     for name, index, tensor in (value if isinstance(value[0], list) else [value])]
        else:
            value = keras2_config(value, nested)
        converted["batch_input_shape" if key == "batch_shape" else key] = value
    return converted


def keras3_config(node, nested=frozenset()):
    """A tf-keras model config as Keras 3 reads it: what tf-keras adds to DCGAN's layers removed, and nested
    models' outputs numbered from 0."""
    if isinstance(node, list):
        if len(node) in (3, 4) and isinstance(node[0], str) and node[0] in nested and isinstance(node[1], int):
            return [node[0], node[1] - 1, *node[2:]]
        return [keras3_config(value, nested) for value in node]
    if not isinstance(node, dict):
        return node
    converted = {key: keras3_config(value, nested) for key, value in node.items()}
    layer = converted.get("config")
    if isinstance(layer, dict):
        if converted.get("class_name") == "Conv2DTranspose" and layer.get("groups") == 1:
            del layer["groups"]
        if converted.get("class_name") == "BatchNormalization" and isinstance(layer.get("axis"), list) \
                and len(layer["axis"]) == 1:
            layer["axis"] = layer["axis"][0]
    return converted


def _first_line(problem):
    lines = [line.strip() for line in str(problem).splitlines() if line.strip()]
    return (lines[0] if lines else type(problem).__name__)[:300]


def _read_config(path):
    """The model config and Keras version of an .h5, or a one-line FaceganError."""
    if os.path.isdir(path):
        raise FaceganError(f"{path}: a folder, not a model file")
    if not os.path.isfile(path):
        raise FaceganError(f"{path}: no such file")
    if not h5py.is_hdf5(path):
        raise FaceganError(f"{path}: not a Keras .h5 model (not an HDF5 file at all)")
    try:
        with h5py.File(path, "r") as f:
            raw, version = f.attrs.get("model_config"), f.attrs.get("keras_version", "")
            if raw is None:
                raise FaceganError(f"{path}: holds weights only, no model config (save it with model.save)")
            return json.loads(raw), str(version)
    except (OSError, ValueError, KeyError) as problem:
        raise FaceganError(f"{path}: a damaged or truncated .h5 ({_first_line(problem)})") from None


def _refuse_code(path, config):
    """Models that would run code from the file are refused before Keras sees them (its safe mode stays on
    behind this)."""
    for name in _layer_classes(config):
        if name == "Lambda":
            raise FaceganError(f"{path}: holds a Lambda layer (Python code), which facegan never runs")
        if name not in NESTED and not hasattr(keras.layers, name):
            raise FaceganError(f"{path}: holds a layer Keras does not have, {name!r} (custom layers are not loaded)")


def _keras2_form(config, version):
    """Whether Keras 3 needs the config converted: tf-keras wrote it, or `export --keras2` (node lists)."""
    return version.startswith("2.") or any(isinstance(node, list) for layer in config["config"].get("layers", [])
                                           for node in layer.get("inbound_nodes", []))


def _keras_load(path, shown=None):
    try:
        return keras.models.load_model(path, compile=False, safe_mode=True)
    except Exception as problem:  # noqa: BLE001 (the boundary of a user's file: any failure is theirs)
        raise FaceganError(f"{shown or path}: Keras cannot load it ({_first_line(problem)})") from None


def model_profile(model):
    """What a model is, by its shapes: {kind, conditional, noise, image_size, shapes}. kind: generator (noise ->
    image), discriminator (image -> 1 number), encoder (image -> numbers) or None."""
    try:
        inputs = [tuple(tensor.shape[1:]) for tensor in model.inputs]
        output = tuple(model.outputs[0].shape[1:])
    except (AttributeError, ValueError):
        return {"kind": None, "conditional": False, "noise": None, "image_size": None, "shapes": "no known shapes"}
    found = {"kind": None, "conditional": len(inputs) == 2, "noise": None, "image_size": None,
             "shapes": f"{' and '.join(map(str, inputs))} -> {output}"}
    if len(inputs[0]) == 1 and len(output) == 3 and output[-1] == 3:
        return {**found, "kind": "generator", "noise": inputs[0][0], "image_size": output[0]}
    if len(inputs[0]) == 3 and inputs[0][-1] == 3 and len(output) == 1:
        return {**found, "kind": "discriminator" if output == (1,) else "encoder", "image_size": inputs[0][0]}
    return found


WHAT = {"generator": "a generator (noise -> image)", "discriminator": "a discriminator (image -> 1 number)",
        "encoder": "an encoder (image -> numbers)"}


def load_model_h5(path, kind=None, conditional=None, image_size=None):
    """The model in `path` (Keras 3's .h5 or .keras, or tf-keras' .h5), checked against what the caller needs:
    its `kind` (see `model_profile`), whether it is age-`conditional`, its `image_size`; a generator also takes
    NOISE_DIM noise. Any bad file, whatever is wrong with it, is a one-line FaceganError naming the file."""
    if os.path.isfile(path) and zipfile.is_zipfile(path):
        model = _keras_load(path)
    else:
        config, version = _read_config(path)
        _refuse_code(path, config)
        if _keras2_form(config, version):
            with tempfile.TemporaryDirectory() as folder:
                copy = os.path.join(folder, "keras3.h5")
                shutil.copyfile(path, copy)
                with h5py.File(copy, "r+") as f:
                    f.attrs["model_config"] = json.dumps(keras3_config(config, _nested_models(config)))
                model = _keras_load(copy, shown=path)
        else:
            model = _keras_load(path)
    _check(path, model_profile(model), kind, conditional, image_size)
    return model


def _check(path, found, kind, conditional, image_size):
    if kind is not None and found["kind"] != kind:
        what = WHAT.get(found["kind"], f"a model of {found['shapes']}, not a DCGAN one")
        raise FaceganError(f"{path}: {what}, where {WHAT[kind]} is needed")
    if found["kind"] == "generator" and found["noise"] != NOISE_DIM:
        raise FaceganError(f"{path}: the generator takes {found['noise']} noise numbers; facegan's take {NOISE_DIM}")
    if conditional is not None and found["conditional"] != conditional:
        raise FaceganError(f"{path} is age-conditional (inputs: noise and age group): this needs a plain model, "
                           "trained without --conditional" if found["conditional"] else
                           f"{path} is not age-conditional: this needs a model trained with "
                           "`train.py --conditional`")
    size = found["image_size"]
    if found["kind"] is not None and (size not in SUPPORTED_IMAGE_SIZES or image_size not in (None, size)):
        needed = " or ".join(f"{s}x{s}" for s in ([image_size] if image_size else SUPPORTED_IMAGE_SIZES))
        raise FaceganError(f"{path}: made for {size}x{size} images; this needs {needed}")
