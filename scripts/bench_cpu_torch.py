#!/usr/bin/python3
"""PyTorch CPU training throughput of the two reference networks of the CPU
engine (issue 3), the peer of darts/bench_test.go (BenchmarkSearch5Train,
BenchmarkEval20Train): random 32x32 inputs, batch 64, 10 classes, SGD lr 0.025
momentum 0.9 weight decay 3e-4, 2 threads.

search5: PertNAS expansion-phase search network, 5 cells, C=16, BN
         affine=False in the cells, every edge {sep_conv_3x3, none}, edge 0
         all 7 ops + none; a mixed op sums its candidates (all masks 1).
eval20:  NetworkCIFAR, 20 cells, C=36, PERTNAS_EVOLUTIONARY cell, auxiliary
         head (loss weight 0.4), drop path off.

The networks are built from the DARTS-style reference modules of
scripts/torch_fixtures_darts.py (the ones the PyTorch parity fixtures use),
as scripts/bench_gpu_torch.py does.

Usage: bench_cpu_torch.py [search5|eval20|all] [--steps N] [--warmup N]
Prints one line per network:
"<name> torch images/s <value> images/cpu-s <value> (<steps> steps, <sec> s/step)",
images/cpu-s counting the CPU time of all the process's threads.
"""
import argparse
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_fixtures_darts as darts  # noqa: E402  (the reference modules)

SEP_CONV_3X3 = 3  # op index without none


def search5():
    config = [([SEP_CONV_3X3], True)] * 14
    config[0] = (list(range(7)), True)
    return darts.SearchNetwork(16, 10, 5, config), False


def eval20():
    return darts.NetworkCIFAR(36, 10, 20, True, darts.PERTNAS_EVOLUTIONARY), True


def bench(name, build, steps, warmup):
    torch.manual_seed(0)
    model, has_aux = build()
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.025, momentum=0.9, weight_decay=3e-4)
    x = torch.randn(64, 3, 32, 32)
    y = torch.randint(0, 10, (64,))

    def step():
        opt.zero_grad()
        out = model(x)
        if has_aux:
            logits, aux = out
            loss = F.cross_entropy(logits, y) + 0.4 * F.cross_entropy(aux, y)
        else:
            loss = F.cross_entropy(out, y)
        loss.backward()
        opt.step()

    for _ in range(warmup):
        step()
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(steps):
        step()
    sec = (time.perf_counter() - t0) / steps
    cpu = (time.process_time() - c0) / steps
    print(f"{name} torch images/s {64 / sec:.2f} images/cpu-s {64 / cpu:.2f} ({steps} steps, {sec:.3f} s/step)", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("network", nargs="?", default="all", choices=["search5", "eval20", "all"])
    ap.add_argument("--steps", type=int, default=5, help="timed steps per network")
    ap.add_argument("--warmup", type=int, default=1, help="untimed steps first")
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    nets = {"search5": search5, "eval20": eval20}
    for name in (nets if args.network == "all" else [args.network]):
        bench(name, nets[name], args.steps, args.warmup)


if __name__ == "__main__":
    main()
