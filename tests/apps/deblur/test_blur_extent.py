"""The blur-extent estimator's training side: labels, synthesis, the network, and its ONNX export."""

import math

import numpy as np
import pytest
import torch

from gan_app.apps.deblur.blur_extent import CROP, BlurExtentNet, export, make_set, predict, psf_radius
from gan_app.errors import UserError
from gan_app.runtime.blur_extent import estimate_radius, load_estimator, textured_crops


def test_psf_radius_matches_hand_computed_cases():
    dot = np.zeros((9, 9), np.float32)
    dot[4, 4] = 1
    assert psf_radius(dot) == 0.0
    line = np.zeros((31, 31), np.float32)
    line[15, 0:21] = 1 / 21                                   # 21 taps: positions -10..10, variance (21^2 - 1) / 12
    assert psf_radius(line) == pytest.approx(math.sqrt((21 ** 2 - 1) / 12))
    pair = np.zeros((11, 11), np.float32)
    pair[5, 2], pair[5, 8] = 0.5, 0.5                         # two dots 6 px apart: radius 3 wherever they sit
    assert psf_radius(pair) == pytest.approx(3.0)


@pytest.fixture(scope="module")
def photos():
    rng = np.random.default_rng(0)
    smooth = np.kron(rng.integers(0, 255, (40, 40, 3)), np.ones((8, 8, 1))).astype(np.uint8)   # 320 x 320 blocks
    return [smooth, np.ascontiguousarray(smooth[::-1])]


def test_make_set_is_seeded_and_labels_blur_by_its_extent(photos):
    crops, radii = make_set(12, 3, photos)
    again, radii_again = make_set(12, 3, photos)
    assert crops.shape == (12, 3, CROP, CROP) and crops.dtype == np.uint8
    assert np.array_equal(crops, again) and np.array_equal(radii, radii_again)
    assert np.all(radii >= 0) and radii.max() > 2                 # blurred samples have a positive extent
    # a blurrier crop has weaker gradients: the label orders the crops' edge energy (large vs small radius)
    energy = [np.abs(np.diff(c.astype(np.float32), axis=2)).mean() for c in crops]
    small, large = np.argmin(radii), np.argmax(radii)
    assert energy[large] < energy[small]


def test_network_shape_and_export_agree_with_onnx_runtime(tmp_path):
    torch.manual_seed(0)
    net = BlurExtentNet().eval()
    crops = (np.random.default_rng(1).random((5, 3, CROP, CROP)) * 255).astype(np.uint8)
    assert net(torch.rand(5, 3, CROP, CROP)).shape == (5,)
    out = tmp_path / "extent.onnx"
    export(net, out, {"name": "test"})
    session, crop, offset = load_estimator(str(out))
    assert crop == CROP and offset == 0.5 and (tmp_path / "extent.json").is_file()
    ort_log = session.run(None, {"image": crops.astype(np.float32) / 255})[0]
    assert np.allclose((np.exp(ort_log) - offset).clip(min=0), predict(net, crops), atol=1e-4)
    image = np.random.default_rng(2).random((3, 300, 260)).astype(np.float32)
    expected = float(np.exp(np.median(net(torch.from_numpy(textured_crops(image, CROP))).detach().numpy())) - offset)
    assert estimate_radius(image, str(out)) == pytest.approx(max(expected, 0.0), abs=1e-4)


def test_a_graph_that_is_not_an_estimator_is_refused(tmp_path):
    torch.manual_seed(0)
    other = tmp_path / "other.onnx"
    torch.onnx.export(torch.nn.Conv2d(3, 3, 1), (torch.rand(1, 3, 8, 8),), str(other), dynamo=False)
    with pytest.raises(UserError, match="not a gan_app blur-extent estimator"):
        load_estimator(str(other))
    with pytest.raises(UserError, match="is missing, so --blur-scale auto cannot run"):
        load_estimator(str(tmp_path / "absent.onnx"))
