#!/usr/bin/env python3
"""Writes loader/testdata/pil_fixtures.json: the outputs of torchvision's
PIL-image transforms that the loader reproduces bit for bit (ColorJitter's
four operations, RandomResizedCrop's crop+bilinear resize, the bilinear resize
of a fractional box, Resize+CenterCrop),
computed with PIL exactly as torchvision.transforms.functional_pil does, and
JPEG files (4:2:0, 4:2:2, 4:4:4, greyscale) with PIL's (libjpeg's) decoding,
which the loader's decoder approximates to a unit or two.

Run with /usr/bin/python3 (PIL and numpy) from the repository root:
    /usr/bin/python3 scripts/loader_pil_fixtures.py
"""
import base64
import io
import json
import os

import numpy as np
from PIL import Image, ImageEnhance

rng = np.random.default_rng(20261127)
images = []
for h, w in [(17, 23), (40, 31), (9, 9)]:
    a = rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
    # Some grey and saturated pixels for the HSV edge cases.
    a[0, :, :] = a[0, :, :1]
    a[1, :3] = [[255, 0, 0], [0, 255, 255], [10, 10, 200]]
    images.append(a)


def pil(a):
    return Image.fromarray(a, "RGB")


# torchvision.transforms.functional_pil
def adjust_brightness(img, f):
    return ImageEnhance.Brightness(img).enhance(f)


def adjust_contrast(img, f):
    return ImageEnhance.Contrast(img).enhance(f)


def adjust_saturation(img, f):
    return ImageEnhance.Color(img).enhance(f)


def adjust_hue(img, f):
    h, s, v = img.convert("HSV").split()
    np_h = np.array(h, dtype=np.uint8)
    with np.errstate(over="ignore"):
        np_h += np.array(f * 255).astype(np.uint8)
    h = Image.fromarray(np_h, "L")
    return Image.merge("HSV", (h, s, v)).convert("RGB")


ops = {"brightness": adjust_brightness, "contrast": adjust_contrast,
       "saturation": adjust_saturation, "hue": adjust_hue}
factors = {"brightness": [0.6, 0.93, 1.0, 1.27, 1.4], "contrast": [0.6, 0.81, 1.33, 1.4],
           "saturation": [0.6, 0.77, 1.21, 1.4], "hue": [-0.2, -0.137, -0.01, 0.05, 0.2]}
jitter = []
for i, a in enumerate(images):
    for op, fs in factors.items():
        for f in fs:
            out = np.asarray(ops[op](pil(a), f))
            jitter.append({"image": i, "op": op, "factor": f, "out": out.reshape(-1).tolist()})

# resized_crop(img, top, left, h, w, size, BILINEAR) = crop then resize.
resize = []
for i, (top, left, h, w), (oh, ow) in [
        (0, (2, 3, 12, 15), (8, 8)), (0, (0, 0, 17, 23), (30, 30)), (1, (0, 0, 40, 31), (7, 7)),
        (1, (5, 4, 20, 20), (13, 9)), (1, (3, 1, 37, 29), (16, 16)), (2, (1, 1, 5, 7), (9, 9))]:
    if left + w > images[i].shape[1] or top + h > images[i].shape[0]:
        raise SystemExit("bad box")
    out = pil(images[i]).crop((left, top, left + w, top + h)).resize((ow, oh), Image.BILINEAR)
    resize.append({"image": i, "box": [top, left, h, w], "out_h": oh, "out_w": ow,
                   "out": np.asarray(out).reshape(-1).tolist()})

# The resize of a fractional box (PIL's resize(size, BILINEAR, box)) within
# a region of whole pixels, which alone contributes: what the loader does
# with a crop box in an image decoded at 1/2, 1/4 or 1/8 (JPEGDCTScale).
resize_box = []
for i, (top, left, h, w), (x0, y0, x1, y1), (oh, ow) in [
        (1, (2, 1, 19, 15), (0.5, 0.25, 14.25, 18.5), (7, 6)), (0, (0, 0, 17, 23), (0.125, 0.375, 22.875, 16.625), (30, 30)),
        (1, (5, 4, 20, 20), (0.75, 0.5, 19.5, 19.75), (13, 9)), (2, (1, 1, 7, 7), (0.5, 0.5, 6.5, 6.5), (9, 9))]:
    region = pil(images[i]).crop((left, top, left + w, top + h))
    out = region.resize((ow, oh), Image.BILINEAR, box=(x0, y0, x1, y1))
    resize_box.append({"image": i, "region": [top, left, h, w], "box": [x0, y0, x1, y1], "out_h": oh, "out_w": ow,
                       "out": np.asarray(out).reshape(-1).tolist()})


# Resize(shorter) then CenterCrop(size), torchvision's arithmetic.
def resize_center(img, shorter, size):
    w, h = img.size
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = shorter, int(shorter * long / short)
    nw, nh = (new_short, new_long) if w <= h else (new_long, new_short)
    img = img.resize((nw, nh), Image.BILINEAR)
    top = int(round((nh - size) / 2.0))
    left = int(round((nw - size) / 2.0))
    return img.crop((left, top, left + size, top + size))


center = []
for i, shorter, size in [(0, 11, 9), (1, 20, 17), (1, 36, 32), (2, 14, 12)]:
    out = resize_center(pil(images[i]), shorter, size)
    center.append({"image": i, "resize": shorter, "size": size, "out": np.asarray(out).reshape(-1).tolist()})

jpegs = []
yy, xx = np.mgrid[0:29, 0:37]
texture = np.stack([128 + 100 * np.sin(xx / 2.3), 128 + 90 * np.cos(yy / 1.7 + xx / 5), 60 + 3 * (xx + yy)], axis=-1)
texture = np.clip(texture + rng.normal(0, 8, texture.shape), 0, 255).astype(np.uint8)
for name, sub in [("420", 2), ("422", 1), ("444", 0), ("grey", None)]:
    img = pil(texture) if sub is not None else pil(texture).convert("L")
    buf = io.BytesIO()
    if sub is None:
        img.save(buf, "JPEG", quality=85)
    else:
        img.save(buf, "JPEG", quality=85, subsampling=sub)
    data = buf.getvalue()
    dec = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    jpegs.append({"name": name, "jpeg": base64.b64encode(data).decode("ascii"),
                  "h": dec.shape[0], "w": dec.shape[1], "out": dec.reshape(-1).tolist()})

doc = {"images": [{"h": a.shape[0], "w": a.shape[1], "pix": a.reshape(-1).tolist()} for a in images],
       "jitter": jitter, "resize": resize, "resize_box": resize_box, "center": center, "jpegs": jpegs}
path = os.path.join("loader", "testdata", "pil_fixtures.json")
with open(path, "w") as f:
    json.dump(doc, f, separators=(",", ":"))
print("wrote", path)
