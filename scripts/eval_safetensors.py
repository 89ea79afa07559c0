#!/usr/bin/python3
"""Evaluate a train-eval checkpoint in PyTorch, independently of the Go code.

Usage
-----
    /usr/bin/python3 scripts/eval_safetensors.py --run RUN_DIR --data TEST.beton
    /usr/bin/python3 scripts/eval_safetensors.py --weights model.safetensors \\
        --genotype DARTS_V2 --layers 8 --init-channels 16 --classes 10 --data TEST.beton

With --run, the network (genotype, layers, init channels, classes) and the
input normalisation are read from RUN_DIR/result.json, and the weights from
RUN_DIR/model.safetensors, both written by the train-eval stage (and, when
the run used --limit-test N, only the first N test images are evaluated, as
train-eval did; --limit overrides). --genotype
takes a built-in name (DARTS_V1, DARTS_V2, PERTNAS_EVOLUTIONARY,
PERTNAS_SUPERNET), a genotype JSON file of the project, or a file holding the
DARTS repr "Genotype(normal=[...], ...)".

What it does: defines the DARTS reference NetworkCIFAR, or NetworkImageNet
when result.json says the run was ImageNet (the module and tensor names of the
DARTS PyTorch code, rewritten here), loads model.safetensors with
a small safetensors reader (the safetensors package is not needed) through a
strict load_state_dict, reads the test split from the .beton file with numpy
(the layout of docs/spec/beton.md; no ffcv needed), normalises with the run's
mean/std, evaluates in eval mode (BatchNorm running statistics, no drop path,
no auxiliary head), and prints the top-1 and top-5 accuracy and the mean
cross-entropy
(with --run, next to the final test accuracy and loss train-eval reported). It needs torch (1.13 or
later) and numpy; PIL only for JPEG-encoded images.

ImageNet runs (result.json network.kind "imagenet"; give --data
imagenet_val.beton): every image is decoded with PIL and given torchvision's
evaluation transform, Resize(recipe.resize_size) (bilinear) then
CenterCrop(recipe.image_size), before normalising; PIL's JPEG decoder may
differ from Go's by a unit in a few pixels, so the accuracy can differ from
train-eval's by an image or two.

Exit status: 0 on success, 2 for bad input (missing file, malformed file,
state dict mismatch).
"""

import argparse
import json
import struct
import sys

import numpy as np
import torch
import torch.nn as nn

PRIMITIVES = ["max_pool_3x3", "avg_pool_3x3", "skip_connect", "sep_conv_3x3",
              "sep_conv_5x5", "dil_conv_3x3", "dil_conv_5x5"]

NAMED = {
    "DARTS_V1": {
        "normal": [("sep_conv_3x3", 1), ("sep_conv_3x3", 0), ("skip_connect", 0), ("sep_conv_3x3", 1),
                   ("skip_connect", 0), ("sep_conv_3x3", 1), ("sep_conv_3x3", 0), ("skip_connect", 2)],
        "reduce": [("max_pool_3x3", 0), ("max_pool_3x3", 1), ("skip_connect", 2), ("max_pool_3x3", 0),
                   ("max_pool_3x3", 0), ("skip_connect", 2), ("skip_connect", 2), ("avg_pool_3x3", 0)],
    },
    "DARTS_V2": {
        "normal": [("sep_conv_3x3", 0), ("sep_conv_3x3", 1), ("sep_conv_3x3", 0), ("sep_conv_3x3", 1),
                   ("sep_conv_3x3", 1), ("skip_connect", 0), ("skip_connect", 0), ("dil_conv_3x3", 2)],
        "reduce": [("max_pool_3x3", 0), ("max_pool_3x3", 1), ("skip_connect", 2), ("max_pool_3x3", 1),
                   ("max_pool_3x3", 0), ("skip_connect", 2), ("skip_connect", 2), ("max_pool_3x3", 1)],
    },
    "PERTNAS_EVOLUTIONARY": {
        "normal": [("sep_conv_3x3", 0), ("skip_connect", 1), ("sep_conv_3x3", 0), ("sep_conv_5x5", 2),
                   ("skip_connect", 0), ("sep_conv_5x5", 1), ("sep_conv_3x3", 0), ("sep_conv_3x3", 1)],
        "reduce": [("sep_conv_3x3", 0), ("max_pool_3x3", 1), ("sep_conv_3x3", 0), ("sep_conv_5x5", 2),
                   ("max_pool_3x3", 0), ("sep_conv_5x5", 1), ("sep_conv_3x3", 0), ("sep_conv_3x3", 1)],
    },
}
_SUPER = [("skip_connect", 0), ("sep_conv_3x3", 1), ("sep_conv_5x5", 0), ("sep_conv_3x3", 1),
          ("sep_conv_5x5", 0), ("sep_conv_3x3", 1), ("sep_conv_5x5", 0), ("max_pool_3x3", 1)]
NAMED["PERTNAS_SUPERNET"] = {"normal": _SUPER, "reduce": _SUPER}


class BadInput(Exception):
    pass


# ---------------------------------------------------------------- genotype

def parse_genotype(text, origin):
    """A built-in name, the project's JSON form, or the DARTS repr."""
    if text in NAMED:
        return NAMED[text]
    try:
        with open(text) as f:
            body = f.read()
    except OSError as e:
        raise BadInput(f"genotype {text}: not a built-in name and not readable: {e}")
    body = body.strip()
    if body.startswith("{"):
        try:
            d = json.loads(body)
            return {k: [(p["op"], int(p["input"])) for p in d[k]] for k in ("normal", "reduce")}
        except (ValueError, KeyError, TypeError) as e:
            raise BadInput(f"genotype {origin}: bad JSON genotype: {e}")
    import ast
    import re
    out = {}
    for k in ("normal", "reduce"):
        m = re.search(k + r"\s*=\s*(\[[^\]]*\])", body)
        if not m:
            raise BadInput(f"genotype {origin}: no '{k}=[...]' in the DARTS repr")
        out[k] = [(op, int(i)) for op, i in ast.literal_eval(m.group(1))]
    return out


def check_genotype(g, origin):
    for k in ("normal", "reduce"):
        if len(g[k]) != 8:
            raise BadInput(f"genotype {origin}: {k} has {len(g[k])} pairs, want 8")
        for j, (op, i) in enumerate(g[k]):
            if op not in PRIMITIVES or not 0 <= i <= j // 2 + 1:
                raise BadInput(f"genotype {origin}: {k} pair {j} ({op!r}, {i}) is not valid")


# ---------------------------------------------------------------- network
# The DARTS reference NetworkCIFAR: same modules, same registration order,
# so the state_dict names match docs/spec/darts.md.

class ReLUConvBN(nn.Module):
    def __init__(self, cin, cout, k, stride, pad):
        super().__init__()
        self.op = nn.Sequential(nn.ReLU(inplace=False), nn.Conv2d(cin, cout, k, stride, pad, bias=False),
                                nn.BatchNorm2d(cout))

    def forward(self, x):
        return self.op(x)


class DilConv(nn.Module):
    def __init__(self, c, k, stride, pad, dilation):
        super().__init__()
        self.op = nn.Sequential(nn.ReLU(inplace=False),
                                nn.Conv2d(c, c, k, stride, pad, dilation=dilation, groups=c, bias=False),
                                nn.Conv2d(c, c, 1, bias=False), nn.BatchNorm2d(c))

    def forward(self, x):
        return self.op(x)


class SepConv(nn.Module):
    def __init__(self, c, k, stride, pad):
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(inplace=False), nn.Conv2d(c, c, k, stride, pad, groups=c, bias=False),
            nn.Conv2d(c, c, 1, bias=False), nn.BatchNorm2d(c),
            nn.ReLU(inplace=False), nn.Conv2d(c, c, k, 1, pad, groups=c, bias=False),
            nn.Conv2d(c, c, 1, bias=False), nn.BatchNorm2d(c))

    def forward(self, x):
        return self.op(x)


class FactorizedReduce(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.relu = nn.ReLU(inplace=False)
        self.conv_1 = nn.Conv2d(cin, cout // 2, 1, stride=2, bias=False)
        self.conv_2 = nn.Conv2d(cin, cout // 2, 1, stride=2, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        x = self.relu(x)
        return self.bn(torch.cat([self.conv_1(x), self.conv_2(x[:, :, 1:, 1:])], dim=1))


class Identity(nn.Module):
    def forward(self, x):
        return x


def make_op(name, c, stride):
    if name == "max_pool_3x3":
        return nn.MaxPool2d(3, stride=stride, padding=1)
    if name == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride=stride, padding=1, count_include_pad=False)
    if name == "skip_connect":
        return Identity() if stride == 1 else FactorizedReduce(c, c)
    if name == "sep_conv_3x3":
        return SepConv(c, 3, stride, 1)
    if name == "sep_conv_5x5":
        return SepConv(c, 5, stride, 2)
    if name == "dil_conv_3x3":
        return DilConv(c, 3, stride, 2, 2)
    if name == "dil_conv_5x5":
        return DilConv(c, 5, stride, 4, 2)
    raise BadInput(f"unknown op {name}")


class Cell(nn.Module):
    def __init__(self, pairs, c_pp, c_p, c, reduction, reduction_prev):
        super().__init__()
        self.preprocess0 = FactorizedReduce(c_pp, c) if reduction_prev else ReLUConvBN(c_pp, c, 1, 1, 0)
        self.preprocess1 = ReLUConvBN(c_p, c, 1, 1, 0)
        self._ops = nn.ModuleList(make_op(op, c, 2 if reduction and i < 2 else 1) for op, i in pairs)
        self._indices = [i for _, i in pairs]
        self.multiplier = 4

    def forward(self, s0, s1):
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        for n in range(4):
            a = self._ops[2 * n](states[self._indices[2 * n]])
            b = self._ops[2 * n + 1](states[self._indices[2 * n + 1]])
            states.append(a + b)
        return torch.cat(states[2:6], dim=1)


class AuxiliaryHeadCIFAR(nn.Module):
    def __init__(self, c, classes):
        super().__init__()
        self.features = nn.Sequential(
            nn.ReLU(inplace=True), nn.AvgPool2d(5, stride=3, padding=0, count_include_pad=False),
            nn.Conv2d(c, 128, 1, bias=False), nn.BatchNorm2d(128), nn.ReLU(inplace=True),
            nn.Conv2d(128, 768, 2, bias=False), nn.BatchNorm2d(768), nn.ReLU(inplace=True))
        self.classifier = nn.Linear(768, classes)


class AuxiliaryHeadImageNet(nn.Module):
    def __init__(self, c, classes):
        super().__init__()
        self.features = nn.Sequential(
            nn.ReLU(inplace=True), nn.AvgPool2d(5, stride=2, padding=0, count_include_pad=False),
            nn.Conv2d(c, 128, 1, bias=False), nn.BatchNorm2d(128), nn.ReLU(inplace=True),
            nn.Conv2d(128, 768, 2, bias=False), nn.ReLU(inplace=True))
        self.classifier = nn.Linear(768, classes)


class NetworkImageNet(nn.Module):
    def __init__(self, c, classes, layers, auxiliary, genotype):
        super().__init__()
        self.stem0 = nn.Sequential(
            nn.Conv2d(3, c // 2, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(c // 2), nn.ReLU(inplace=True),
            nn.Conv2d(c // 2, c, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(c))
        self.stem1 = nn.Sequential(
            nn.ReLU(inplace=True), nn.Conv2d(c, c, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(c))
        c_pp, c_p, cc = c, c, c
        self.cells = nn.ModuleList()
        reduction_prev = True
        c_aux = None
        for i in range(layers):
            reduction = i in (layers // 3, 2 * layers // 3)
            if reduction:
                cc *= 2
            pairs = genotype["reduce"] if reduction else genotype["normal"]
            self.cells.append(Cell(pairs, c_pp, c_p, cc, reduction, reduction_prev))
            reduction_prev = reduction
            c_pp, c_p = c_p, 4 * cc
            if i == 2 * layers // 3:
                c_aux = c_p
        if auxiliary:
            self.auxiliary_head = AuxiliaryHeadImageNet(c_aux, classes)
        # The reference pools 7x7 (224-pixel inputs); adaptive pooling is the
        # same there and also serves smaller inputs.
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_p, classes)

    def forward(self, x):
        s0 = self.stem0(x)
        s1 = self.stem1(s0)
        for cell in self.cells:
            s0, s1 = s1, cell(s0, s1)
        return self.classifier(self.global_pooling(s1).flatten(1))


class NetworkCIFAR(nn.Module):
    def __init__(self, c, classes, layers, auxiliary, genotype):
        super().__init__()
        cc = 3 * c
        self.stem = nn.Sequential(nn.Conv2d(3, cc, 3, padding=1, bias=False), nn.BatchNorm2d(cc))
        c_pp, c_p, cc = cc, cc, c
        self.cells = nn.ModuleList()
        reduction_prev = False
        c_aux = None
        for i in range(layers):
            reduction = i in (layers // 3, 2 * layers // 3)
            if reduction:
                cc *= 2
            pairs = genotype["reduce"] if reduction else genotype["normal"]
            self.cells.append(Cell(pairs, c_pp, c_p, cc, reduction, reduction_prev))
            reduction_prev = reduction
            c_pp, c_p = c_p, 4 * cc
            if i == 2 * layers // 3:
                c_aux = c_p
        if auxiliary:
            self.auxiliary_head = AuxiliaryHeadCIFAR(c_aux, classes)
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_p, classes)

    def forward(self, x):
        s0 = s1 = self.stem(x)
        for cell in self.cells:
            s0, s1 = s1, cell(s0, s1)
        return self.classifier(self.global_pooling(s1).flatten(1))


# ---------------------------------------------------------------- safetensors

def read_safetensors(path):
    """{name: tensor} from a safetensors file (F32, I64), validating offsets."""
    try:
        with open(path, "rb") as f:
            blob = f.read()
    except OSError as e:
        raise BadInput(f"safetensors {path}: {e}")
    if len(blob) < 8:
        raise BadInput(f"safetensors {path}: file shorter than 8 bytes")
    (n,) = struct.unpack_from("<Q", blob, 0)
    if n > len(blob) - 8:
        raise BadInput(f"safetensors {path}: header length {n} exceeds the file")
    try:
        header = json.loads(blob[8:8 + n].decode("utf-8"))
    except ValueError as e:
        raise BadInput(f"safetensors {path}: bad JSON header: {e}")
    data = memoryview(blob)[8 + n:]
    dtypes = {"F32": (np.float32, 4), "I64": (np.int64, 8)}
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        if e.get("dtype") not in dtypes:
            raise BadInput(f"safetensors {path}: tensor {name}: unsupported dtype {e.get('dtype')}")
        dt, size = dtypes[e["dtype"]]
        shape = [int(d) for d in e["shape"]]
        b, end = e["data_offsets"]
        count = int(np.prod(shape)) if shape else 1
        if not 0 <= b <= end <= len(data) or end - b != count * size:
            raise BadInput(f"safetensors {path}: tensor {name}: data_offsets {b},{end} do not fit shape {shape}")
        arr = np.frombuffer(data[b:end], dtype=dt).reshape(shape).copy()
        out[name] = torch.from_numpy(arr)
    return out


# ---------------------------------------------------------------- beton

def resize_center_crop(img, shorter, size):
    """torchvision's Resize(shorter) then CenterCrop(size) on a PIL image."""
    from PIL import Image
    w, h = img.size
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = shorter, int(shorter * long / short)
    nw, nh = (new_short, new_long) if w <= h else (new_long, new_short)
    img = img.resize((nw, nh), Image.BILINEAR)
    top, left = int(round((nh - size) / 2.0)), int(round((nw - size) / 2.0))
    return img.crop((left, top, left + size, top + size))


def read_beton(path, crop=None):
    """(images uint8 [N, H, W, 3], labels int64 [N]) from an FFCV .beton v2
    file with an RGB image field and an int field (docs/spec/beton.md). With crop
    = (shorter, size), every image is resized and centre-cropped to size."""
    try:
        blob = np.memmap(path, dtype=np.uint8, mode="r")
    except (OSError, ValueError) as e:
        raise BadInput(f"beton {path}: {e}")
    if len(blob) < 24:
        raise BadInput(f"beton {path}: shorter than the 24-byte header")
    version, nfields, page_size, nsamples, alloc_ptr = struct.unpack_from("<HHIQQ", blob, 0)
    if version != 2:
        raise BadInput(f"beton {path}: version {version}, want 2")
    layout = {0: (8, 8, "<d"), 1: (8, 8, "<q"), 2: (13, 1, None), 3: (16, 1, None), 5: (16, 1, None),
              4: (8, 8, None), 6: (8, 8, None)}
    fields, off, align_max = [], 0, 1
    for i in range(nfields):
        d = 24 + i * 1041
        if d + 1041 > len(blob):
            raise BadInput(f"beton {path}: field descriptor {i} past the end of the file")
        tid = int(blob[d])
        name = bytes(blob[d + 1:d + 17]).split(b"\0")[0].decode("ascii", "replace")
        if tid not in layout:
            raise BadInput(f"beton {path}: field {name!r} has unsupported type {tid}")
        size, align, _ = layout[tid]
        off = (off + align - 1) // align * align
        fields.append((name, tid, off))
        off += size
        align_max = max(align_max, align)
    itemsize = (off + align_max - 1) // align_max * align_max
    meta0 = 24 + nfields * 1041
    if meta0 + nsamples * itemsize > len(blob):
        raise BadInput(f"beton {path}: metadata table ({nsamples} x {itemsize} bytes) past the end of the file")
    img = [f for f in fields if f[1] == 2]
    lab = [f for f in fields if f[1] == 1]
    if not img or not lab:
        raise BadInput(f"beton {path}: needs an RGB image field and an int field, has {fields}")
    img_off, lab_off = img[0][2], lab[0][2]
    # Allocation sizes, for JPEG payloads: sort the table by pointer.
    table = np.frombuffer(blob[alloc_ptr:], dtype="<u8").reshape(-1, 3) if alloc_ptr < len(blob) else None
    sizes = dict(zip(table[:, 1].tolist(), table[:, 2].tolist())) if table is not None else {}
    images, labels = None, np.empty(nsamples, dtype=np.int64)
    for s in range(nsamples):
        rec = meta0 + s * itemsize
        mode, w, h, ptr = struct.unpack_from("<BHHQ", blob, rec + img_off)
        (labels[s],) = struct.unpack_from("<q", blob, rec + lab_off)
        if crop is not None:
            h = w = crop[1]
        if images is None:
            images = np.empty((nsamples, h, w, 3), dtype=np.uint8)
        if (h, w) != images.shape[1:3]:
            raise BadInput(f"beton {path}: sample {s} is {w}x{h}, sample 0 is {images.shape[2]}x{images.shape[1]}")
        if mode == 1 and crop is not None:
            from PIL import Image
            _, sw, sh, _ = struct.unpack_from("<BHHQ", blob, rec + img_off)
            if ptr + sh * sw * 3 > len(blob):
                raise BadInput(f"beton {path}: sample {s} image past the end of the file")
            raw = Image.fromarray(np.asarray(blob[ptr:ptr + sh * sw * 3]).reshape(sh, sw, 3), "RGB")
            images[s] = np.asarray(resize_center_crop(raw, *crop))
        elif mode == 1:
            if ptr + h * w * 3 > len(blob):
                raise BadInput(f"beton {path}: sample {s} image past the end of the file")
            images[s] = np.asarray(blob[ptr:ptr + h * w * 3]).reshape(h, w, 3)
        elif mode == 0:
            if ptr not in sizes or ptr + sizes[ptr] > len(blob):
                raise BadInput(f"beton {path}: sample {s} JPEG pointer {ptr} not in the allocation table")
            import io
            from PIL import Image
            pil = Image.open(io.BytesIO(bytes(blob[ptr:ptr + sizes[ptr]]))).convert("RGB")
            images[s] = np.asarray(pil if crop is None else resize_center_crop(pil, *crop))
        else:
            raise BadInput(f"beton {path}: sample {s} has image mode {mode}")
    return images, labels


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--run", help="train-eval output folder (result.json, model.safetensors)")
    ap.add_argument("--weights", help="model.safetensors (default RUN/model.safetensors)")
    ap.add_argument("--data", required=True, help="test .beton file")
    ap.add_argument("--genotype", help="built-in name, genotype JSON file or DARTS repr file")
    ap.add_argument("--layers", type=int)
    ap.add_argument("--init-channels", type=int)
    ap.add_argument("--classes", type=int)
    ap.add_argument("--limit", type=int, help="evaluate only the first N test images (default: the run's limit_test, else all)")
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    a = ap.parse_args()

    # DARTS reference normalisation (0..1 scale), overridden by result.json.
    mean, std = [0.49139968, 0.48215827, 0.44653124], [0.24703233, 0.24348505, 0.26158768]
    reported = None
    kind, crop = "cifar", None
    if a.run:
        rpath = a.run.rstrip("/") + "/result.json"
        try:
            with open(rpath) as f:
                res = json.load(f)
        except (OSError, ValueError) as e:
            raise BadInput(f"{rpath}: {e}")
        net = res["network"]
        a.genotype = a.genotype or json.dumps(net["genotype"])
        a.layers = a.layers or net["layers"]
        a.init_channels = a.init_channels or net["init_channels"]
        a.classes = a.classes or net["classes"]
        kind = net.get("kind", "cifar")
        if kind == "imagenet":
            recipe = res.get("recipe", {})
            crop = (recipe["resize_size"], recipe["image_size"])
        reported5 = res.get("final_test_acc5")
        mean = [m / 255 for m in res["normalisation"]["mean"]]
        std = [s / 255 for s in res["normalisation"]["std"]]
        a.weights = a.weights or a.run.rstrip("/") + "/model.safetensors"
        reported = res.get("final_test_acc")
        reported_loss = res.get("final_test_loss")
        if a.limit is None:
            a.limit = res.get("recipe", {}).get("limit_test") or None
    if not (a.genotype and a.layers and a.init_channels and a.classes and a.weights):
        raise BadInput("need --run, or all of --weights --genotype --layers --init-channels --classes")
    if a.genotype.lstrip().startswith("{"):
        d = json.loads(a.genotype)
        genotype = {k: [(p["op"], int(p["input"])) for p in d[k]] for k in ("normal", "reduce")}
    else:
        genotype = parse_genotype(a.genotype, a.genotype)
    check_genotype(genotype, a.genotype)
    if a.threads > 0:
        torch.set_num_threads(a.threads)

    sd = read_safetensors(a.weights)
    aux = any(k.startswith("auxiliary_head.") for k in sd)
    network = NetworkImageNet if kind == "imagenet" else NetworkCIFAR
    model = network(a.init_channels, a.classes, a.layers, aux, genotype)
    try:
        model.load_state_dict(sd, strict=True)
    except RuntimeError as e:
        raise BadInput(f"{a.weights}: state dict does not match the network: {e}")
    model.eval()

    images, labels = read_beton(a.data, crop)
    if a.limit:
        images, labels = images[:a.limit], labels[:a.limit]
    m = torch.tensor(mean).view(1, 3, 1, 1)
    s = torch.tensor(std).view(1, 3, 1, 1)
    correct, correct5, loss_sum = 0, 0, 0.0
    with torch.no_grad():
        for i in range(0, len(labels), a.batch_size):
            x = torch.from_numpy(images[i:i + a.batch_size]).permute(0, 3, 1, 2).float() / 255
            x = (x - m) / s
            y = torch.from_numpy(labels[i:i + a.batch_size])
            logits = model(x)
            loss_sum += float(nn.functional.cross_entropy(logits, y, reduction="sum"))
            correct += int((logits.argmax(dim=1) == y).sum())
            top5 = logits.topk(min(5, logits.shape[1]), dim=1).indices
            correct5 += int((top5 == y[:, None]).any(dim=1).sum())
    acc = correct / len(labels)
    params = sum(p.numel() for n, p in model.named_parameters() if not n.startswith("auxiliary_head."))
    print(f"parameters (no auxiliary head): {params}")
    print(f"test images: {len(labels)}  correct: {correct}")
    print(f"top-1 accuracy: {acc:.4f}  top-5 accuracy: {correct5 / len(labels):.4f}")
    print(f"mean cross-entropy: {loss_sum / len(labels):.6f}")
    if reported is not None:
        print(f"train-eval reported: final test accuracy {reported:.4f}, final test loss {reported_loss:.6f}"
              + (f", top-5 {reported5:.4f}" if reported5 is not None else ""))


if __name__ == "__main__":
    try:
        main()
    except BadInput as e:
        print(f"eval_safetensors: {e}", file=sys.stderr)
        sys.exit(2)
