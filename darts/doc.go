// Package darts builds the networks of the DARTS search space on package nn
// (docs/spec/darts.md): the operations, the cells, the PertNAS search network
// (one cell type, per-edge candidate op sets with run-time 0/1 masks and an
// optional none), the CIFAR evaluation network (auxiliary head, drop path)
// and the ImageNet mobile-setting network.
//
// Every network registers its tensors in an nn.Scope under the state_dict
// names of the DARTS reference PyTorch code (NetworkCIFAR, NetworkImageNet,
// and model_search.Network for the search network), in PyTorch's order, so a
// checkpoint written from Scope.StateDict loads with load_state_dict and the
// other way round. Parameter counts and multiply-adds equal the reference
// implementation's (scripts/torch_fixtures_darts.py prints them).
//
// Spatial sizes: every reduction halves the resolution with stride-2
// convolutions and FactorizedReduce, whose two paths only agree on even
// sizes, so the resolution entering each reduction cell (and the cell after
// it) must be even: CIFAR networks take 32x32 input (any multiple of 4), the
// ImageNet network 224x224. The auxiliary heads need at least 5x5 at their
// input (CIFAR 8x8 from 32x32 input; ImageNet 7x7 from 224x224).
package darts
