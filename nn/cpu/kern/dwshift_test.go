package kern

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// dwShiftCases are the geometries the register-shift kernels take, with
// "same" padding pad = dil·(k-1)/2, k 3/5, dilation 1/2: stride 1 with
// widths 8, 16, 32 and heights below and above the kernel size and the
// 8-row tile; stride 2 with widths 16, 32 and even heights from 2 (one
// output row) to above the 8- and 16-row tiles.
func dwShiftCases() []dwCase {
	var cs []dwCase
	for _, kd := range [][2]int{{3, 1}, {5, 1}, {3, 2}, {5, 2}} {
		pad := kd[1] * (kd[0] - 1) / 2
		for _, w := range []int{8, 16, 32} {
			for _, h := range []int{1, 2, 3, 5, 8, 9, 16, 32} {
				cs = append(cs, dwCase{h, w, kd[0], 1, pad, kd[1]})
			}
		}
		for _, w := range []int{16, 32} {
			for _, h := range []int{2, 4, 6, 8, 16, 18, 32, 34} {
				cs = append(cs, dwCase{h, w, kd[0], 2, pad, kd[1]})
			}
		}
	}
	return cs
}

// randSigned fills dst with values of both signs, about one in six an exact
// zero of either sign.
func randSigned(rng *rand.Rand, dst []float32) []float32 {
	for i := range dst {
		switch rng.IntN(12) {
		case 0:
			dst[i] = 0
		case 1:
			dst[i] = float32(math.Copysign(0, -1))
		default:
			dst[i] = rng.Float32()*2 - 1
		}
	}
	return dst
}

// withDWShift runs f with the register-shift kernels on or off.
func withDWShift(on bool, f func()) {
	saved := useDWShift
	useDWShift = on
	defer func() { useDWShift = saved }()
	f()
}

// sameBitsAt fails unless got[i] and want[i] have the same bits for i < len(got).
func sameBitsAt(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i := range got {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s: [%d] = %g (%#x), flat path %g (%#x)", what, i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
		}
	}
}

// TestDWShiftMatchesFlat: on every geometry they take, the register-shift
// kernels give the bits of the flat-layout path (which the other depthwise
// tests check against float64 sums): forward one plane at a time and over
// several planes with their own weights, data gradient set and added, one
// plane and several; all slices end at guard pages.
func TestDWShiftMatchesFlat(t *testing.T) {
	if !hasAsm || avx2Only == nil {
		t.Skip("no register-shift kernels in this build or on this CPU")
	}
	saved, savedZ := useAsm, useAVX512
	defer func() { useAsm, useAVX512 = saved, savedZ }()
	useAsm, useAVX512 = true, true // whatever path the process started on
	rng := rand.New(rand.NewPCG(41, 42))
	const planes = 3
	for _, c := range dwShiftCases() {
		name := c.String()
		oh, ow := c.out()
		hw, ohw, kk := c.h*c.w, oh*ow, c.k*c.k
		d := GetDepthwise(c.h, c.w, c.k, c.s, c.pad, c.dil, oh, ow)
		if dwShift(&d.sc.g, false) == nil || dwShift(&d.sc.g, true) == nil || dwShiftAff(&d.sc.g) == nil {
			t.Fatalf("%v: no register-shift kernel", c)
		}
		if _, _, s2, _ := dwShiftIndex(&d.sc.g); s2 != (c.s == 2) {
			t.Fatalf("%v: stride-2 kernel %v", c, s2)
		}
		in := randSigned(rng, guarded(t, planes*hw))
		dout := randSigned(rng, guarded(t, planes*ohw))
		wt := randSigned(rng, guarded(t, planes*kk))
		din0 := randSigned(rng, make([]float32, planes*hw))

		// The flat path, plane by plane.
		wantF, wantDSet, wantDAdd := make([]float32, planes*ohw), make([]float32, planes*hw), make([]float32, planes*hw)
		copy(wantDAdd, din0)
		withDWShift(false, func() {
			if dwShift(&d.sc.g, false) != nil {
				t.Fatal("useDWShift = false does not switch the kernels off")
			}
			for p := range planes {
				pl, pw := in[p*hw:(p+1)*hw], wt[p*kk:(p+1)*kk]
				po := dout[p*ohw : (p+1)*ohw]
				DepthwiseForward(pl, c.h, c.w, pw, c.k, c.s, c.pad, c.dil, wantF[p*ohw:], oh, ow)
				d.BackwardData(po, pw, wantDSet[p*hw:(p+1)*hw], false)
				DepthwiseBackwardData(po, oh, ow, pw, c.k, c.s, c.pad, c.dil, wantDAdd[p*hw:], c.h, c.w)
			}
		})

		got := randSigned(rng, guarded(t, planes*hw))
		gotF := randSigned(rng, guarded(t, planes*ohw))
		for p := range planes {
			// One plane, ending at the guard page.
			one, oneF := guarded(t, hw), guarded(t, ohw)
			po := dout[p*ohw : (p+1)*ohw]
			DepthwiseForward(in[p*hw:(p+1)*hw], c.h, c.w, wt[p*kk:(p+1)*kk], c.k, c.s, c.pad, c.dil, oneF, oh, ow)
			sameBitsAt(t, fmt.Sprintf("%s plane %d DepthwiseForward", name, p), oneF, wantF[p*ohw:])
			randSigned(rng, oneF)
			d.Forward(in[p*hw:(p+1)*hw], wt[p*kk:(p+1)*kk], oneF)
			sameBitsAt(t, fmt.Sprintf("%s plane %d Forward", name, p), oneF, wantF[p*ohw:])
			copy(one, din0[p*hw:])
			DepthwiseBackwardData(po, oh, ow, wt[p*kk:(p+1)*kk], c.k, c.s, c.pad, c.dil, one, c.h, c.w)
			sameBitsAt(t, fmt.Sprintf("%s plane %d DepthwiseBackwardData", name, p), one, wantDAdd[p*hw:])
			randSigned(rng, one)
			d.BackwardData(po, wt[p*kk:(p+1)*kk], one, false)
			sameBitsAt(t, fmt.Sprintf("%s plane %d BackwardData (set)", name, p), one, wantDSet[p*hw:])
		}
		DepthwiseForwardPlanes(planes, in, c.h, c.w, wt, c.k, c.s, c.pad, c.dil, gotF, oh, ow)
		sameBitsAt(t, name+" DepthwiseForwardPlanes", gotF, wantF)
		randSigned(rng, gotF)
		d.ForwardPlanes(planes, in, wt, gotF)
		sameBitsAt(t, name+" ForwardPlanes", gotF, wantF)
		randSigned(rng, got)
		d.BackwardDataPlanes(planes, dout, wt, got, false)
		sameBitsAt(t, name+" BackwardDataPlanes (set)", got, wantDSet)
		copy(got, din0)
		d.BackwardDataPlanes(planes, dout, wt, got, true)
		sameBitsAt(t, name+" BackwardDataPlanes (add)", got, wantDAdd)
		d.Release()
	}
}

// TestDepthwiseForwardPlanesAffine: the convolution of value(x) gives the
// bits of writing the values (x·scale + shift, then max(·, 0), each rounded,
// -0 kept) and convolving them on the flat path, for every combination of
// affine map and ReLU, on the register-shift geometries (where the kernels
// form the values as they load, padding with zero and not with shift) and
// others; all slices end at guard pages.
func TestDepthwiseForwardPlanesAffine(t *testing.T) {
	cases := append(dwShiftCases(), dwCase{8, 8, 3, 2, 1, 1}, dwCase{7, 13, 3, 1, 1, 1}, dwCase{15, 16, 5, 2, 2, 1}, dwCase{8, 8, 3, 1, 0, 1})
	paths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(43, 44))
		const planes = 3
		for i, c := range cases {
			oh, ow := c.out()
			hw, ohw, kk := c.h*c.w, oh*ow, c.k*c.k
			in := randSigned(rng, guarded(t, planes*hw))
			wt := randSigned(rng, guarded(t, planes*kk))
			scale := randSigned(rng, guarded(t, planes))
			shift := randSigned(rng, guarded(t, planes))
			g := dwGeom{h: c.h, w: c.w, k: c.k, s: c.s, pad: c.pad, dil: c.dil, oh: oh, ow: ow}
			if want := dwShiftOn() && i < len(dwShiftCases()); (dwShiftAff(&g) != nil) != want {
				t.Fatalf("%v: register-shift kernel %v, want %v", c, !want, want)
			}
			for mode := range 4 {
				affine, relu := mode&1 != 0, mode&2 != 0
				vals := make([]float32, planes*hw)
				for p := range planes {
					for i, x := range in[p*hw : (p+1)*hw] {
						v := x
						if affine {
							v = float32(x*scale[p]) + shift[p]
						}
						if relu && v < 0 {
							v = 0
						}
						vals[p*hw+i] = v
					}
				}
				want := make([]float32, planes*ohw)
				withDWShift(false, func() {
					DepthwiseForwardPlanes(planes, vals, c.h, c.w, wt, c.k, c.s, c.pad, c.dil, want, oh, ow)
				})
				got := randSigned(rng, guarded(t, planes*ohw))
				sc, sh := scale, shift
				if !affine {
					sc, sh = nil, nil
				}
				DepthwiseForwardPlanesAffine(planes, in, c.h, c.w, wt, c.k, c.s, c.pad, c.dil, sc, sh, relu, got, oh, ow)
				sameBitsAt(t, fmt.Sprintf("%v affine %v relu %v", c, affine, relu), got, want)
				randSigned(rng, got)
				d := GetDepthwise(c.h, c.w, c.k, c.s, c.pad, c.dil, oh, ow)
				d.ForwardPlanesAffine(planes, in, wt, sc, sh, relu, got)
				d.Release()
				sameBitsAt(t, fmt.Sprintf("%v Depthwise.ForwardPlanesAffine affine %v relu %v", c, affine, relu), got, want)
			}
		}
	})
	mustPanic(t, "scale without shift", func() {
		DepthwiseForwardPlanesAffine(1, make([]float32, 64), 8, 8, make([]float32, 9), 3, 1, 1, 1, make([]float32, 1), nil, false, make([]float32, 64), 8, 8)
	})
	mustPanic(t, "short scale", func() {
		DepthwiseForwardPlanesAffine(2, make([]float32, 128), 8, 8, make([]float32, 18), 3, 1, 1, 1, make([]float32, 1), make([]float32, 2), false, make([]float32, 128), 8, 8)
	})
	d := GetDepthwise(8, 8, 3, 1, 1, 1, 8, 8)
	defer d.Release()
	mustPanic(t, "short shift (handle)", func() {
		d.ForwardPlanesAffine(2, make([]float32, 128), make([]float32, 18), make([]float32, 2), make([]float32, 1), true, make([]float32, 128))
	})
	mustPanic(t, "short output (handle)", func() {
		d.ForwardPlanes(2, make([]float32, 128), make([]float32, 18), make([]float32, 127))
	})
	mustPanic(t, "short weights (handle)", func() {
		d.BackwardDataPlanes(2, make([]float32, 128), make([]float32, 17), make([]float32, 128), true)
	})
	mustPanic(t, "no planes (handle)", func() {
		d.ForwardPlanes(0, make([]float32, 128), make([]float32, 18), make([]float32, 128))
	})
}

// TestDWShiftGenerated: dwshift_amd64.s and dwshift_decl_amd64.go are what
// dwshift_gen.go writes (run go generate after changing the generator).
func TestDWShiftGenerated(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to run the generator")
	}
	dir := t.TempDir()
	asm, decl := filepath.Join(dir, "dwshift_amd64.s"), filepath.Join(dir, "dwshift_decl_amd64.go")
	if msg, err := exec.Command(goTool, "run", "dwshift_gen.go", "-o", asm, "-decl", decl).CombinedOutput(); err != nil {
		t.Fatalf("go run dwshift_gen.go: %v\n%s", err, msg)
	}
	for _, got := range []string{asm, decl} {
		name := filepath.Base(got)
		gotText, err := os.ReadFile(got)
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(gotText, want) {
			t.Errorf("%s differs from the output of dwshift_gen.go: run go generate", name)
		}
	}
}

// TestDWShiftNoAllocations: the multi-plane entry points allocate nothing
// in the steady state, on the register-shift path and off it.
func TestDWShiftNoAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	paths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(45, 46))
		in := randSlice(rng, make([]float32, 4*16*16))
		out := make([]float32, 4*16*16)
		wt := randSlice(rng, make([]float32, 4*25))
		scale, shift := randSlice(rng, make([]float32, 4)), randSlice(rng, make([]float32, 4))
		d := GetDepthwise(16, 16, 5, 1, 4, 2, 16, 16)
		defer d.Release()
		for name, f := range map[string]func(){
			"DepthwiseForward":             func() { DepthwiseForward(in, 16, 16, wt, 3, 1, 1, 1, out, 16, 16) },
			"DepthwiseBackwardData":        func() { DepthwiseBackwardData(out, 16, 16, wt, 3, 1, 1, 1, in, 16, 16) },
			"DepthwiseForwardPlanes":       func() { DepthwiseForwardPlanes(4, in, 16, 16, wt, 3, 1, 1, 1, out, 16, 16) },
			"DepthwiseForwardPlanesAffine": func() { DepthwiseForwardPlanesAffine(4, in, 16, 16, wt, 3, 1, 1, 1, scale, shift, true, out, 16, 16) },
			"DepthwiseForwardPlanesAffine/stride2": func() {
				DepthwiseForwardPlanesAffine(4, in, 16, 16, wt, 3, 2, 1, 1, scale, shift, true, out, 8, 8)
			},
			"DepthwiseForward/stride2":      func() { DepthwiseForward(in, 16, 16, wt, 5, 2, 2, 1, out, 8, 8) },
			"DepthwiseBackwardData/stride2": func() { DepthwiseBackwardData(out, 8, 8, wt, 5, 2, 4, 2, in, 16, 16) },
			"DepthwiseBackwardFilter/stride2": func() {
				DepthwiseBackwardFilter(in, 16, 16, out, 8, 8, 5, 2, 2, 1, wt)
			},
			"ForwardPlanes":       func() { d.ForwardPlanes(4, in, wt, out) },
			"ForwardPlanesAffine": func() { d.ForwardPlanesAffine(4, in, wt, nil, nil, true, out) },
			"BackwardDataPlanes":  func() { d.BackwardDataPlanes(4, out, wt, in, false) },
		} {
			if n := testing.AllocsPerRun(20, f); n != 0 {
				t.Errorf("%s: %v allocations per call", name, n)
			}
		}
	})
}
