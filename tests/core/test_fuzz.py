"""Fuzzing the real CLI entry point (#20): broken and odd images, checkpoints, ONNX metadata and option values.

Every input goes through `gan_app.apps.cli.main` in-process, as `gan-app ...` would run it. The
contract checked for each: exit 0 with a right output, or exit 2 with exactly one `error:` line on
stderr, no traceback, and nothing written (no output, no hidden `.part` file). Python warnings are
shown on stderr as the console script would show them, so a stray library warning breaks the
one-line rule here too. Hypothesis keeps each property to a few dozen small examples.
"""

from __future__ import annotations

import runpy
import contextlib
import io
import json
import os
import struct
import sys
import tempfile
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, note, settings, strategies as st
from hypothesis.configuration import set_hypothesis_home_dir
from PIL import Image, ImageOps

from gan_app.paths import shipped_model
from gan_app.runtime.metadata import FORMAT_VERSION

pytestmark = pytest.mark.skipif(not shipped_model("deblur").is_file(), reason="no shipped deblur weights")
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "gan-app-hypothesis")   # its caches: not .hypothesis/ in the repo


# tests/core/console.py by path (tests are not a package): the in-process `gan-app` runner
_console = runpy.run_path(str(Path(__file__).with_name("console.py")))
cli, Outcome = _console["cli"], _console["Outcome"]



def fuzz(examples: int) -> settings:
    """`examples` examples (times $FUZZ_SCALE, for a longer hunt), no deadline (the CLI loads a model each time),
    no example database written to disk."""
    return settings(max_examples=examples * int(os.environ.get("FUZZ_SCALE", "1")), deadline=None, database=None,
                    print_blob=True, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


# --- running the CLI in-process ------------------------------------------------------------








def shown(text: str) -> list[str]:
    """The lines a terminal shows of `text`: a progress bar redrawn with carriage returns and then cleared
    (a video's frame counter on stderr) leaves nothing."""
    return [line.rsplit("\r", 1)[-1] for line in text.split("\n") if line.rsplit("\r", 1)[-1].strip()]


def assert_refused(result: Outcome) -> str:
    """Exit 2, one `error:` line on stderr, no traceback; returns the message."""
    lines = shown(result.err)
    assert result.code == 2 and len(lines) == 1 and lines[0].startswith("error: "), result
    assert "Traceback" not in result.out
    return lines[0]


def assert_clean(result: Outcome) -> None:
    """Exit 0, or a refusal in one `error:` line: ours, or click's parse error for a value of the wrong
    type said the same way (`error: --tile: ...; run gan-app deblur --help`, exit 2); never a traceback."""
    assert "Traceback" not in result.err + result.out, result
    if result.code != 0:
        assert_refused(result)


def assert_nothing_written(root: Path, *outputs: Path, inputs: tuple[Path, ...] = ()) -> None:
    """No output at any of `outputs` (a folder: none or empty), no hidden or `.part` file under `root`."""
    for out in outputs:
        assert not out.exists() or (out.is_dir() and not any(out.iterdir())), sorted(out.rglob("*"))
    stray = [p for p in root.rglob("*") if p not in inputs and (p.name.startswith(".") or p.name.endswith(".part"))]
    assert stray == []


@contextlib.contextmanager
def example_dir(tmp_path: Path):
    """A fresh folder per Hypothesis example (tmp_path is shared by all examples of one test)."""
    with tempfile.TemporaryDirectory(dir=tmp_path) as folder:
        yield Path(folder)


# --- images ------------------------------------------------------------------------------

MODES = {   # mode -> formats Pillow writes it to
    "L": ("PNG", "JPEG", "TIFF", "GIF", "BMP", "WEBP"),
    "LA": ("PNG", "TIFF"),
    "RGB": ("PNG", "JPEG", "TIFF", "GIF", "BMP", "WEBP"),
    "RGBA": ("PNG", "TIFF", "WEBP"),
    "P": ("PNG", "GIF", "BMP", "TIFF"),
    "PA": ("PNG",),           # palette + transparency
    "I;16": ("PNG", "TIFF"),
    "1": ("PNG", "TIFF", "BMP", "GIF"),
    "CMYK": ("JPEG", "TIFF"),
}
SUFFIX = {"PNG": ".png", "JPEG": ".jpg", "TIFF": ".tif", "GIF": ".gif", "BMP": ".bmp", "WEBP": ".webp"}
EXIF_FORMATS = ("PNG", "JPEG", "TIFF", "WEBP")
READABLE_MODES = ("1", "L", "LA", "La", "P", "PA", "RGB", "RGBA", "RGBa", "RGBX", "CMYK", "YCbCr", "I;16", "I;16L",
                  "I;16B", "I;16N", "I")


def _pillow_image(mode: str, width: int, height: int, seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    if mode == "I;16":
        return Image.fromarray(rng.integers(0, 65536, (height, width), dtype=np.uint16))
    if mode in ("P", "PA"):
        image = Image.fromarray(rng.integers(0, 256, (height, width), dtype=np.uint8), "L").convert("P")
        image.putpalette(rng.integers(0, 256, 768, dtype=np.uint8).tobytes())
        if mode == "PA":
            image.info["transparency"] = 0
        return image
    if mode == "1":
        return Image.fromarray(rng.random((height, width)) > 0.5)
    bands = len(mode)
    array = rng.integers(0, 256, (height, width, bands), dtype=np.uint8)
    return Image.frombytes(mode, (width, height), array.tobytes())


@st.composite
def valid_images(draw) -> tuple[bytes, str]:
    """(file bytes, format) of a small still image in one of MODES, maybe with an EXIF orientation."""
    mode = draw(st.sampled_from(sorted(MODES)))
    fmt = draw(st.sampled_from(MODES[mode]))
    width, height = draw(st.integers(4, 48)), draw(st.integers(4, 48))
    image = _pillow_image(mode, width, height, draw(st.integers(0, 2**16)))
    options = {"transparency": 0} if mode == "PA" else {}
    if fmt in EXIF_FORMATS and draw(st.booleans()):
        exif = Image.Exif()
        exif[0x0112] = draw(st.integers(1, 8))
        options["exif"] = exif.tobytes()
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue(), fmt


def displayed_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of `data` after EXIF orientation if Pillow decodes it to one still image the CLI takes
    (>= 4 px a side, a mode it reads), else None: the oracle for whether a mangled file must be refused."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            image = Image.open(io.BytesIO(data))
            if getattr(image, "n_frames", 1) != 1 or image.mode not in READABLE_MODES:
                return None
            image.load()
            upright = ImageOps.exif_transpose(image)
            if min(upright.size) < 4:
                return None
            if image.mode == "I" and (image.getextrema()[0] < 0 or image.getextrema()[1] > 65535):
                return None
            return upright.size
    except Exception:
        return None


def deblur_file(monkeypatch, capsys, folder: Path, data: bytes, suffix: str, *options) -> tuple[Outcome, Path, Path]:
    src = folder / f"input{suffix}"
    src.write_bytes(data)
    out_dir = folder / "out"
    out = out_dir / f"result{suffix}"
    return cli(monkeypatch, capsys, "deblur", src, "-o", out, *options), src, out


def check_outcome(result: Outcome, folder: Path, src: Path, out: Path, expected: tuple[int, int] | None) -> None:
    """`expected` None: refused with nothing written; else exit 0 and an output of that (width, height)."""
    if expected is None:
        assert_refused(result)
        assert_nothing_written(folder, out.parent, inputs=(src,))
        return
    assert result.code == 0 and result.err == "", result
    assert result.out.strip() == str(out)
    with Image.open(out) as written:
        assert written.size == expected
    assert sorted(p.name for p in out.parent.iterdir()) == [out.name]   # no stray temp file


@fuzz(60)
@given(image=valid_images())
def test_valid_images_of_any_mode_and_orientation_come_out_at_their_displayed_size(monkeypatch, capsys, tmp_path, image):
    data, fmt = image
    with example_dir(tmp_path) as folder:
        result, src, out = deblur_file(monkeypatch, capsys, folder, data, SUFFIX[fmt])
        check_outcome(result, folder, src, out, displayed_size(data))
        assert displayed_size(data) is not None    # the generator made a valid image: it must have worked


@fuzz(30)
@given(image=valid_images(), cut=st.floats(0, 1, exclude_max=True))
def test_truncated_images_are_refused_unless_complete_enough_to_decode(monkeypatch, capsys, tmp_path, image, cut):
    data, fmt = image
    data = data[:int(cut * len(data))]
    with example_dir(tmp_path) as folder:
        result, src, out = deblur_file(monkeypatch, capsys, folder, data, SUFFIX[fmt])
        check_outcome(result, folder, src, out, displayed_size(data))


MAGIC = {   # a real signature, a near miss, and the suffix the file gets
    "png": (b"\x89PNG\r\n\x1a\n", b"\x89PNG\r\n\x1a\x0b", ".png"),
    "jpeg": (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", b"\xff\xd8\xfe", ".jpg"),
    "tiff-le": (b"II*\x00", b"II+\x00", ".tif"),
    "tiff-be": (b"MM\x00*", b"MM*\x00", ".tiff"),
    "gif": (b"GIF89a", b"GIF88a", ".gif"),
    "gif87": (b"GIF87a", b"GIF8", ".gif"),
    "bmp": (b"BM", b"BN", ".bmp"),
    "webp": (b"RIFF\x00\x00\x00\x00WEBPVP8 ", b"RIFF\x00\x00\x00\x00WEBQ", ".webp"),
}


@fuzz(40)
@given(kind=st.sampled_from(sorted(MAGIC)), real=st.booleans(), tail=st.binary(max_size=300),
       wrong_suffix=st.booleans())
def test_random_bytes_behind_an_image_signature_are_refused(monkeypatch, capsys, tmp_path, kind, real, tail, wrong_suffix):
    good, near, suffix = MAGIC[kind]
    data = (good if real else near) + tail
    with example_dir(tmp_path) as folder:
        result, src, out = deblur_file(monkeypatch, capsys, folder, data, ".png" if wrong_suffix else suffix)
        check_outcome(result, folder, src, out, displayed_size(data))


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def png_declaring(width: int, height: int, depth: int = 8, colour: int = 0, idat: bytes = b"") -> bytes:
    """A PNG whose IHDR (with a correct CRC) declares `width` x `height`, followed by `idat` and IEND."""
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


PNG_DEPTHS = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}   # colour type -> bit depths


@fuzz(40)
@given(width=st.integers(1, 2**31 - 1), height=st.integers(1, 2**31 - 1),
       colour=st.sampled_from(sorted(PNG_DEPTHS)), depth_index=st.integers(0, 4),
       idat=st.one_of(st.binary(max_size=40), st.builds(zlib.compress, st.binary(max_size=400))),
       max_pixels=st.one_of(st.none(), st.integers(1, 10**7)))
def test_png_headers_declaring_huge_sizes_are_refused_before_decoding(monkeypatch, capsys, tmp_path, width, height,
                                                                      colour, depth_index, idat, max_pixels):
    height = min(2**31 - 1, max(height, (max_pixels or 64_000_000) // width + 1))   # over the budget
    depths = PNG_DEPTHS[colour]
    data = png_declaring(width, height, depths[depth_index % len(depths)], colour, idat)
    with example_dir(tmp_path) as folder:
        options = () if max_pixels is None else ("--max-pixels", max_pixels)
        result, src, out = deblur_file(monkeypatch, capsys, folder, data, ".png", *options)
        message = assert_refused(result)
        assert "over --max-pixels" in message
        assert_nothing_written(folder, out.parent, inputs=(src,))


def _patched(data: bytes, at: int, fmt: str, *values: int) -> bytes:
    packed = struct.pack(fmt, *values)
    return data[:at] + packed + data[at + len(packed):]


@fuzz(12)
@given(fmt=st.sampled_from(["JPEG", "GIF"]), side=st.integers(8001, 65535))
def test_jpeg_and_gif_headers_declaring_huge_sizes_are_refused(monkeypatch, capsys, tmp_path, fmt, side):
    buffer = io.BytesIO()
    _pillow_image("RGB", 16, 12, 0).save(buffer, format=fmt)
    data = buffer.getvalue()
    if fmt == "JPEG":   # SOF0: FFC0, length (2), precision (1), height (2), width (2)
        data = _patched(data, data.index(b"\xff\xc0") + 5, ">HH", side, side)
    else:               # the logical screen, then the image descriptor (0x2C, left, top, width, height)
        data = _patched(data, 6, "<HH", side, side)
        data = _patched(data, data.index(b"\x2c\x00\x00\x00\x00") + 5, "<HH", side, side)
    with example_dir(tmp_path) as folder:
        result, src, out = deblur_file(monkeypatch, capsys, folder, data, SUFFIX[fmt])
        assert "over --max-pixels" in assert_refused(result)
        assert_nothing_written(folder, out.parent, inputs=(src,))


@fuzz(12)
@given(fmt=st.sampled_from(["GIF", "PNG", "TIFF", "WEBP"]), frames=st.integers(2, 4), side=st.integers(4, 32))
def test_animations_and_multi_page_files_are_refused_not_cut_to_one_frame(monkeypatch, capsys, tmp_path, fmt, frames, side):
    images = [_pillow_image("RGB", side, side, seed) for seed in range(frames)]
    buffer = io.BytesIO()
    images[0].save(buffer, format=fmt, save_all=True, append_images=images[1:])   # PNG: APNG
    with example_dir(tmp_path) as folder:
        result, src, out = deblur_file(monkeypatch, capsys, folder, buffer.getvalue(), SUFFIX[fmt])
        assert f"has {frames} frames" in assert_refused(result)
        assert_nothing_written(folder, out.parent, inputs=(src,))


# --- checkpoints ---------------------------------------------------------------------------


class Quiet(tuple):
    """A fixture value Hypothesis prints in one word when it reports a failing example (not 20 kB of bytes)."""

    def __repr__(self) -> str:
        return "<fixture>"


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8)
_SOME = {"null": st.none(), "bool": st.booleans(), "int": st.integers(), "float": st.floats(), "str": st.text(max_size=8),
         "list": st.lists(JSON_VALUES, max_size=2), "dict": st.dictionaries(st.text(max_size=4), JSON_VALUES, max_size=2)}
OTHER_TYPES = {   # JSON type of a header value -> values of types a reader never takes in its place (an int is a float)
    kind: st.one_of(*(values for name, values in _SOME.items() if name not in takes))
    for kind, takes in ((bool, ("bool",)), (int, ("int",)), (float, ("int", "float")), (str, ("str",)),
                        (list, ("list",)), (dict, ("dict",)), (type(None), ("null", "bool", "int", "float", "str", "list")))
}


@pytest.fixture(scope="module")
def checkpoint_file(tmp_path_factory) -> tuple[bytes, dict]:
    """(file bytes, gan_app meta) of a real checkpoint of the deblur head's `tiny` model (untrained)."""
    import torch

    from gan_app import checkpoint as ckpt
    from gan_app.config import to_dict
    from gan_app.head import get_head

    head = get_head("deblur")
    run = head.recipe("tiny")
    torch.manual_seed(0)
    generator, _ = head.build(run.model)
    path = tmp_path_factory.mktemp("ckpt") / "good.safetensors"
    ckpt.save_checkpoint(path, ckpt.module_tensors("G", generator), {"head": "deblur", "run": to_dict(run), "step": 2})
    return Quiet((path.read_bytes(), ckpt.read_meta(path)))


def _split(data: bytes) -> tuple[dict, bytes]:
    """(JSON header, tensor bytes) of a safetensors file."""
    (length,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8:8 + length]), data[8 + length:]


def _join(header: dict | bytes, body: bytes, length: int | None = None) -> bytes:
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    return struct.pack("<Q", len(raw) if length is None else length) + raw + body


def _paths(node, prefix=()) -> list[tuple]:
    """Every key path into a JSON object (dicts only)."""
    found = []
    for key, value in node.items():
        found.append(prefix + (key,))
        if isinstance(value, dict):
            found += _paths(value, prefix + (key,))
    return found


@st.composite
def broken_checkpoints(draw, good: tuple[bytes, dict]) -> bytes:
    """A safetensors file broken one way: bytes cut off, a garbled or random header, a length field that
    lies, a tensor table that does not fit the bytes, or a `gan_app` entry that is not JSON, not an object,
    or has a field of the wrong type."""
    data, meta = good
    header, body = _split(data)
    how = draw(st.sampled_from(["cut", "garble", "random header", "length", "table", "entry", "field"]))
    note(f"broken by: {how}")
    if how == "cut":
        return data[:draw(st.integers(0, len(data) - 1))]
    if how == "garble":   # the JSON cut short and followed by junk, the length field telling the truth
        raw = json.dumps(header).encode()
        raw = raw[:draw(st.integers(0, len(raw) - 1))] + draw(st.binary(max_size=20))
        assume(not _is_json(raw))
        return _join(raw, body)
    if how == "random header":
        return _join(draw(st.binary(max_size=200) | st.builds(lambda v: json.dumps(v).encode(), JSON_VALUES)), body)
    if how == "length":
        length = draw(st.integers(0, 2**64 - 1))
        assume(length != len(json.dumps(header).encode()))
        return _join(header, body, length)
    if how == "table":
        name = draw(st.sampled_from(sorted(k for k in header if k != "__metadata__")))
        field = draw(st.sampled_from(["dtype", "shape", "data_offsets"]))
        entry = header[name]
        if field == "dtype":
            value = draw(st.text(max_size=6).filter(lambda t: t not in ("F32", "F16", "BF16", "F64", "I64", "I32",
                                                                          "I16", "I8", "U8", "BOOL")) | OTHER_TYPES[str])
        elif field == "shape":   # a shape whose element count is not the stored one
            count = int(np.prod(entry["shape"]))
            value = draw(st.lists(st.integers(0, 2**40), max_size=4).filter(lambda s: int(np.prod(s, dtype=object)) != count)
                         | OTHER_TYPES[list])
        else:
            begin, end = entry["data_offsets"]
            value = draw(st.tuples(st.integers(-5, len(body) * 2), st.integers(-5, len(body) * 2)).map(list)
                         .filter(lambda o: o[1] - o[0] != end - begin) | OTHER_TYPES[list])
        header = {**header, name: {**entry, field: value}}
        return _join(header, body)
    if how == "entry":   # the gan_app value: not JSON, or JSON that is not an object
        value = draw(st.text(max_size=30).filter(lambda t: not _is_json_object(t))
                     | st.builds(json.dumps, JSON_VALUES).filter(lambda t: not _is_json_object(t)))
        return _join({**header, "__metadata__": {"gan_app": value}}, body)
    # "field": one field of the gan_app entry given a value of another JSON type
    path = draw(st.sampled_from([p for p in _paths(meta) if p[0] in ("format_version", "head", "run", "step")]))
    node = json.loads(json.dumps(meta))
    parent = node
    for key in path[:-1]:
        parent = parent[key]
    original = parent[path[-1]]
    parent[path[-1]] = draw(OTHER_TYPES[type(original)])   # null (an unset Optional): an object, never a field value
    return _join({**header, "__metadata__": {"gan_app": json.dumps(node)}}, body)


def _is_json_object(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False


def _is_json(raw: bytes) -> bool:
    try:
        json.loads(raw)
        return True
    except ValueError:   # UnicodeDecodeError too
        return False


@fuzz(40)
@given(data=st.data())
def test_broken_checkpoints_are_refused_by_export_and_eval_writing_nothing(monkeypatch, capsys, tmp_path,
                                                                           checkpoint_file, data):
    broken = data.draw(broken_checkpoints(checkpoint_file), label="checkpoint")
    with example_dir(tmp_path) as folder:
        src = folder / "broken.safetensors"
        src.write_bytes(broken)
        onnx, metrics = folder / "export" / "model.onnx", folder / "metrics.json"
        assert_refused(cli(monkeypatch, capsys, "export", "deblur", "--checkpoint", src, "-o", onnx))
        assert_refused(cli(monkeypatch, capsys, "eval", "deblur", "--checkpoint", src, "-o", metrics))
        assert_nothing_written(folder, onnx.parent, metrics, inputs=(src,))
        assert sorted(p.name for p in folder.iterdir()) == ["broken.safetensors"]


# --- ONNX metadata -----------------------------------------------------------------------------

ODD_TEXT = st.sampled_from(["", " ", "null", "NaN", "-1", "0", "2", "1e999", "[]", "{}", '""', "1.0", " 1", "\u0661",
                            "true", "{\"inputs\": []}", "\x00", "\u202e", "9" * 400])


@pytest.fixture(scope="module")
def tiny_onnx(tmp_path_factory) -> Quiet:
    """(model bytes, metadata_props) of a tiny exported image-to-image model of the test head `tiny` (scale 1)."""
    import importlib.util

    name = "gan_app_test_tiny_models"   # shared with tests/core/runtime/conftest.py, which loads it the same way
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).parent / "runtime" / "tiny_models.py")
        sys.modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[name])
    path = tmp_path_factory.mktemp("onnx") / "tiny.onnx"
    sys.modules[name].export_tiny(path, "conv")
    import onnx

    return Quiet((path.read_bytes(), {p.key: p.value for p in onnx.load(str(path)).metadata_props}))


def _with_metadata(model: bytes, props: dict[str, str]) -> bytes:
    import onnx

    proto = onnx.load_from_string(model)
    del proto.metadata_props[:]
    for key, value in props.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    return proto.SerializeToString()


def _int_text(text: str) -> bool:
    try:
        int(text)
        return True
    except ValueError:
        return False


@st.composite
def broken_metadata(draw, props: dict[str, str]) -> dict[str, str]:
    """metadata_props the runtime must refuse: a required key gone, a format that is no whole number or is
    newer, a graph or model config that is not a JSON object, another head's name, or one graph field
    given a value of the wrong type or out of its range."""
    how = draw(st.sampled_from(["drop", "format", "json", "head", "graph field", "input field"]))
    note(f"broken by: {how}")
    props = dict(props)
    if how == "drop":
        del props[draw(st.sampled_from(["gan_app.format", "gan_app.head", "gan_app.version", "gan_app.model_config",
                                        "gan_app.graph"]))]
    elif how == "format":
        props["gan_app.format"] = draw((st.text(max_size=8) | ODD_TEXT).filter(lambda t: not _int_text(t))
                                       | st.integers(FORMAT_VERSION + 1, 10**30).map(str))
    elif how == "json":
        key = draw(st.sampled_from(["gan_app.graph", "gan_app.model_config"]))
        props[key] = draw((st.text(max_size=20) | ODD_TEXT | st.builds(json.dumps, JSON_VALUES))
                          .filter(lambda t: not _is_json_object(t)))
    elif how == "head":
        props["gan_app.head"] = draw((st.text(max_size=12) | ODD_TEXT).filter(lambda t: t != "tiny"))
    else:
        graph = json.loads(props["gan_app.graph"])
        node = graph if how == "graph field" else graph["inputs"][0]
        field, value = draw(st.sampled_from(BAD_GRAPH_VALUES if how == "graph field" else BAD_INPUT_VALUES))
        node[field] = draw(value)
        props["gan_app.graph"] = json.dumps(graph)
    return props


def _bad_shape(shape: list) -> bool:
    """Not an image input's shape for this 3-channel graph: 4 sizes, each an axis name or a whole number >= 1,
    the channels (when a number) 3."""
    sizes_ok = all(isinstance(d, str) or (type(d) is int and 1 <= d <= 1 << 20) for d in shape)
    return len(shape) != 4 or not sizes_ok or (type(shape[1]) is int and shape[1] != 3)


NOT_WHOLE_IN = lambda lo, hi: (st.integers().filter(lambda v: not lo <= v <= hi) | st.floats() | st.text(max_size=4)  # noqa: E731
                               | st.none() | st.booleans() | st.lists(st.integers(), max_size=2))
BAD_GRAPH_VALUES = [   # (field, values the runtime must refuse): it pads, scales and feeds by these
    ("value_range", st.lists(st.floats(), max_size=3).filter(lambda r: not (len(r) == 2 and all(map(np.isfinite, r))
                                                                            and r[0] < r[1])) | JSON_VALUES.filter(lambda v: not isinstance(v, list))),
    ("scale", NOT_WHOLE_IN(1, 16)),
    ("size_multiple", NOT_WHOLE_IN(1, 1024)),
    ("out_channels", NOT_WHOLE_IN(1, 4)),
    ("inputs", st.just([]) | JSON_VALUES.filter(lambda v: not isinstance(v, list))),
    ("extra", JSON_VALUES.filter(lambda v: not isinstance(v, dict))),
    ("output", JSON_VALUES.filter(lambda v: not isinstance(v, str))),
    ("bogus", JSON_VALUES),
]
BAD_INPUT_VALUES = [
    ("name", st.just("") | st.sampled_from(["img", "input", "z"]) | JSON_VALUES.filter(lambda v: not isinstance(v, str))),
    ("kind", JSON_VALUES.filter(lambda v: v != "image")),
    ("dtype", JSON_VALUES.filter(lambda v: v not in ("float32",))),
    ("shape", st.lists(st.integers() | st.text(max_size=2) | st.floats() | st.none(), max_size=6).filter(_bad_shape)
              | JSON_VALUES.filter(lambda v: not isinstance(v, list))),
]



def run_tiny(monkeypatch, capsys, folder: Path, model: bytes) -> tuple[Outcome, Path, tuple[Path, ...]]:
    src, path = folder / "photo.png", folder / "model.onnx"
    _pillow_image("RGB", 30, 22, 1).save(src)
    path.write_bytes(model)
    out = folder / "out" / "photo.png"
    return cli(monkeypatch, capsys, "run", "tiny", src, "--model", path, "-o", out), out, (src, path)


@fuzz(40)
@given(data=st.data())
def test_broken_onnx_metadata_is_refused_in_one_line(monkeypatch, capsys, tmp_path, tiny_onnx, data):
    model, props = tiny_onnx
    broken = data.draw(broken_metadata(props), label="metadata_props")
    with example_dir(tmp_path) as folder:
        result, out, inputs = run_tiny(monkeypatch, capsys, folder, _with_metadata(model, broken))
        assert_refused(result)
        assert_nothing_written(folder, out.parent, inputs=inputs)


@fuzz(40)
@given(key=st.sampled_from(["gan_app.format", "gan_app.head", "gan_app.version", "gan_app.model_config", "gan_app.graph",
                            "gan_app.source_sha256", "gan_app.precision"]) | st.text(max_size=10).map("gan_app.".__add__),
       value=st.text(max_size=40) | ODD_TEXT | st.builds(json.dumps, JSON_VALUES))
def test_any_odd_metadata_value_runs_right_or_is_refused_in_one_line(monkeypatch, capsys, tmp_path, tiny_onnx, key, value):
    model, props = tiny_onnx
    with example_dir(tmp_path) as folder:
        result, out, inputs = run_tiny(monkeypatch, capsys, folder, _with_metadata(model, {**props, key: value}))
        if result.code == 0:
            assert result.out.strip() == str(out) and Image.open(out).size == (30, 22), result
        else:
            assert_refused(result)
            assert_nothing_written(folder, out.parent, inputs=inputs)


# --- option values ---------------------------------------------------------------------------------

NUMBERS = (st.integers(-2**70, 2**70).map(str) | st.integers(-3, 40).map(str) | st.floats().map(repr)
           | st.floats(-5, 100).map(lambda v: f"{v:.3g}")
           | st.sampled_from(["nan", "inf", "-inf", "1e309", "-0", "0x10", "1_000", " 5", "\uff15", "1.5", "2.0", "",
                              "--help", "-1"]))
VALUES = NUMBERS | st.text(max_size=10).filter(lambda t: "\x00" not in t)


def assert_done_or_refused(result: Outcome, folder: Path, inputs: tuple[Path, ...], *outputs: Path) -> None:
    """Exit 0 with the outputs written, or a clean refusal that wrote none of them."""
    assert_clean(result)
    if result.code == 0:
        assert all(out.is_file() for out in outputs), result
    else:
        assert_nothing_written(folder, *outputs, inputs=inputs)
    stray = [p for p in folder.rglob("*") if p.name.endswith(".part") or p.name.startswith(".")]
    assert stray == []


@fuzz(60)
@given(option=st.sampled_from(["--tile", "--threads", "--max-pixels", "--blur-scale", "--crf", "--start", "--duration"]),
       value=VALUES)
def test_any_image_option_value_works_or_is_refused_in_one_line(monkeypatch, capsys, tmp_path, option, value):
    with example_dir(tmp_path) as folder:
        src, out = folder / "photo.png", folder / "out" / "photo.png"
        _pillow_image("RGB", 30, 22, 2).save(src)
        result = cli(monkeypatch, capsys, "deblur", src, "-o", out, f"{option}={value}")
        assert_done_or_refused(result, folder, (src,), out)
        if result.code == 0:
            assert Image.open(out).size == (30, 22)


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    """A 6-frame 32x24 H.264 clip (half a second), no audio."""
    pytest.importorskip("av")
    make_clip = runpy.run_path(str(Path(__file__).with_name("clips.py")))["make_clip"]
    return make_clip(tmp_path_factory.mktemp("clip") / "clip.mp4", frames=6, size=(24, 32), audio=False)


@fuzz(30)
@given(option=st.sampled_from(["--crf", "--start", "--duration", "--tile", "--max-pixels"]), value=VALUES)
def test_any_video_option_value_works_or_is_refused_in_one_line(monkeypatch, capsys, tmp_path, clip, option, value):
    with example_dir(tmp_path) as folder:
        out = folder / "out" / "clip.mp4"
        result = cli(monkeypatch, capsys, "deblur", clip, "-o", out, f"{option}={value}")
        assert_done_or_refused(result, folder, (), out)


SAMPLING = {   # verb -> the arguments that pick what to draw; the fuzzed option comes on top (-n 2, --zoom 1 otherwise)
    "generate": ("generate", "--class", "1"),
    "text2img": ("text2img", "a red circle"),
}


@fuzz(60)
@given(verb=st.sampled_from(sorted(SAMPLING)), option=st.sampled_from(["--seed", "-n", "--zoom", "--truncation"]),
       value=VALUES)
def test_any_sampling_option_value_works_or_is_refused_in_one_line(monkeypatch, capsys, tmp_path, verb, option, value):
    with example_dir(tmp_path) as folder:
        out = folder / "grid.png"
        defaults = [arg for name, arg in (("-n", ("-n", "2")), ("--zoom", ("--zoom", "1"))) if name != option]
        args = [*SAMPLING[verb], "-o", out, *[a for pair in defaults for a in pair]]
        result = cli(monkeypatch, capsys, *args, f"{option}={value}" if option.startswith("--") else option, *(
            () if option.startswith("--") else (value,)))
        assert_done_or_refused(result, folder, (), out)


# --- memory ----------------------------------------------------------------------------------------

PEAK_RUN = """
import json, resource, subprocess, sys
cli = "import sys; from gan_app.apps.cli import main; sys.argv = ['gan-app', *sys.argv[1:]]; main()"
child = subprocess.run([sys.executable, "-c", cli, *sys.argv[1:]], capture_output=True, text=True)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss   # KiB on Linux: the CLI process, our only child
print(json.dumps({"code": child.returncode, "err": child.stderr, "peak_kib": peak}))
"""


def real_bomb(side: int) -> bytes:
    """A valid `side` x `side` 8-bit grey PNG, all black: a few hundred kB that decode to side^2 bytes
    (and to 12 * side^2 as the float RGB a model takes)."""
    stream = zlib.compressobj(1)
    rows = bytes(side + 1) * 500   # filter byte 0 + a black row, 500 rows at a time
    idat = b"".join([stream.compress(rows) for _ in range(side // 500)] + [stream.flush()])
    return png_declaring(side, side, 8, 0, idat)


@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss is in KiB on Linux")
def test_a_decompression_bomb_is_refused_without_the_memory_it_would_take(tmp_path):
    """A 16000x16000 PNG (256 MP, ~3 GB as float RGB) is refused from its header: the process peaks far below."""
    import subprocess

    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(real_bomb(16000))
    assert bomb.stat().st_size < 2_000_000
    out = tmp_path / "out" / "bomb.png"
    probe = subprocess.run([sys.executable, "-c", PEAK_RUN, "deblur", str(bomb), "-o", str(out)],
                           capture_output=True, text=True, timeout=120)
    report = json.loads(probe.stdout)
    assert report["code"] == 2 and shown(report["err"]) == [shown(report["err"])[0]], report
    assert shown(report["err"])[0].startswith("error: ") and "over --max-pixels" in report["err"]
    assert report["peak_kib"] * 1024 < 1.5e9, report
    assert not out.parent.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["bomb.png"]
