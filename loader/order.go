package loader

import (
	"fmt"
	"slices"
)

// Order says in which order an epoch visits the samples.
type Order int

const (
	// Sequential visits the samples in the order of Config.Indices (or by
	// sample id) every epoch.
	Sequential Order = iota
	// Random visits a fresh uniform permutation each epoch, drawn from
	// (seed, epoch) only.
	Random
	// QuasiRandom keeps reads local to a few pages (for files larger than
	// memory): pages are visited in a random order, taken a window of
	// Config.Window pages at a time, and the samples of a window are shuffled
	// together. Drawn from (seed, epoch) only.
	QuasiRandom
)

// String returns the order's name as the flags spell it.
func (o Order) String() string {
	switch o {
	case Sequential:
		return "sequential"
	case Random:
		return "random"
	case QuasiRandom:
		return "quasi-random"
	}
	return fmt.Sprintf("order(%d)", int(o))
}

// epochOrder returns the sample ids of one epoch, in visiting order. indices
// is the subset to visit (never modified); page gives a sample's page.
func epochOrder(o Order, indices []int, seed uint64, epoch, window int, page func(int) int) []int {
	out := slices.Clone(indices)
	switch o {
	case Random:
		rng := epochRNG(seed, epoch)
		rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	case QuasiRandom:
		if window <= 0 {
			window = 1
		}
		// Group by page, pages in order of first appearance (deterministic).
		var pages [][]int
		at := map[int]int{}
		for _, s := range indices {
			p := page(s)
			k, ok := at[p]
			if !ok {
				k = len(pages)
				at[p] = k
				pages = append(pages, nil)
			}
			pages[k] = append(pages[k], s)
		}
		rng := epochRNG(seed, epoch)
		rng.Shuffle(len(pages), func(i, j int) { pages[i], pages[j] = pages[j], pages[i] })
		out = out[:0]
		for w := 0; w < len(pages); w += window {
			start := len(out)
			for _, p := range pages[w:min(w+window, len(pages))] {
				out = append(out, p...)
			}
			win := out[start:]
			rng.Shuffle(len(win), func(i, j int) { win[i], win[j] = win[j], win[i] })
		}
	}
	return out
}

// Split divides the sample ids 0..n-1 into a training and a held-out
// validation subset: round(n*heldOut) ids chosen by a permutation drawn from
// seed, the rest for training. Both are sorted ascending, disjoint, and
// together cover 0..n-1; the same (n, heldOut, seed) always gives the same
// split.
func Split(n int, heldOut float64, seed uint64) (train, val []int, err error) {
	if n < 0 || heldOut < 0 || heldOut > 1 || heldOut != heldOut {
		return nil, nil, fmt.Errorf("split: need n >= 0 and 0 <= held-out fraction <= 1, got n=%d fraction=%v", n, heldOut)
	}
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	rng := epochRNG(seed^0x510e527fade682d1, -1)
	rng.Shuffle(n, func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
	k := int(float64(n)*heldOut + 0.5)
	val = slices.Clone(perm[:k])
	train = slices.Clone(perm[k:])
	slices.Sort(val)
	slices.Sort(train)
	return train, val, nil
}
