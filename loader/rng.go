package loader

import (
	"math/bits"
	"math/rand/v2"
)

// sampleRNG is the random stream of one sample in one epoch: a splitmix64
// generator whose state is a hash of (seed, epoch, sample id). Every random
// draw the loader makes for a sample comes from its own stream, so results do
// not depend on which worker handles the sample or in which order. It is a
// value type so drawing allocates nothing.
type sampleRNG struct{ s uint64 }

func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func newSampleRNG(seed uint64, epoch, sample int) sampleRNG {
	h := mix64(seed ^ 0x6a09e667f3bcc909)
	h = mix64(h ^ uint64(epoch)*0x9e3779b97f4a7c15)
	h = mix64(h ^ uint64(sample)*0xc2b2ae3d27d4eb4f)
	return sampleRNG{s: h}
}

func (r *sampleRNG) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	return mix64(r.s)
}

// intn returns a uniform integer in [0, n), n > 0 (Lemire's method with
// rejection, so exactly uniform).
func (r *sampleRNG) intn(n int) int {
	un := uint64(n)
	hi, lo := bits.Mul64(r.next(), un)
	if lo < un {
		thresh := -un % un
		for lo < thresh {
			hi, lo = bits.Mul64(r.next(), un)
		}
	}
	return int(hi)
}

// coin returns true with probability 1/2.
func (r *sampleRNG) coin() bool { return r.next()>>63 == 1 }

// epochRNG returns the generator that orders the samples of an epoch: PCG
// seeded by (seed, epoch) through a hash, independent of the sample streams.
func epochRNG(seed uint64, epoch int) *rand.Rand {
	return rand.New(rand.NewPCG(mix64(seed^0xbb67ae8584caa73b), mix64(uint64(epoch)^0x3c6ef372fe94f82b)))
}

// float64 returns a uniform float in [0, 1) with 53 random bits.
func (r *sampleRNG) float64() float64 { return float64(r.next()>>11) * 0x1p-53 }

// uniform returns a uniform float in [lo, hi).
func (r *sampleRNG) uniform(lo, hi float64) float64 { return lo + (hi-lo)*r.float64() }
