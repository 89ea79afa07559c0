// Package schedule holds the learning-rate schedules, in one place for
// train-eval's training (package train) and the PertNAS search (package
// pertnas). Both are closed forms of PyTorch's schedulers, computed in
// float64; a caller that keeps its rate in float32 converts the result.
package schedule

import "math"

// Cosine is PyTorch's CosineAnnealingLR in closed form at epoch of total:
// min + (base-min)*(1+cos(pi*epoch/total))/2. With total <= 0 it is base.
func Cosine(base, min float64, epoch, total int) float64 {
	if total <= 0 {
		return base
	}
	c := (1 + math.Cos(math.Pi*float64(epoch)/float64(total))) / 2
	return min + (base-min)*c
}

// Linear decays linearly from base at epoch 0 to 0 at epoch total:
// base*(1 - epoch/total). With total <= 0 it is base.
func Linear(base float64, epoch, total int) float64 {
	if total <= 0 {
		return base
	}
	return base * (1 - float64(epoch)/float64(total))
}
