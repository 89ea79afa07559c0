#!/usr/bin/env python3
"""PyTorch side of scripts/gpu-check.sh: training images/s of the two
reference networks on the GPU, to compare with cuda/gpubench.

    python3 scripts/bench_gpu_torch.py [--steps 20] [--warmup 5] [--nets search5,eval20]
                                       [--modes eager,channels_last_amp]

Networks (the same as cuda/gpubench and darts/bench_test.go), built from the
DARTS-style reference modules of scripts/torch_fixtures_darts.py (looked up
next to this file), random 32x32 inputs, 10 classes, SGD lr 0.025 momentum 0.9
weight decay 3e-4:
  search5  PertNAS search network, 5 cells, C=16, every edge {sep_conv_3x3, none},
           edge 0 all 7 ops + none, BN affine=False in the cells, batch 256
  eval20   CIFAR evaluation network, 20 cells, C=36, PERTNAS_EVOLUTIONARY cell,
           auxiliary head (loss weight 0.4), batch 128
Modes:
  eager              fp32 NCHW, cudnn.benchmark on, PyTorch's default TF32 setting
                     for cuDNN convolutions (allowed)
  channels_last_amp  channels_last memory format, autocast fp16 + GradScaler
                     (the setting PertNAS used)
Every step reads the loss back (loss.item()), as the Go benchmark does.
Prints one line per result: RESULT net=<net> mode=<mode> images_per_s=<x> loss=<l>
"""
import argparse
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_fixtures_darts as darts  # noqa: E402  (the reference modules)

CLASSES = 10
SEP_CONV_3X3 = 3  # op index without none (darts.SepConv3x3)


def search5():
    config = [([SEP_CONV_3X3], True)] * 14
    config[0] = (list(range(7)), True)
    return darts.SearchNetwork(16, CLASSES, 5, config), 256, False


def eval20():
    return darts.NetworkCIFAR(36, CLASSES, 20, True, darts.PERTNAS_EVOLUTIONARY), 128, True


NETS = {'search5': search5, 'eval20': eval20}


def bench(name, mode, steps, warmup):
    torch.manual_seed(0)
    model, batch, has_aux = NETS[name]()
    dev = torch.device('cuda')
    model = model.to(dev).train()
    x = torch.randn(batch, 3, 32, 32, device=dev)
    y = torch.randint(0, CLASSES, (batch,), device=dev)
    amp = mode == 'channels_last_amp'
    if amp:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=0.025, momentum=0.9, weight_decay=3e-4)
    if hasattr(torch, 'amp') and hasattr(torch.amp, 'GradScaler'):
        scaler = torch.amp.GradScaler('cuda', enabled=amp)
    else:
        scaler = torch.cuda.amp.GradScaler(enabled=amp)

    def step():
        opt.zero_grad(set_to_none=True)
        with torch.autocast('cuda', dtype=torch.float16, enabled=amp):
            out = model(x)
            if has_aux:
                logits, aux = out
                loss = F.cross_entropy(logits, y) + 0.4 * F.cross_entropy(aux, y)
            else:
                loss = F.cross_entropy(out, y)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        return loss.item()

    for _ in range(warmup):
        step()
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(steps):
        loss = step()
    torch.cuda.synchronize()
    sec = time.perf_counter() - t0
    print(f'RESULT net={name} mode={mode} images_per_s={batch * steps / sec:.1f} loss={loss:.4f}', flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--steps', type=int, default=20)
    ap.add_argument('--warmup', type=int, default=5)
    ap.add_argument('--nets', default='search5,eval20')
    ap.add_argument('--modes', default='eager,channels_last_amp')
    a = ap.parse_args()
    if not torch.cuda.is_available():
        sys.exit('bench_gpu_torch: no CUDA device visible to PyTorch')
    torch.backends.cudnn.benchmark = True
    print(f'torch {torch.__version__}, cuDNN {torch.backends.cudnn.version()}, {torch.cuda.get_device_name(0)}', flush=True)
    for name in a.nets.split(','):
        for mode in a.modes.split(','):
            bench(name, mode, a.steps, a.warmup)


if __name__ == '__main__':
    main()
