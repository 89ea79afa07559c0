package main

import (
	"pertnas/internal/stage/device"
	"pertnas/pertnas"
	"pertnas/train/supernet"
)

// openBuilder opens the networks and training behind the search: package
// supernet on the opened device (one backend per network on the CPU, one
// per worker on a GPU).
var openBuilder = openSearchBackend

func openSearchBackend(cfg pertnas.Config, env pertnas.Env, dev *device.Device) (pertnas.Builder, error) {
	opts := supernet.FromConfig(cfg, env)
	opts.NewBackend = dev.WorkerBackends()
	opts.LossScaling = dev.LossScaling()
	return supernet.New(opts)
}
