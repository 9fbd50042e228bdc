"""Class conditioning: embedding concat, conditional BN, projection and AC-GAN heads."""

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from gan_app.nn.conditional import AuxClassifierHead, ConditionalBatchNorm2d, LabelEmbeddingConcat, ProjectionHead


def test_label_embedding_vector_map_and_concat():
    emb = LabelEmbeddingConcat(num_classes=4, dim=3)
    labels = torch.tensor([2, 0])
    vec = emb(labels)
    torch.testing.assert_close(vec, emb.embed.weight[[2, 0]])
    fmap = emb.as_map(labels, 5, 6)
    assert fmap.shape == (2, 3, 5, 6)
    torch.testing.assert_close(fmap, vec[:, :, None, None].expand(2, 3, 5, 6))
    z = torch.randn(2, 7)
    torch.testing.assert_close(emb.concat(z, labels), torch.cat([z, vec], 1))
    img = torch.randn(2, 1, 5, 6)
    cat = emb.concat(img, labels)
    assert cat.shape == (2, 4, 5, 6)
    torch.testing.assert_close(cat[:, :1], img)
    torch.testing.assert_close(cat[:, 1:], fmap)


@pytest.mark.parametrize("labels", [torch.tensor([[1], [0]]), torch.tensor([1.0, 0.0]), torch.tensor([1, 0, 2])])
def test_bad_labels_raise(labels):
    with pytest.raises(ValueError):
        LabelEmbeddingConcat(4, 3).concat(torch.randn(2, 7), labels)


def test_cbn_init_is_plain_batch_norm():
    cbn = ConditionalBatchNorm2d(3, num_classes=5).train()
    x = torch.randn(4, 3, 6, 6) * 3 + 1
    expected = F.batch_norm(x, None, None, training=True)
    torch.testing.assert_close(cbn(x, torch.tensor([0, 1, 4, 2])), expected)


def test_cbn_applies_per_class_affine():
    cbn = ConditionalBatchNorm2d(2, num_classes=3)
    with torch.no_grad():
        cbn.gamma.weight.copy_(torch.tensor([[1.0, 2.0], [3.0, -1.0], [0.5, 0.5]]))
        cbn.beta.weight.copy_(torch.tensor([[0.0, 1.0], [-2.0, 4.0], [1.0, 1.0]]))
    cbn.eval()  # fixed running stats: every sample is normalised the same way
    with torch.no_grad():
        cbn.bn.running_mean.copy_(torch.tensor([0.5, -1.0]))
        cbn.bn.running_var.copy_(torch.tensor([4.0, 0.25]))
    x = torch.randn(1, 2, 3, 3).expand(3, -1, -1, -1)  # the same image three times
    out = cbn(x, torch.tensor([0, 1, 0]))
    torch.testing.assert_close(out[0], out[2])  # same label, same output
    assert not torch.allclose(out[0], out[1])  # different label, different output
    normed = (x[0] - cbn.bn.running_mean[:, None, None]) / torch.sqrt(cbn.bn.running_var[:, None, None] + cbn.bn.eps)
    by_hand = normed * torch.tensor([3.0, -1.0])[:, None, None] + torch.tensor([-2.0, 4.0])[:, None, None]
    torch.testing.assert_close(out[1], by_hand)


def test_projection_head_formula():
    head = ProjectionHead(in_features=4, num_classes=3)
    phi = torch.randn(2, 4)
    labels = torch.tensor([2, 1])
    w, b, emb = head.linear.weight[0], head.linear.bias[0], head.embed.weight
    by_hand = torch.stack([phi[i] @ w + b + emb[labels[i]] @ phi[i] for i in range(2)])
    out = head(phi, labels)
    assert out.shape == (2,)
    torch.testing.assert_close(out, by_hand)


def test_projection_head_spectral_normalises_embedding():
    head = ProjectionHead(in_features=4, num_classes=3, spectral=True).train()
    with torch.no_grad():
        head.embed.parametrizations.weight.original.mul_(20)
    for _ in range(30):
        head(torch.randn(2, 4), torch.tensor([0, 1]))
    assert torch.linalg.matrix_norm(head.embed.weight.detach(), ord=2).item() == pytest.approx(1.0, abs=1e-3)


def test_aux_classifier_head():
    head = AuxClassifierHead(in_features=6, num_classes=5)
    phi = torch.randn(3, 6)
    adv, cls = head(phi)
    assert adv.shape == (3,) and cls.shape == (3, 5)
    torch.testing.assert_close(adv, phi @ head.adv.weight[0] + head.adv.bias[0])
    torch.testing.assert_close(cls, phi @ head.cls.weight.T + head.cls.bias)
    with pytest.raises(ValueError):
        head(torch.randn(3, 6, 1))


class _ConditionalD(nn.Module):
    """CBN + label map concat + both heads in one graph, to export them together."""

    def __init__(self):
        super().__init__()
        self.emb = LabelEmbeddingConcat(3, 2)
        self.cbn = ConditionalBatchNorm2d(3, 3)
        self.proj = ProjectionHead(3 * 16, 3, spectral=True)
        self.ac = AuxClassifierHead(3 * 16, 3, spectral=True)
        self.conv = nn.Conv2d(3 + 2, 3, 1)

    def forward(self, x, labels):
        h = self.cbn(self.conv(self.emb.concat(x, labels)), labels).flatten(1)  # (B, 48)
        adv, cls = self.ac(h)
        return self.proj(h, labels), adv, cls


def test_conditional_blocks_export_to_onnx(onnx_parity):
    torch.manual_seed(0)
    model = _ConditionalD()
    with torch.no_grad():
        model.cbn.gamma.weight.normal_()
        model.cbn.beta.weight.normal_()
    onnx_parity(model, {"x": torch.randn(2, 3, 4, 4), "labels": torch.tensor([2, 0])})
