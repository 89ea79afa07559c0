#!/usr/bin/env python3
"""Writes nb301/testdata: small XGBoost surrogate models in every form the
nb301 package reads, and the predictions xgboost itself makes for them.

Run with /usr/bin/python3 (Debian python3-xgboost 1.7, numpy) from the repo
root:  /usr/bin/python3 scripts/nb301_fixtures.py

Files written (all under nb301/testdata/):
  xgb_{a,b}.pkl      pickle.dump(Booster) as NB301 ships its surrogate members
                     (protocol 3, the Python 3.6/3.7 default): the Booster's
                     state dict holds 'handle' = bytearray in the format of
                     XGBoosterSerializeToBuffer of xgboost 1.0-1.5:
                     b'CONFIG-offset:' + int64 offset + legacy binary model +
                     JSON config. xgboost 1.7 itself serialises to UBJSON, so
                     the buffer is assembled here from save_raw('deprecated')
                     and save_config(); the script checks that xgboost 1.7
                     unpickles it and predicts the same numbers.
  xgb_a_p{2,4,5}.pkl the same Booster pickled with protocols 2, 4 and 5.
  xgb_{a,b}.json     Booster.save_model('*.json') (XGBoost JSON model).
  xgb_a.bin          the legacy binary model alone (save_raw('deprecated')).
  xgb_a_ubj.pkl      plain pickle.dump(Booster) with xgboost 1.7 (UBJSON
                     memory snapshot), and xgb_a.ubj: save_model('*.ubj').
  lgb_runtime.pkl    a pickle shaped like pickle.dump(lightgbm.Booster): state
                     'handle' = the LightGBM model text of lgb_runtime.txt
                     (lightgbm is not installable here; the module is faked so
                     that the pickle names lightgbm.basic.Booster).
  predictions.json   the feature rows (null = NaN) and xgboost's predictions.
"""
import collections
import json
import os
import pickle
import struct
import sys
import types

import numpy as np
import xgboost as xgb

OUT = os.path.join("nb301", "testdata")
NFEAT = 56


def make_data(rng, n):
    """Rows shaped like NB301 vectors: op codes 0..6 with -1 for inactive
    edges, fractions in [0, 1], and some NaN so that default directions are
    learned."""
    X = np.empty((n, NFEAT), dtype=np.float64)
    for j in range(NFEAT):
        if j % 3 == 0:
            X[:, j] = rng.random(n)
        else:
            X[:, j] = rng.integers(0, 7, n)
            X[rng.random(n) < 0.3, j] = -1
    X[rng.random((n, NFEAT)) < 0.08] = np.nan
    Xf = np.nan_to_num(X, nan=0.5)
    y = 90 + 2 * np.sin(Xf[:, 1]) + Xf[:, 2] * 0.3 - (Xf[:, 3] > 0.5) + 0.5 * Xf[:, 7] * Xf[:, 9]
    y += 0.1 * rng.standard_normal(n)
    return X, y


def train(seed, base_score):
    rng = np.random.default_rng(seed)
    X, y = make_data(rng, 500)
    params = {
        "objective": "reg:squarederror",
        "max_depth": 4,
        "eta": 0.3,
        "seed": seed,
        "tree_method": "exact",
        "base_score": base_score,
    }
    return xgb.train(params, xgb.DMatrix(X, label=y), num_boost_round=20)


def legacy_buffer(bst):
    """XGBoosterSerializeToBuffer output of xgboost 1.0-1.5."""
    raw = bytes(bst.save_raw("deprecated"))
    config = bst.save_config().encode()
    return b"CONFIG-offset:" + struct.pack("<q", len(raw)) + raw + config


def dump_legacy_pickle(bst, path, protocol):
    buf = legacy_buffer(bst)
    orig = xgb.Booster.__getstate__

    def getstate(self):
        this = self.__dict__.copy()
        this["handle"] = bytearray(buf)
        return this

    xgb.Booster.__getstate__ = getstate
    try:
        with open(path, "wb") as f:
            pickle.dump(bst, f, protocol=protocol)
    finally:
        xgb.Booster.__getstate__ = orig


def fixed_rows():
    rng = np.random.default_rng(12345)
    X, _ = make_data(rng, 8)
    X[6, :] = -1.0
    X[7, ::2] = np.nan
    return X


def lgb_pickle(text, path):
    """Pickle an object whose class is lightgbm.basic.Booster and whose state
    dict is laid out like lightgbm.Booster.__getstate__'s."""
    lgbm = types.ModuleType("lightgbm")
    basic = types.ModuleType("lightgbm.basic")

    class Booster:
        pass

    Booster.__module__ = "lightgbm.basic"
    Booster.__qualname__ = "Booster"
    basic.Booster = Booster
    lgbm.basic = basic
    sys.modules["lightgbm"] = lgbm
    sys.modules["lightgbm.basic"] = basic
    b = Booster()
    b.__dict__.update({
        "handle": text,
        "network": False,
        "_train_data_name": "training",
        "_Booster__need_reload_eval_info": True,
        "_Booster__attr": {},
        "_Booster__set_objective_to_none": False,
        "best_iteration": 0,
        "best_score": collections.defaultdict(collections.OrderedDict),
        "params": {"objective": "regression", "num_leaves": 3, "verbose": -1},
        "pandas_categorical": None,
        "_Booster__inner_predict_buffer": [None],
    })
    with open(path, "wb") as f:
        pickle.dump(b, f, protocol=3)


def main():
    os.makedirs(OUT, exist_ok=True)
    X = fixed_rows()
    dm = xgb.DMatrix(X)
    preds = {}
    for name, seed, base in (("xgb_a", 1, 0.5), ("xgb_b", 2, 90.0)):
        bst = train(seed, base)
        p = bst.predict(dm)
        assert p.dtype == np.float32
        preds[name] = [float(v) for v in p]
        bst.save_model(os.path.join(OUT, name + ".json"))
        dump_legacy_pickle(bst, os.path.join(OUT, name + ".pkl"), 3)
        if name == "xgb_a":
            # What pickle.dump(booster) gives with this xgboost (1.7): a
            # UBJSON memory snapshot; and the UBJSON model file.
            with open(os.path.join(OUT, name + "_ubj.pkl"), "wb") as f:
                pickle.dump(bst, f)
            bst.save_model(os.path.join(OUT, name + ".ubj"))
            for proto in (2, 4, 5):
                dump_legacy_pickle(bst, os.path.join(OUT, "%s_p%d.pkl" % (name, proto)), proto)
            with open(os.path.join(OUT, name + ".bin"), "wb") as f:
                f.write(bytes(bst.save_raw("deprecated")))
        # Check: xgboost itself reads every file back to the same predictions.
        files = [name + ".pkl", name + ".json"]
        if name == "xgb_a":
            files += ["xgb_a_p2.pkl", "xgb_a_p4.pkl", "xgb_a_p5.pkl", "xgb_a.bin", "xgb_a_ubj.pkl", "xgb_a.ubj"]
        for fn in files:
            path = os.path.join(OUT, fn)
            if fn.endswith(".pkl"):
                with open(path, "rb") as f:
                    back = pickle.load(f)
            else:
                back = xgb.Booster(model_file=path)
            q = back.predict(dm)
            assert np.array_equal(p, q), (fn, p, q)
    with open(os.path.join(OUT, "lgb_runtime.txt")) as f:
        lgb_pickle(f.read(), os.path.join(OUT, "lgb_runtime.pkl"))
    rows = [[None if np.isnan(v) else float(v) for v in row] for row in X]
    with open(os.path.join(OUT, "predictions.json"), "w") as f:
        json.dump({"xgboost_version": xgb.__version__, "features": rows, "predictions": preds}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
