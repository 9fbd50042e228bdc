"""The domain classifier: shapes, safetensors roundtrip with its description, refusal of other files and bad verb arguments."""

import pytest
import torch
from typer.testing import CliRunner

from gan_app.apps.cli import build_app
from gan_app.apps.conditional.classifier import ClassifierConfig, DomainClassifier, load_classifier, save_classifier
from gan_app.errors import UserError


def test_roundtrip_keeps_outputs_names_and_info(tmp_path):
    torch.manual_seed(0)
    model = DomainClassifier(ClassifierConfig(channels=3, resolution=16, num_classes=4, width=4, feature_dim=6)).eval()
    x = torch.rand(3, 3, 16, 16) * 2 - 1
    assert model.features(x).shape == (3, 6) and model(x).shape == (3, 4)
    path = save_classifier(model, tmp_path / "c.safetensors", ("a", "b", "c", "d"), {"test_accuracy": 0.5})
    back, names, info = load_classifier(path)
    torch.testing.assert_close(back(x), model(x))
    assert names == ("a", "b", "c", "d") and info == {"test_accuracy": 0.5} and back.cfg == model.cfg
    with pytest.raises(ValueError, match="expects"):
        back(torch.rand(1, 1, 16, 16))


def test_other_safetensors_files_are_refused(tmp_path):
    from safetensors.torch import save_file

    save_file({"w": torch.zeros(1)}, str(tmp_path / "x.safetensors"))
    with pytest.raises(UserError, match="not a gan_app domain classifier"):
        load_classifier(tmp_path / "x.safetensors")
    with pytest.raises(UserError, match="not found"):
        load_classifier(tmp_path / "missing.safetensors")


@pytest.mark.parametrize("verb", ["conditional-classifier", "text2image-classifier"])
def test_classifier_verbs_refuse_bad_output_before_training(tmp_path, verb):
    existing = tmp_path / "judge.safetensors"
    existing.write_bytes(b"user data")
    runner, app = CliRunner(), build_app()
    for args, message in ((["-o", str(existing)], "already exists; pass --overwrite"),
                          (["-o", str(tmp_path / "judge.pt")], "must end in .safetensors"),
                          (["-o", str(tmp_path / "new.safetensors"), "--epochs", "0"], "--epochs must be >= 1")):
        result = runner.invoke(app, [verb, *args])
        assert isinstance(result.exception, UserError) and message in str(result.exception), (args, result.output)
    assert existing.read_bytes() == b"user data"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["judge.safetensors"]  # nothing else written
