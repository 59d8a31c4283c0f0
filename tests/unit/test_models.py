"""Architecture registry and build_model: shapes, pretrained body, head, freezing, groups."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from engine.models.registry import ARCHITECTURES, architectures_for, build_model, default_arch
from tests.support.weights import install_fake_weights, pretrained_state


def test_registry_lists_archs_per_task():
    image = {s.name for s in architectures_for("classification")}
    seg = {s.name for s in architectures_for("segmentation")}
    assert {"resnet18", "resnet34", "resnet50", "mobilenet_v3_small", "mobilenet_v3_large",
            "efficientnet_b0", "convnext_tiny"} <= image  # fmt: skip
    assert {"unet_resnet18", "unet_resnet34", "lraspp_mobilenet_v3_large",
            "deeplabv3_mobilenet_v3_large", "deeplabv3_resnet50"} <= seg  # fmt: skip
    assert image.isdisjoint(seg)
    assert {s.name for s in architectures_for("regression")} == image
    assert default_arch("classification") == default_arch("multilabel") == "resnet18"
    assert default_arch("segmentation") == "unet_resnet18"
    with pytest.raises(ValueError, match="Unknown task"):
        architectures_for("detection")


def test_specs_have_beginner_descriptions_and_true_sizes():
    from torchvision.models import get_weight

    for spec in ARCHITECTURES.values():
        assert spec.kind in ("image", "segmentation")
        assert 20 < len(spec.description) < 100 and "\n" not in spec.description
        if spec.source == "timm":  # params of timm's network with its 1000-class head
            import timm

            net = timm.create_model(spec.name.split("/", 1)[1], pretrained=False)
            real = sum(p.numel() for p in net.parameters()) / 1e6
            assert spec.params_m == pytest.approx(real, rel=0.03), spec.name
        elif not spec.name.startswith("unet_"):  # params of the pretrained network (its meta)
            real = get_weight(spec.weights_id).meta["num_params"] / 1e6
            assert spec.params_m == pytest.approx(real, rel=0.03), spec.name


def test_importing_models_does_not_import_torch():
    code = (
        "import sys, engine.models.registry, engine.models.weights, engine.devices, "
        "engine.predict.predictor; "
    )
    code += "print('torch' in sys.modules, 'torchvision' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_resnet18_pretrained_body_new_head():
    install_fake_weights("resnet18")
    b = build_model("resnet18", "classification", 3)
    assert b.pretrained and b.weights_source.endswith("resnet18-f37072fd.pth")
    ref = pretrained_state("resnet18")
    assert torch.equal(b.model.conv1.weight, ref["conv1.weight"])
    assert torch.equal(b.model.layer4[1].bn2.running_var, ref["layer4.1.bn2.running_var"])
    assert b.head == [b.model.fc] and b.model.fc.out_features == 3
    assert b.mean == pytest.approx((0.485, 0.456, 0.406)) and b.resize == 224
    b.model.eval()
    assert b.model(torch.randn(2, 3, 32, 32)).shape == (2, 3)


def test_param_groups_freeze_and_unfreeze():
    b = build_model("resnet18", "classification", 2, weights="none")
    groups = b.param_groups()
    assert len(groups) == 3 and groups[-1] == b.head_parameters()
    flat = [id(p) for g in groups for p in g]
    assert len(flat) == len(set(flat)) == len(list(b.model.parameters()))
    assert groups[0][0] is b.model.conv1.weight  # earliest layers first

    seen = {}
    b.model.layer4.register_forward_hook(lambda m, i, o: seen.update(grad=o.requires_grad))
    b.freeze_body()
    assert b.frozen
    b.model.train()
    loss = b.model(torch.randn(2, 3, 32, 32)).sum()
    assert seen["grad"] is False  # autograd records nothing in the body: no backward through it
    loss.backward()
    assert all(p.grad is None for p in b.body_parameters())
    assert all(p.grad is not None for p in b.head_parameters())
    b.unfreeze()
    assert not b.frozen
    b.model(torch.randn(2, 3, 32, 32)).sum().backward()
    assert b.model.conv1.weight.grad is not None


def test_mobilenet_from_scratch_outputs_logits():
    b = build_model("mobilenet_v3_small", "multilabel", 5, weights="none")
    assert not b.pretrained and b.weights_source == "none"
    b.model.eval()
    assert b.model(torch.randn(1, 3, 32, 32)).shape == (1, 5)


@pytest.mark.parametrize("arch", ["lraspp_mobilenet_v3_large", "unet_resnet18"])
def test_segmentation_logits_at_input_size(arch):
    install_fake_weights(arch)
    b = build_model(arch, "segmentation", 3)
    assert b.pretrained
    b.model.train()  # batch of 2 so BatchNorm works in train mode too
    y = b.model(torch.randn(2, 3, 37, 50))
    assert isinstance(y, torch.Tensor) and y.shape == (2, 3, 37, 50)
    b.freeze_body()
    assert b.frozen and all(p.requires_grad for p in b.head_parameters())


def test_unet_encoder_loads_resnet_file():
    install_fake_weights("unet_resnet18")
    b = build_model("unet_resnet18", "segmentation", 2)
    ref = pretrained_state("resnet18")
    assert torch.equal(b.model.encoder.layer3[0].conv1.weight, ref["layer3.0.conv1.weight"])
    assert b.body == [b.model.encoder]


def test_deeplab_file_with_aux_head_loads():
    install_fake_weights("deeplabv3_mobilenet_v3_large")
    b = build_model("deeplabv3_mobilenet_v3_large", "segmentation", 4)
    ref = pretrained_state("deeplabv3_mobilenet_v3_large")
    assert torch.equal(b.model.net.classifier[1].weight, ref["classifier.1.weight"])
    assert b.model.net.aux_classifier is None and b.head[0].out_channels == 4


def test_every_registered_arch_builds_from_scratch():
    for name, spec in ARCHITECTURES.items():
        task = "segmentation" if spec.kind == "segmentation" else "regression"
        b = build_model(name, task, 2, weights="none")
        head_out = [getattr(m, "out_features", getattr(m, "out_channels", None)) for m in b.head]
        assert 2 in head_out, name
        assert b.body and b.head


def test_wrong_task_or_arch_is_a_clear_error():
    with pytest.raises(ValueError, match="does not fit a segmentation project"):
        build_model("resnet18", "segmentation", 2, weights="none")
    with pytest.raises(ValueError, match="Unknown architecture"):
        build_model("vgg99", "classification", 2, weights="none")
