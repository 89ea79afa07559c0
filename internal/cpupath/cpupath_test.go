package cpupath

import (
	"slices"
	"strings"
	"testing"
)

func TestSupported(t *testing.T) {
	for _, c := range []struct {
		avx2, avx512 bool
		want         []Path
	}{
		{false, false, []Path{PureGo}},
		{true, false, []Path{PureGo, AVX2}},
		{true, true, []Path{PureGo, AVX2, AVX512}},
		{false, true, []Path{PureGo}}, // the AVX-512 kernels build on the AVX2 ones
	} {
		if got := Supported(c.avx2, c.avx512); !slices.Equal(got, c.want) {
			t.Errorf("Supported(%v, %v) = %v, want %v", c.avx2, c.avx512, got, c.want)
		}
	}
}

func TestStart(t *testing.T) {
	all := Supported(true, true)
	t.Setenv(EnvPureGo, "")
	if got := Start(all); got != AVX512 {
		t.Errorf("Start(%v) = %s, want the fastest, avx512", all, got)
	}
	if got := Start(Supported(true, false)); got != AVX2 {
		t.Errorf("Start without AVX-512 = %s, want avx2", got)
	}
	for _, v := range []string{"1", "0", "yes"} {
		t.Setenv(EnvPureGo, v)
		if got := Start(all); got != PureGo {
			t.Errorf("%s=%q: Start = %s, want purego", EnvPureGo, v, got)
		}
	}
}

func TestCheck(t *testing.T) {
	avx2 := Supported(true, false)
	for _, p := range avx2 {
		if err := Check(p, avx2); err != nil {
			t.Errorf("Check(%s, %v) = %v", p, avx2, err)
		}
	}
	for _, c := range []struct {
		p    Path
		want string
	}{
		{"sse2", `unknown kernel path "sse2" (want purego, avx2, avx512)`},
		{"", `unknown kernel path "" (want purego, avx2, avx512)`},
		{Auto, `unknown kernel path "auto"`},
		{AVX512, "kernel path avx512: this CPU lacks it (it runs purego, avx2)"},
	} {
		if err := Check(c.p, avx2); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Check(%q, %v) = %v, want an error with %q", c.p, avx2, err, c.want)
		}
	}
}
