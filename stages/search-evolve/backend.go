package main

import (
	"cmp"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"

	"pertnas/cuda"
	"pertnas/nn"
	"pertnas/pertnas"
	"pertnas/searchnet"
)

// openBuilder opens the networks and training behind the search: package
// searchnet on the CPU backend, or on the CUDA backend for --device cuda,
// cuda:N or auto (the GPU when its libraries and a device are usable, else
// the CPU; the choice is logged).
var openBuilder pertnas.OpenBuilder = openSearchBackend

func openSearchBackend(cfg pertnas.Config, env pertnas.Env) (pertnas.Builder, error) {
	dev := cfg.Device
	if dev == "auto" {
		if ok, why := cuda.Available(); ok {
			slog.Info("device auto: using the GPU", "gpu", why)
			dev = "cuda"
		} else {
			slog.Info("device auto: using the CPU", "why no GPU", why)
			dev = "cpu"
		}
	}
	if dev == "cpu" {
		if cfg.Precision != "" {
			return nil, fmt.Errorf("precision %s needs a GPU (--device cuda); the CPU runs fp32", cfg.Precision)
		}
		cfg.Device = "cpu"
		return searchnet.Open(cfg, env)
	}
	ordinal, err := cudaOrdinal(dev)
	if err != nil {
		return nil, err
	}
	prec, tf32, err := cuda.ParsePrecision(cmp.Or(cfg.Precision, "fp32"))
	if err != nil {
		return nil, err
	}
	opts := searchnet.FromConfig(cfg, env)
	opts.NewBackend = gpuWorkers(ordinal, cuda.Options{Precision: prec, TF32: tf32})
	opts.LossScaling = prec.NeedsLossScaling()
	return searchnet.New(opts)
}

// cudaOrdinal parses "cuda" (device 0) or "cuda:N".
func cudaOrdinal(dev string) (int, error) {
	if dev == "cuda" {
		return 0, nil
	}
	n, err := strconv.Atoi(strings.TrimPrefix(dev, "cuda:"))
	if !strings.HasPrefix(dev, "cuda:") || err != nil || n < 0 {
		return 0, fmt.Errorf("device %q: want cpu, auto, cuda or cuda:N", dev)
	}
	return n, nil
}

// gpuWorkers hands each worker one CUDA backend on the given device, made on
// first use and reused by the worker's successive networks.
func gpuWorkers(ordinal int, opts cuda.Options) func(worker int) (nn.Backend, func(), error) {
	var mu sync.Mutex
	backends := map[int]nn.Backend{}
	return func(worker int) (nn.Backend, func(), error) {
		mu.Lock()
		defer mu.Unlock()
		if b, ok := backends[worker]; ok {
			return b, nil, nil
		}
		b, err := cuda.New(ordinal, opts)
		if err != nil {
			return nil, nil, err
		}
		backends[worker] = b
		return b, nil, nil
	}
}
