package main

import (
	"pertnas/internal/stage/device"
	"pertnas/pertnas"
	"pertnas/searchnet"
)

// openBuilder opens the networks and training behind the search: package
// searchnet on the opened device (one backend per network on the CPU, one
// per worker on a GPU).
var openBuilder = openSearchBackend

func openSearchBackend(cfg pertnas.Config, env pertnas.Env, dev *device.Device) (pertnas.Builder, error) {
	opts := searchnet.FromConfig(cfg, env)
	opts.NewBackend = dev.WorkerBackends()
	opts.LossScaling = dev.LossScaling()
	return searchnet.New(opts)
}
