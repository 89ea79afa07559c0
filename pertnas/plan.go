package pertnas

// Plan returns the work of a search with configuration cfg, per phase
// (expand summed over the members, coarse, fine, topology), as search.json
// reports it afterwards, for a network whose epoch is stepsPerEpoch SGD
// steps. Seconds are left 0: multiply the counts by measured step times to
// estimate a run's cost. The topology counts follow the seeded node order.
func Plan(cfg Config, stepsPerEpoch int) []PhaseCost {
	expand := PhaseCost{Phase: "expand",
		Builds:        cfg.Npop * NumEdges,
		Epochs:        cfg.Npop * NumEdges * cfg.ExpandEpochs,
		Perturbations: cfg.Npop * NumEdges * NumOps,
	}
	expand.Evaluations = cfg.Npop*NumEdges + expand.Perturbations
	expand.FinetuneSteps = expand.Perturbations * cfg.expandSteps()

	coarse := PhaseCost{Phase: "coarse", Builds: 1, Epochs: cfg.CoarseEpochs}

	fine := PhaseCost{Phase: "fine", Builds: NumEdges, Epochs: NumEdges * cfg.FineEpochs, Perturbations: NumEdges * cfg.CoarseKeep}
	fine.Evaluations = NumEdges + fine.Perturbations
	fine.FinetuneSteps = fine.Perturbations * cfg.fineSteps()

	topo := PhaseCost{Phase: "topology"}
	edges := NumEdges
	order := NodeOrder(cfg)
	for t, node := range order {
		topo.Perturbations += edges
		topo.Evaluations += 1 + edges
		edges -= node
		if t < len(order)-1 {
			topo.Builds++
			topo.Epochs += cfg.TopoEpochs
		}
	}
	topo.FinetuneSteps = topo.Perturbations * cfg.topoSteps()

	out := []PhaseCost{expand, coarse, fine, topo}
	for i := range out {
		out[i].TrainSteps = out[i].Epochs * stepsPerEpoch
	}
	return out
}
