package pertnas

import (
	"hash/fnv"
	"math/rand/v2"
)

// derive returns a seed for one random choice of the run: a hash of the run
// seed, a label naming the choice and its coordinates (member, edge, epoch,
// ...). Distinct labels or coordinates give independent seeds.
func derive(seed uint64, label string, coords ...int) uint64 {
	h := fnv.New64a()
	h.Write([]byte(label))
	x := mix(seed ^ h.Sum64())
	for _, c := range coords {
		x = mix(x ^ uint64(int64(c)) ^ 0x9e3779b97f4a7c15)
	}
	return x
}

// mix is the splitmix64 finaliser.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// rngFor returns a PCG generator for the choice derive(seed, label, coords).
func rngFor(seed uint64, label string, coords ...int) *rand.Rand {
	s := derive(seed, label, coords...)
	return rand.New(rand.NewPCG(s, mix(s)))
}
