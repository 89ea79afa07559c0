#!/usr/bin/python3
"""PyTorch reference for package darts: parameter counts, multiply-adds and
whole-network parity fixtures.

Run with /usr/bin/python3 (torch 1.13) from the repository root:

    /usr/bin/python3 scripts/torch_fixtures_darts.py [--counts-only]

It defines the DARTS reference modules (operations.py, model.py,
model_search.py of the DARTS code, written here in the same style and with
the same module names, so state_dict names match), prints parameter counts
and multiply-adds (the numbers darts_test.go asserts), writes
darts/testdata/names_*.txt.gz (state_dict names, shapes and order of three
full-size networks) and darts/testdata/{eval_cifar,search,eval_imagenet}.safetensors
(byte-identical on every run):

  state.<name>    every state_dict tensor (float32; num_batches_tracked int64),
                  except tensors listed in the metadata key "generated", which
                  are too big to store and are filled by splitmix64 (see gen())
  input, labels   the batch (labels int64); eval_imagenet's input is not
                  stored but generated: gen(input_seed, n, 1.0)
  logits_eval     logits in eval mode (running statistics), before training
  logits, logits_aux, loss   train-mode forward (loss = CE + 0.4 CE_aux)
  grad.<name>     gradients of selected parameters; grad.input of the input
                  (stored input only)
  post.<name>     selected BN running statistics after the train-mode forward
The computation runs in float64; stored values are float32.
"""
import json
import struct
import sys
from collections import OrderedDict, namedtuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

Genotype = namedtuple('Genotype', 'normal normal_concat reduce reduce_concat')
PRIMITIVES = ['none', 'max_pool_3x3', 'avg_pool_3x3', 'skip_connect', 'sep_conv_3x3',
              'sep_conv_5x5', 'dil_conv_3x3', 'dil_conv_5x5']

DARTS_V2 = Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])
PERTNAS_EVOLUTIONARY = Genotype(normal=[('sep_conv_3x3', 0), ('skip_connect', 1), ('sep_conv_3x3', 0), ('sep_conv_5x5', 2), ('skip_connect', 0), ('sep_conv_5x5', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1)], normal_concat=range(2, 6), reduce=[('sep_conv_3x3', 0), ('max_pool_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_5x5', 2), ('max_pool_3x3', 0), ('sep_conv_5x5', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1)], reduce_concat=range(2, 6))

# ---------------------------------------------------------------- operations.py
OPS = {
    'none': lambda C, stride, affine: Zero(stride),
    'avg_pool_3x3': lambda C, stride, affine: nn.AvgPool2d(3, stride=stride, padding=1, count_include_pad=False),
    'max_pool_3x3': lambda C, stride, affine: nn.MaxPool2d(3, stride=stride, padding=1),
    'skip_connect': lambda C, stride, affine: Identity() if stride == 1 else FactorizedReduce(C, C, affine=affine),
    'sep_conv_3x3': lambda C, stride, affine: SepConv(C, C, 3, stride, 1, affine=affine),
    'sep_conv_5x5': lambda C, stride, affine: SepConv(C, C, 5, stride, 2, affine=affine),
    'dil_conv_3x3': lambda C, stride, affine: DilConv(C, C, 3, stride, 2, 2, affine=affine),
    'dil_conv_5x5': lambda C, stride, affine: DilConv(C, C, 5, stride, 4, 2, affine=affine),
}


class ReLUConvBN(nn.Module):
    def __init__(self, C_in, C_out, kernel_size, stride, padding, affine=True):
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(C_in, C_out, kernel_size, stride=stride, padding=padding, bias=False),
            nn.BatchNorm2d(C_out, affine=affine))

    def forward(self, x):
        return self.op(x)


class DilConv(nn.Module):
    def __init__(self, C_in, C_out, kernel_size, stride, padding, dilation, affine=True):
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(C_in, C_in, kernel_size, stride=stride, padding=padding, dilation=dilation, groups=C_in, bias=False),
            nn.Conv2d(C_in, C_out, kernel_size=1, padding=0, bias=False),
            nn.BatchNorm2d(C_out, affine=affine))

    def forward(self, x):
        return self.op(x)


class SepConv(nn.Module):
    def __init__(self, C_in, C_out, kernel_size, stride, padding, affine=True):
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(C_in, C_in, kernel_size, stride=stride, padding=padding, groups=C_in, bias=False),
            nn.Conv2d(C_in, C_in, kernel_size=1, padding=0, bias=False),
            nn.BatchNorm2d(C_in, affine=affine),
            nn.ReLU(inplace=False),
            nn.Conv2d(C_in, C_in, kernel_size, stride=1, padding=padding, groups=C_in, bias=False),
            nn.Conv2d(C_in, C_out, kernel_size=1, padding=0, bias=False),
            nn.BatchNorm2d(C_out, affine=affine))

    def forward(self, x):
        return self.op(x)


class Identity(nn.Module):
    def forward(self, x):
        return x


class Zero(nn.Module):
    def __init__(self, stride):
        super().__init__()
        self.stride = stride

    def forward(self, x):
        if self.stride == 1:
            return x.mul(0.)
        return x[:, :, ::self.stride, ::self.stride].mul(0.)


class FactorizedReduce(nn.Module):
    def __init__(self, C_in, C_out, affine=True):
        super().__init__()
        assert C_out % 2 == 0
        self.relu = nn.ReLU(inplace=False)
        self.conv_1 = nn.Conv2d(C_in, C_out // 2, 1, stride=2, padding=0, bias=False)
        self.conv_2 = nn.Conv2d(C_in, C_out // 2, 1, stride=2, padding=0, bias=False)
        self.bn = nn.BatchNorm2d(C_out, affine=affine)

    def forward(self, x):
        x = self.relu(x)
        out = torch.cat([self.conv_1(x), self.conv_2(x[:, :, 1:, 1:])], dim=1)
        return self.bn(out)


def drop_path(x, drop_prob):
    if drop_prob > 0.:
        keep_prob = 1. - drop_prob
        mask = torch.empty(x.size(0), 1, 1, 1, dtype=x.dtype).bernoulli_(keep_prob)
        x = x.div(keep_prob).mul(mask)
    return x

# ---------------------------------------------------------------- model.py (evaluation networks)


class Cell(nn.Module):
    def __init__(self, genotype, C_prev_prev, C_prev, C, reduction, reduction_prev):
        super().__init__()
        if reduction_prev:
            self.preprocess0 = FactorizedReduce(C_prev_prev, C)
        else:
            self.preprocess0 = ReLUConvBN(C_prev_prev, C, 1, 1, 0)
        self.preprocess1 = ReLUConvBN(C_prev, C, 1, 1, 0)
        if reduction:
            op_names, indices = zip(*genotype.reduce)
            concat = genotype.reduce_concat
        else:
            op_names, indices = zip(*genotype.normal)
            concat = genotype.normal_concat
        self._steps = len(op_names) // 2
        self._concat = list(concat)
        self.multiplier = len(concat)
        self._ops = nn.ModuleList()
        for name, index in zip(op_names, indices):
            stride = 2 if reduction and index < 2 else 1
            self._ops += [OPS[name](C, stride, True)]
        self._indices = indices

    def forward(self, s0, s1, drop_prob):
        s0 = self.preprocess0(s0)
        s1 = self.preprocess1(s1)
        states = [s0, s1]
        for i in range(self._steps):
            h1 = states[self._indices[2 * i]]
            h2 = states[self._indices[2 * i + 1]]
            op1 = self._ops[2 * i]
            op2 = self._ops[2 * i + 1]
            h1 = op1(h1)
            h2 = op2(h2)
            if self.training and drop_prob > 0.:
                if not isinstance(op1, Identity):
                    h1 = drop_path(h1, drop_prob)
                if not isinstance(op2, Identity):
                    h2 = drop_path(h2, drop_prob)
            states += [h1 + h2]
        return torch.cat([states[i] for i in self._concat], dim=1)


class AuxiliaryHeadCIFAR(nn.Module):
    def __init__(self, C, num_classes):
        super().__init__()
        self.features = nn.Sequential(
            nn.ReLU(inplace=True),
            nn.AvgPool2d(5, stride=3, padding=0, count_include_pad=False),
            nn.Conv2d(C, 128, 1, bias=False),
            nn.BatchNorm2d(128),
            nn.ReLU(inplace=True),
            nn.Conv2d(128, 768, 2, bias=False),
            nn.BatchNorm2d(768),
            nn.ReLU(inplace=True))
        self.classifier = nn.Linear(768, num_classes)

    def forward(self, x):
        x = self.features(x)
        return self.classifier(x.view(x.size(0), -1))


class AuxiliaryHeadImageNet(nn.Module):
    def __init__(self, C, num_classes):
        super().__init__()
        self.features = nn.Sequential(
            nn.ReLU(inplace=True),
            nn.AvgPool2d(5, stride=2, padding=0, count_include_pad=False),
            nn.Conv2d(C, 128, 1, bias=False),
            nn.BatchNorm2d(128),
            nn.ReLU(inplace=True),
            nn.Conv2d(128, 768, 2, bias=False),
            nn.ReLU(inplace=True))
        self.classifier = nn.Linear(768, num_classes)

    def forward(self, x):
        x = self.features(x)
        return self.classifier(x.view(x.size(0), -1))


class NetworkCIFAR(nn.Module):
    def __init__(self, C, num_classes, layers, auxiliary, genotype):
        super().__init__()
        self._layers = layers
        self._auxiliary = auxiliary
        self.drop_path_prob = 0.
        C_curr = 3 * C
        self.stem = nn.Sequential(nn.Conv2d(3, C_curr, 3, padding=1, bias=False), nn.BatchNorm2d(C_curr))
        C_prev_prev, C_prev, C_curr = C_curr, C_curr, C
        self.cells = nn.ModuleList()
        reduction_prev = False
        for i in range(layers):
            if i in [layers // 3, 2 * layers // 3]:
                C_curr *= 2
                reduction = True
            else:
                reduction = False
            cell = Cell(genotype, C_prev_prev, C_prev, C_curr, reduction, reduction_prev)
            reduction_prev = reduction
            self.cells += [cell]
            C_prev_prev, C_prev = C_prev, cell.multiplier * C_curr
            if i == 2 * layers // 3:
                C_to_auxiliary = C_prev
        if auxiliary:
            self.auxiliary_head = AuxiliaryHeadCIFAR(C_to_auxiliary, num_classes)
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(C_prev, num_classes)

    def forward(self, input):
        logits_aux = None
        s0 = s1 = self.stem(input)
        for i, cell in enumerate(self.cells):
            s0, s1 = s1, cell(s0, s1, self.drop_path_prob)
            if i == 2 * self._layers // 3 and self._auxiliary and self.training:
                logits_aux = self.auxiliary_head(s1)
        out = self.global_pooling(s1)
        return self.classifier(out.view(out.size(0), -1)), logits_aux


class NetworkImageNet(nn.Module):
    def __init__(self, C, num_classes, layers, auxiliary, genotype):
        super().__init__()
        self._layers = layers
        self._auxiliary = auxiliary
        self.drop_path_prob = 0.
        self.stem0 = nn.Sequential(
            nn.Conv2d(3, C // 2, kernel_size=3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(C // 2),
            nn.ReLU(inplace=True),
            nn.Conv2d(C // 2, C, 3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(C))
        self.stem1 = nn.Sequential(
            nn.ReLU(inplace=True),
            nn.Conv2d(C, C, 3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(C))
        C_prev_prev, C_prev, C_curr = C, C, C
        self.cells = nn.ModuleList()
        reduction_prev = True
        for i in range(layers):
            if i in [layers // 3, 2 * layers // 3]:
                C_curr *= 2
                reduction = True
            else:
                reduction = False
            cell = Cell(genotype, C_prev_prev, C_prev, C_curr, reduction, reduction_prev)
            reduction_prev = reduction
            self.cells += [cell]
            C_prev_prev, C_prev = C_prev, cell.multiplier * C_curr
            if i == 2 * layers // 3:
                C_to_auxiliary = C_prev
        if auxiliary:
            self.auxiliary_head = AuxiliaryHeadImageNet(C_to_auxiliary, num_classes)
        self.global_pooling = nn.AvgPool2d(7)
        self.classifier = nn.Linear(C_prev, num_classes)

    def forward(self, input):
        logits_aux = None
        s0 = self.stem0(input)
        s1 = self.stem1(s0)
        for i, cell in enumerate(self.cells):
            s0, s1 = s1, cell(s0, s1, self.drop_path_prob)
            if i == 2 * self._layers // 3 and self._auxiliary and self.training:
                logits_aux = self.auxiliary_head(s1)
        out = self.global_pooling(s1)
        return self.classifier(out.view(out.size(0), -1)), logits_aux

# ---------------------------------------------------------------- search network (model_search.py, PertNAS masks)


class SearchMixedOp(nn.Module):
    """DARTS MixedOp restricted to an edge's enabled ops: _ops is keyed by the
    DARTS PRIMITIVES index (none = 0), so the full supernet has DARTS's names.
    The edge output is sum(mask[o] * op_o(x)), plus zeros when none is a
    candidate; None when the edge holds nothing."""

    def __init__(self, C, stride, ops, has_none):
        super().__init__()
        self.stride = stride
        self.has_none = has_none
        self._ops = nn.ModuleDict()
        for o in ops:
            prim = PRIMITIVES[o + 1]
            op = OPS[prim](C, stride, False)
            if 'pool' in prim:
                op = nn.Sequential(op, nn.BatchNorm2d(C, affine=False))
            self._ops[str(o + 1)] = op

    def forward(self, x, mask):
        terms = [Zero(self.stride)(x)] if self.has_none else []
        for k, op in self._ops.items():
            terms.append(mask[int(k) - 1] * op(x))
        return sum(terms) if terms else None


class SearchCell(nn.Module):
    def __init__(self, config, C_prev_prev, C_prev, C, reduction, reduction_prev):
        super().__init__()
        self.reduction = reduction
        if reduction_prev:
            self.preprocess0 = FactorizedReduce(C_prev_prev, C, affine=False)
        else:
            self.preprocess0 = ReLUConvBN(C_prev_prev, C, 1, 1, 0, affine=False)
        self.preprocess1 = ReLUConvBN(C_prev, C, 1, 1, 0, affine=False)
        self._ops = nn.ModuleList()
        e = 0
        for i in range(4):
            for j in range(2 + i):
                stride = 2 if reduction and j < 2 else 1
                ops, has_none = config[e]
                self._ops.append(SearchMixedOp(C, stride, ops, has_none))
                e += 1
        self.multiplier = 4

    def forward(self, s0, s1, masks):
        s0 = self.preprocess0(s0)
        s1 = self.preprocess1(s1)
        states = [s0, s1]
        offset = 0
        for i in range(4):
            terms = []
            for j, h in enumerate(states):
                t = self._ops[offset + j](h, masks[offset + j])
                if t is not None:
                    terms.append(t)
            offset += len(states)
            if not terms:
                terms = [Zero(2 if self.reduction else 1)(s1 if not self.reduction else s0)]
            states.append(sum(terms))
        return torch.cat(states[-4:], dim=1)


class SearchNetwork(nn.Module):
    def __init__(self, C, num_classes, layers, config):
        super().__init__()
        self._layers = layers
        C_curr = 3 * C
        self.stem = nn.Sequential(nn.Conv2d(3, C_curr, 3, padding=1, bias=False), nn.BatchNorm2d(C_curr))
        C_prev_prev, C_prev, C_curr = C_curr, C_curr, C
        self.cells = nn.ModuleList()
        reduction_prev = False
        for i in range(layers):
            if i in [layers // 3, 2 * layers // 3]:
                C_curr *= 2
                reduction = True
            else:
                reduction = False
            cell = SearchCell(config, C_prev_prev, C_prev, C_curr, reduction, reduction_prev)
            reduction_prev = reduction
            self.cells += [cell]
            C_prev_prev, C_prev = C_prev, cell.multiplier * C_curr
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(C_prev, num_classes)
        self.masks = [[1.0] * 7 for _ in range(14)]

    def forward(self, input):
        s0 = s1 = self.stem(input)
        for cell in self.cells:
            s0, s1 = s1, cell(s0, s1, self.masks)
        out = self.global_pooling(s1)
        return self.classifier(out.view(out.size(0), -1))

# ---------------------------------------------------------------- counting


def count_params(model):
    return sum(p.numel() for n, p in model.named_parameters() if 'auxiliary' not in n)


def count_madds(model, shape):
    """Multiply-adds of convolutions and linear layers for one image."""
    total = [0]

    def hook(m, inp, out):
        if isinstance(m, nn.Conv2d):
            total[0] += out.numel() // out.shape[0] * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]
        elif isinstance(m, nn.Linear):
            total[0] += m.in_features * m.out_features
    hs = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, *shape))
    for h in hs:
        h.remove()
    return total[0]

# ---------------------------------------------------------------- fixtures


def splitmix(seed, n):
    """n uniform [0,1) values: the splitmix64 finaliser of seed + i*0x9E3779B97F4A7C15
    for i = 1..n, top 24 bits (darts/fixture_test.go's splitmix)."""
    with np.errstate(over='ignore'):
        x = (np.uint64(seed) + np.arange(1, n + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15))
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        x = x ^ (x >> np.uint64(31))
    return (x >> np.uint64(40)).astype(np.float64) / float(1 << 24)


def gen(seed, n, bound):
    """The generated-tensor rule shared with the Go test: uniform(-bound, bound)."""
    return (splitmix(seed, n) * 2 - 1) * bound


GEN_LIMIT = 8192  # tensors with more elements are generated, not stored


def randomise(model, seed):
    """Fixed random weights: PyTorch default init (seeded) for weights; BN
    affine and running statistics perturbed so that loading them matters.
    Big tensors come from gen() and are listed in the returned dict."""
    torch.manual_seed(seed)
    generated = {}
    sd = model.state_dict()
    with torch.no_grad():
        for k, (name, t) in enumerate(sd.items()):
            if name.endswith('num_batches_tracked'):
                t.fill_(3 + k % 5)
                continue
            n = t.numel()
            if name.endswith('running_var'):
                t.copy_(0.5 + torch.rand(t.shape))
            elif name.endswith('running_mean') or (name.endswith('bias') and t.dim() == 1):
                t.copy_(0.2 * (torch.rand(t.shape) - 0.5))
            elif t.dim() == 1:  # BN weight
                t.copy_(0.75 + 0.5 * torch.rand(t.shape))
            if n > GEN_LIMIT:
                fan_in = n // t.shape[0]
                bound = 1.0 / np.sqrt(fan_in)
                s = 1000 + k
                t.copy_(torch.from_numpy(gen(s, n, bound)).view(t.shape))
                generated[name] = {'seed': s, 'bound': bound}
    return generated


def st_write(path, tensors, metadata):
    """Minimal safetensors writer (F32 and I64)."""
    header = {'__metadata__': metadata}
    blobs = []
    off = 0
    for name, arr in tensors.items():
        arr = np.ascontiguousarray(arr).reshape(np.shape(arr))
        if arr.dtype == np.int64:
            dt = 'I64'
        else:
            arr = arr.astype('<f4')
            dt = 'F32'
        b = arr.tobytes()
        header[name] = {'dtype': dt, 'shape': list(arr.shape), 'data_offsets': [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(',', ':')).encode()
    h += b' ' * ((8 - len(h) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def run_fixture(model, x, labels, grad_names, post_names, generated, aux_weight, path, meta, store_input=True):
    out = OrderedDict()
    for name, t in model.state_dict().items():
        if name in generated:
            continue
        arr = t.detach().numpy().copy()  # numpy() shares memory: copy before training updates it
        out['state.' + name] = arr.astype(np.int64) if name.endswith('num_batches_tracked') else arr
    if store_input:
        out['input'] = x.numpy()
    out['labels'] = labels.numpy().astype(np.int64)
    model.eval()
    with torch.no_grad():
        le = model(x)
        le = le[0] if isinstance(le, tuple) else le
    out['logits_eval'] = le.numpy()
    model.train()
    xin = x.clone().requires_grad_(True)
    res = model(xin)
    if isinstance(res, tuple):
        logits, aux = res
    else:
        logits, aux = res, None
    loss = F.cross_entropy(logits, labels)
    if aux is not None:
        loss = loss + aux_weight * F.cross_entropy(aux, labels)
        out['logits_aux'] = aux.detach().numpy()
    loss.backward()
    out['logits'] = logits.detach().numpy()
    out['loss'] = np.array([loss.item()])
    if store_input:
        out['grad.input'] = xin.grad.numpy()
    params = dict(model.named_parameters())
    for n in grad_names:
        out['grad.' + n] = params[n].grad.numpy()
    sd = model.state_dict()
    for n in post_names:
        out['post.' + n] = sd[n].numpy().copy()
    meta = dict(meta)
    meta['generated'] = json.dumps(generated, sort_keys=True)
    meta['grads'] = json.dumps(grad_names)
    st_write(path, out, meta)
    return loss.item()


def eval_fixture(path):
    torch.set_default_dtype(torch.float64)
    C, L, classes = 8, 4, 10
    torch.manual_seed(1)
    model = NetworkCIFAR(C, classes, L, True, DARTS_V2).double()
    generated = randomise(model, 1)
    torch.manual_seed(2)
    # Batch 4: with 2 samples the auxiliary head's BN over 1x1 maps (2 values
    # per channel) is so ill-conditioned that float32 PyTorch itself is 2e-4
    # off its float64 gradients; with 4 it is 1e-5.
    x = torch.randn(4, 3, 32, 32)
    labels = torch.tensor([3, 7, 0, 9])
    grads = ['stem.0.weight', 'stem.1.weight',
             'cells.0.preprocess0.op.1.weight', 'cells.0._ops.0.op.1.weight', 'cells.0._ops.0.op.7.bias',
             'cells.0._ops.7.op.1.weight', 'cells.0._ops.7.op.2.weight',
             'cells.1.preprocess1.op.2.weight', 'cells.2.preprocess0.conv_1.weight', 'cells.2.preprocess0.conv_2.weight',
             'cells.3.preprocess0.bn.bias', 'cells.3._ops.4.op.5.weight',
             'auxiliary_head.features.3.weight', 'auxiliary_head.features.6.weight',
             'auxiliary_head.classifier.weight', 'auxiliary_head.classifier.bias',
             'classifier.weight', 'classifier.bias']
    post = ['stem.1.running_mean', 'stem.1.running_var', 'stem.1.num_batches_tracked',
            'cells.3._ops.1.op.7.running_var', 'auxiliary_head.features.6.running_mean']
    loss = run_fixture(model, x, labels, grads, post, generated, 0.4, path,
                       {'C': str(C), 'layers': str(L), 'classes': str(classes), 'auxiliary_weight': '0.4',
                        'genotype': 'DARTS_V2'})
    print(f'{path}: loss {loss:.6f}')


def imagenet_fixture(path):
    """NetworkImageNet (PERTNAS_EVOLUTIONARY, C 8, 3 cells, auxiliary head) on
    two 224x224 images generated by gen(input_seed, ..., 1) (not stored)."""
    torch.set_default_dtype(torch.float64)
    C, L, classes = 8, 3, 10
    torch.manual_seed(5)
    model = NetworkImageNet(C, classes, L, True, PERTNAS_EVOLUTIONARY).double()
    generated = randomise(model, 5)
    seed = 77
    x = torch.from_numpy(gen(seed, 2 * 3 * 224 * 224, 1.0)).view(2, 3, 224, 224)
    labels = torch.tensor([4, 1])
    grads = ['stem0.0.weight', 'stem0.1.weight', 'stem0.3.weight', 'stem0.4.bias', 'stem1.1.weight', 'stem1.2.weight',
             'cells.0.preprocess0.conv_1.weight', 'cells.0._ops.3.op.5.weight', 'cells.1._ops.0.op.1.weight',
             'cells.2.preprocess0.conv_2.weight', 'auxiliary_head.features.3.bias',
             'auxiliary_head.classifier.weight', 'classifier.weight', 'classifier.bias']
    post = ['stem0.1.running_mean', 'stem1.2.running_var', 'auxiliary_head.features.3.running_var']
    loss = run_fixture(model, x, labels, grads, post, generated, 0.4, path,
                       {'C': str(C), 'layers': str(L), 'classes': str(classes), 'auxiliary_weight': '0.4',
                        'genotype': 'PERTNAS_EVOLUTIONARY', 'input_seed': str(seed)}, store_input=False)
    print(f'{path}: loss {loss:.6f}')


# Search fixture configuration: (enabled ops as indices into the 7 ops, has_none)
SEARCH_CONFIG = [
    ([0, 3], True),            # 0: max_pool + sep3 + none
    ([1, 2, 4], False),        # 1: avg_pool, skip, sep5
    ([5], True),               # 2
    ([6, 2], False),           # 3: dil5, skip (creation order follows the list sorted)
    ([], True),                # 4: none only
    ([0, 1, 2, 3, 4, 5, 6], True),  # 5: everything
    ([], False),               # 6: disabled
    ([2], False),              # 7
    ([3, 5], True),            # 8
    ([4], False),              # 9
    ([0], True),               # 10
    ([2, 6], False),           # 11
    ([1, 3], True),            # 12
    ([5], False),              # 13
]
# (edge, op) pairs whose mask is 0 in the fixture
SEARCH_MASKED = [(0, 3), (5, 0), (5, 4), (8, 3), (8, 5), (12, 1)]


def search_fixture(path):
    torch.set_default_dtype(torch.float64)
    C, L, classes = 4, 3, 10
    config = [(sorted(ops), none) for ops, none in SEARCH_CONFIG]
    torch.manual_seed(3)
    model = SearchNetwork(C, classes, L, config).double()
    for e, o in SEARCH_MASKED:
        model.masks[e][o] = 0.0
    generated = randomise(model, 3)
    torch.manual_seed(4)
    x = torch.randn(2, 3, 16, 16)
    labels = torch.tensor([1, 8])
    grads = ['stem.0.weight', 'stem.1.bias',
             'cells.0.preprocess0.op.1.weight', 'cells.0._ops.0._ops.4.op.2.weight',
             'cells.0._ops.1._ops.5.op.6.weight', 'cells.0._ops.3._ops.7.op.1.weight',
             'cells.1._ops.1._ops.3.conv_1.weight', 'cells.1._ops.3._ops.3.conv_2.weight',
             'cells.2.preprocess0.conv_2.weight', 'cells.2._ops.5._ops.7.op.2.weight',
             'cells.2._ops.12._ops.4.op.6.weight',
             'cells.2._ops.0._ops.4.op.1.weight',  # masked: zero gradient
             'classifier.weight', 'classifier.bias']
    post = ['cells.0._ops.0._ops.1.1.running_mean', 'cells.1._ops.10._ops.1.1.running_var',
            'cells.2._ops.1._ops.2.1.running_var', 'cells.2.preprocess1.op.2.running_mean']
    cfg = [{'ops': ops, 'none': none} for ops, none in config]
    loss = run_fixture(model, x, labels, grads, post, generated, 0.0, path,
                       {'C': str(C), 'layers': str(L), 'classes': str(classes),
                        'config': json.dumps(cfg), 'masked': json.dumps(SEARCH_MASKED)})
    print(f'{path}: loss {loss:.6f}')


def write_names(path, model):
    """The state_dict names, shapes and order of model, one 'name shape' line each, gzipped."""
    import gzip
    lines = [f"{n} {'x'.join(str(d) for d in t.shape)}" for n, t in model.state_dict().items()]
    with gzip.GzipFile(path, 'wb', mtime=0) as f:
        f.write(('\n'.join(lines) + '\n').encode())


def names():
    torch.set_default_dtype(torch.float32)
    write_names('darts/testdata/names_cifar_darts_v2.txt.gz', NetworkCIFAR(36, 10, 20, True, DARTS_V2))
    write_names('darts/testdata/names_imagenet_evolutionary.txt.gz', NetworkImageNet(48, 1000, 14, True, PERTNAS_EVOLUTIONARY))
    write_names('darts/testdata/names_supernet_l5.txt.gz', SearchNetwork(16, 10, 5, [(list(range(7)), True)] * 14))


def counts():
    torch.set_default_dtype(torch.float32)
    rows = [
        ('CIFAR eval DARTS_V2 L=20 C=36', NetworkCIFAR(36, 10, 20, True, DARTS_V2), (3, 32, 32)),
        ('CIFAR eval PERTNAS_EVOLUTIONARY L=20 C=36', NetworkCIFAR(36, 10, 20, True, PERTNAS_EVOLUTIONARY), (3, 32, 32)),
        ('ImageNet DARTS_V2 L=14 C=48 1000 classes', NetworkImageNet(48, 1000, 14, True, DARTS_V2), (3, 224, 224)),
        ('ImageNet PERTNAS_EVOLUTIONARY L=14 C=48 1000 classes', NetworkImageNet(48, 1000, 14, True, PERTNAS_EVOLUTIONARY), (3, 224, 224)),
    ]
    full = [(list(range(7)), True)] * 14
    rows += [
        ('search supernet all ops L=8 C=16', SearchNetwork(16, 10, 8, full), (3, 32, 32)),
        ('search supernet all ops L=5 C=16', SearchNetwork(16, 10, 5, full), (3, 32, 32)),
    ]
    for name, m, shape in rows:
        aux = sum(p.numel() for n, p in m.named_parameters() if 'auxiliary' in n)
        print(f'{name}: params {count_params(m)} (aux head {aux}), multiply-adds {count_madds(m, shape)}')


if __name__ == '__main__':
    counts()
    if '--counts-only' not in sys.argv:
        names()
        eval_fixture('darts/testdata/eval_cifar.safetensors')
        search_fixture('darts/testdata/search.safetensors')
        imagenet_fixture('darts/testdata/eval_imagenet.safetensors')
