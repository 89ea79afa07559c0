package kern

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// usePath switches to p for the test and back to the path in use after it.
func usePath(t *testing.T, p Path) {
	t.Helper()
	savedAsm, savedZ := useAsm, useAVX512
	t.Cleanup(func() { useAsm, useAVX512 = savedAsm, savedZ })
	if err := Use(p); err != nil {
		t.Fatal(err)
	}
}

func TestSupportedPaths(t *testing.T) {
	ps := Supported()
	if len(ps) == 0 || ps[0] != PureGo {
		t.Fatalf("Supported() = %v, want purego first", ps)
	}
	if Best() != ps[len(ps)-1] {
		t.Fatalf("Best() = %s, want the last of %v", Best(), ps)
	}
	if want := []Path{PureGo, AVX2, AVX512}[:len(ps)]; !slices.Equal(ps, want) {
		t.Fatalf("Supported() = %v, want a prefix of purego, avx2, avx512", ps)
	}
	if hasAVX512 && !hasAsm {
		t.Fatal("AVX-512 kernels without the AVX2 ones")
	}
	if !slices.Contains(ps, Default()) {
		t.Fatalf("Default() = %s, not among %v", Default(), ps)
	}
}

// TestUseSelectsEachPath checks that every supported path can be selected
// and is reported back, and that the dispatch flags are those of the path.
func TestUseSelectsEachPath(t *testing.T) {
	for _, p := range Supported() {
		t.Run(string(p), func(t *testing.T) {
			usePath(t, p)
			if Current() != p {
				t.Fatalf("after Use(%s), Current() = %s", p, Current())
			}
			if Accelerated() != (p != PureGo) || useAVX512 != (p == AVX512) {
				t.Fatalf("%s: useAsm %v, useAVX512 %v", p, useAsm, useAVX512)
			}
		})
	}
}

func TestUseRefuses(t *testing.T) {
	before := Current()
	err := Use("sse2")
	if err == nil || !strings.Contains(err.Error(), `unknown kernel path "sse2"`) {
		t.Fatalf("Use(sse2) = %v, want an unknown-path error", err)
	}
	for _, p := range Paths {
		if slices.Contains(Supported(), p) {
			continue
		}
		if err := Use(p); err == nil || !strings.Contains(err.Error(), "this CPU lacks it") {
			t.Fatalf("Use(%s) on a CPU without it = %v", p, err)
		}
	}
	if Current() != before {
		t.Fatalf("a refused Use changed the path: %s -> %s", before, Current())
	}
}

func TestResolve(t *testing.T) {
	best := Best()
	for _, c := range []struct {
		choice string
		pinned Path
		want   Path
		err    string // part of the error, "" for none
	}{
		{Auto, "", Default(), ""},
		{string(PureGo), "", PureGo, ""},
		{Auto, PureGo, PureGo, ""},
		{string(PureGo), PureGo, PureGo, ""},
		{string(best), best, best, ""},
		{Auto, best, best, ""},
		{"avx1024", "", "", `unknown kernel path "avx1024"`},
		{Auto, "avx1024", "", `unknown kernel path "avx1024"`},
		{string(PureGo), AVX2, "", "started on kernel path avx2, not purego"},
		{string(AVX512), PureGo, "", "started on kernel path purego, not avx512"},
	} {
		got, err := Resolve(c.choice, c.pinned)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("Resolve(%q, %q) = %s, %v; want an error with %q", c.choice, c.pinned, got, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("Resolve(%q, %q) = %s, %v; want %s", c.choice, c.pinned, got, err, c.want)
		}
	}
	for _, p := range Paths {
		if slices.Contains(Supported(), p) {
			continue
		}
		// A run pinned to a path this CPU lacks is refused, also for auto.
		for _, choice := range []string{Auto, string(p)} {
			if _, err := Resolve(choice, p); err == nil || !strings.Contains(err.Error(), "this CPU lacks it") {
				t.Errorf("Resolve(%q, %s) on a CPU without %s = %v", choice, p, p, err)
			}
		}
	}
}

// TestPathsSumDifferently shows that the paths are distinct: a transB GEMM
// with a long k (the dot-product tiles) gives other bits on each path,
// while repeating one path gives the same bits.
func TestPathsSumDifferently(t *testing.T) {
	ps := Supported()
	if len(ps) < 2 {
		t.Skip("this CPU runs one kernel path only: nothing to compare")
	}
	rng := rand.New(rand.NewPCG(21, 22))
	const m, n, k = 8, 8, 1000
	a := randSlice(rng, make([]float32, m*k))
	b := randSlice(rng, make([]float32, n*k))
	run := func(p Path) []float32 {
		usePath(t, p)
		c := make([]float32, m*n)
		Gemm(false, true, m, n, k, a, k, b, k, false, c, n)
		return c
	}
	got := map[Path][]float32{}
	for _, p := range ps {
		got[p] = run(p)
		if again := run(p); !slices.Equal(bits(again), bits(got[p])) {
			t.Fatalf("%s: two runs differ", p)
		}
	}
	for i, p := range ps {
		for _, q := range ps[i+1:] {
			if slices.Equal(bits(got[p]), bits(got[q])) {
				t.Errorf("%s and %s give the same bits for a long-k transB GEMM", p, q)
			}
		}
	}
}

func bits(x []float32) []uint32 {
	out := make([]uint32, len(x))
	for i, v := range x {
		out[i] = math.Float32bits(v)
	}
	return out
}
