#!/usr/bin/env python3
"""Writes nb301/testdata/configspace_vectors.json: NB301 feature vectors
computed the way ConfigSpace 0.4.x computes Configuration.get_array() (with
numpy, whose float64 log is the C library's), for the built-in genotypes and
seeded random ones, so that a Go test can compare nb301.Build's vectors bit
for bit.

Run from the repo root with Debian's numpy:
    /usr/bin/python3 scripts/nb301_configspace_vectors.py

ConfigSpace is not installed here; this file restates its 0.4.x encoding
rules (hyperparameters.pyx, configuration_space.py) in numpy:
  - order: hyperparameters no condition applies to, sorted by name, then the
    conditional ones, sorted by name;
  - UniformFloat: value -> log(value) when log, then
    (value - lower') / (upper' - lower'), lower' and upper' the (log) bounds,
    clipped to [0, 1];
  - UniformInteger: the UniformFloat on [lower - 0.49999, upper + 0.49999];
  - NormalFloat (0.4.x): log(value) when log, else value;
  - Categorical: the index of the value among the choices; Constant: 0;
  - inactive (condition not met): NaN, which NB301 replaces by -1.
NB301's ConfigLoader overrides four bounds before encoding (layers,
init_channels and cosine_annealing:T_max -> uniform int [1, 10000];
cosine_annealing:eta_min -> uniform float [0, 10000], not log).

Each vector value is stored as the hex of its IEEE-754 bits (float.hex), so
no decimal round trip is involved.

numpy's float64 log: numpy up to 1.21 (the versions NB301 was built and
trained with) always called the C library's log. numpy 1.22 and later, on a
CPU with AVX-512 (such as the development machines), dispatch to their own
SIMD log, which is not correctly rounded: np.log(128.49999) is then one ulp
below glibc's, which moves the batch_size feature by 7 ulps. The script
therefore turns the AVX-512 dispatch off (NPY_DISABLE_CPU_FEATURES, read
when numpy is imported) and checks that np.log equals math.log (the C
library's) on every logarithm it takes.
"""
import json
import math
import os
import random

os.environ["NPY_DISABLE_CPU_FEATURES"] = "AVX512F AVX512CD AVX512_SKX AVX512_CLX AVX512_CNL AVX512_ICL"
import numpy as np  # noqa: E402  (after the environment is set)


def log(x):
    """np.log, checked against the C library's log."""
    y = np.log(np.float64(x))
    assert float(y) == math.log(float(x)), (x, float(y), math.log(float(x)))
    return y

SPACE = os.path.join("nb301", "configspace.json")
OUT = os.path.join("nb301", "testdata", "configspace_vectors.json")
P = "NetworkSelectorDatasetInfo:darts:"
OPS = ["max_pool_3x3", "avg_pool_3x3", "skip_connect", "sep_conv_3x3",
       "sep_conv_5x5", "dil_conv_3x3", "dil_conv_5x5"]

TRAINING = {
    "CreateImageDataLoader:batch_size": 96,
    "ImageAugmentation:augment": True,
    "ImageAugmentation:cutout": True,
    "ImageAugmentation:cutout_holes": 1,
    "ImageAugmentation:cutout_length": 16,
    "ImageAugmentation:autoaugment": False,
    "ImageAugmentation:fastautoaugment": False,
    "LossModuleSelectorIndices:loss_module": "cross_entropy",
    P + "auxiliary": True,
    P + "drop_path_prob": 0.2,
    "NetworkSelectorDatasetInfo:network": "darts",
    "OptimizerSelector:optimizer": "sgd",
    "OptimizerSelector:sgd:learning_rate": 0.025,
    "OptimizerSelector:sgd:momentum": 0.9,
    "OptimizerSelector:sgd:weight_decay": 0.0003,
    "SimpleLearningrateSchedulerSelector:cosine_annealing:T_max": 100,
    "SimpleLearningrateSchedulerSelector:cosine_annealing:eta_min": 1e-8,
    "SimpleLearningrateSchedulerSelector:lr_scheduler": "cosine_annealing",
    "SimpleTrainNode:batch_loss_computation_technique": "mixup",
    "SimpleTrainNode:mixup:alpha": 0.2,
    P + "init_channels": 32,
    P + "layers": 8,
}

OVERRIDES = {
    P + "layers": ("uniform_int", 1, 10000),
    P + "init_channels": ("uniform_int", 1, 10000),
    "SimpleLearningrateSchedulerSelector:cosine_annealing:T_max": ("uniform_int", 1, 10000),
    "SimpleLearningrateSchedulerSelector:cosine_annealing:eta_min": ("uniform_float", 0, 10000),
}

# The four built-in cells (DARTS genotypes.py and the PertNAS paper).
NAMED = {
    "DARTS_V1": ([("sep_conv_3x3", 1), ("sep_conv_3x3", 0), ("skip_connect", 0), ("sep_conv_3x3", 1), ("skip_connect", 0), ("sep_conv_3x3", 1), ("sep_conv_3x3", 0), ("skip_connect", 2)],
                 [("max_pool_3x3", 0), ("max_pool_3x3", 1), ("skip_connect", 2), ("max_pool_3x3", 0), ("max_pool_3x3", 0), ("skip_connect", 2), ("skip_connect", 2), ("avg_pool_3x3", 0)]),
    "DARTS_V2": ([("sep_conv_3x3", 0), ("sep_conv_3x3", 1), ("sep_conv_3x3", 0), ("sep_conv_3x3", 1), ("sep_conv_3x3", 1), ("skip_connect", 0), ("skip_connect", 0), ("dil_conv_3x3", 2)],
                 [("max_pool_3x3", 0), ("max_pool_3x3", 1), ("skip_connect", 2), ("max_pool_3x3", 1), ("max_pool_3x3", 0), ("skip_connect", 2), ("skip_connect", 2), ("max_pool_3x3", 1)]),
    "PERTNAS_EVOLUTIONARY": ([("sep_conv_3x3", 0), ("skip_connect", 1), ("sep_conv_3x3", 0), ("sep_conv_5x5", 2), ("skip_connect", 0), ("sep_conv_5x5", 1), ("sep_conv_3x3", 0), ("sep_conv_3x3", 1)],
                             [("sep_conv_3x3", 0), ("max_pool_3x3", 1), ("sep_conv_3x3", 0), ("sep_conv_5x5", 2), ("max_pool_3x3", 0), ("sep_conv_5x5", 1), ("sep_conv_3x3", 0), ("sep_conv_3x3", 1)]),
}


def random_cell(rng):
    cell = []
    for i in range(4):
        for inp in sorted(rng.sample(range(i + 2), 2)):
            cell.append((rng.choice(OPS), inp))
    return cell


def architecture(normal, reduce):
    """NB301's convert_genotype_to_config."""
    cfg = {}
    start = [0, 2, 5, 9]
    for name, cell in (("normal", normal), ("reduce", reduce)):
        for i in range(4):
            a, b = cell[2 * i], cell[2 * i + 1]
            for op, inp in (a, b):
                cfg[P + "edge_%s_%d" % (name, start[i] + inp)] = op
            if i >= 1:
                x, y = sorted([a[1], b[1]])
                cfg[P + "inputs_node_%s_%d" % (name, i + 2)] = "%d_%d" % (x, y)
    return cfg


def load_space():
    with open(SPACE) as f:
        doc = json.load(f)
    hps = {h["name"]: dict(h) for h in doc["hyperparameters"]}
    for name, (typ, lo, hi) in OVERRIDES.items():
        hps[name].update(type=typ, lower=lo, upper=hi, log=False)
    cond = {}
    for c in doc["conditions"]:
        vals = c["values"] if c["type"] == "IN" else [c["value"]]
        cond[c["child"]] = (c["parent"], vals)
    order = sorted(n for n in hps if n not in cond) + sorted(n for n in hps if n in cond)
    return [hps[n] for n in order], cond


def encode(hp, v):
    t = hp["type"]
    if t == "categorical":
        return float(hp["choices"].index(v))
    if t == "constant":
        return 0.0
    if t in ("uniform_float", "uniform_int"):
        lo, hi = np.float64(hp["lower"]), np.float64(hp["upper"])
        if t == "uniform_int":
            lo, hi = lo - 0.49999, hi + 0.49999
        x = np.float64(v)
        if hp.get("log"):
            x, lo, hi = log(x), log(lo), log(hi)
        return float(np.minimum(1.0, np.maximum(0.0, (x - lo) / (hi - lo))))
    if t == "normal_float":
        return float(log(v)) if hp.get("log") else float(v)
    raise ValueError(t)


def vector(space, cond, config):
    out = []
    for hp in space:
        name = hp["name"]
        if name not in config:
            parent, vals = cond[name]
            assert config.get(parent) not in vals, name
            out.append(-1.0)
            continue
        out.append(encode(hp, config[name]))
    return out


def main():
    space, cond = load_space()
    rng = random.Random(301)
    cells = [(n, nr[0], nr[1]) for n, nr in NAMED.items()]
    for k in range(20):
        cells.append(("random_%d" % k, random_cell(rng), random_cell(rng)))
    cases = []
    for name, normal, reduce in cells:
        config = dict(architecture(normal, reduce))
        config.update(TRAINING)
        vec = vector(space, cond, config)
        cases.append({
            "name": name,
            "genotype": {"normal": [{"op": o, "input": i} for o, i in normal],
                         "reduce": [{"op": o, "input": i} for o, i in reduce]},
            "vector": [float.hex(x) for x in vec],
        })
    doc = {"names": [h["name"] for h in space], "cases": cases}
    with open(OUT, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    alpha = doc["names"].index("SimpleTrainNode:mixup:alpha")
    print("wrote %s: %d cases; mixup:alpha %r" % (OUT, len(cases), float.fromhex(cases[0]["vector"][alpha])))


if __name__ == "__main__":
    main()
