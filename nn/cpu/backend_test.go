package cpu_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"pertnas/nn"
	"pertnas/nn/cpu"
)

// Kernel tests: each kernel against a plain float64 reference written from
// the definition, at DARTS-like shapes (so the assembly paths and edge tiles
// of package kern are exercised), and bit-identical across thread counts.

func randSlice(n int, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 3))
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(rng.NormFloat64())
	}
	return out
}

func relErr(got []float32, want []float64) float64 {
	var d, w float64
	for i := range got {
		e := float64(got[i]) - want[i]
		d += e * e
		w += want[i] * want[i]
	}
	return math.Sqrt(d) / math.Max(math.Sqrt(w), 1e-30)
}

const kernTol = 1e-5

// refConv returns forward y, dx (from dy) and dw (from x, dy) in float64.
func refConv(d nn.ConvDesc, x, w, dy []float32) (y, dx, dw []float64) {
	y = make([]float64, d.N*d.OC*d.OH*d.OW)
	dx = make([]float64, len(x))
	dw = make([]float64, len(w))
	cg, og := d.C/d.Groups, d.OC/d.Groups
	for n := 0; n < d.N; n++ {
		for oc := 0; oc < d.OC; oc++ {
			g := oc / og
			for oy := 0; oy < d.OH; oy++ {
				for ox := 0; ox < d.OW; ox++ {
					yi := ((n*d.OC+oc)*d.OH+oy)*d.OW + ox
					var s float64
					for ci := 0; ci < cg; ci++ {
						c := g*cg + ci
						for ky := 0; ky < d.K; ky++ {
							iy := oy*d.Stride - d.Pad + ky*d.Dilation
							if iy < 0 || iy >= d.H {
								continue
							}
							for kx := 0; kx < d.K; kx++ {
								ix := ox*d.Stride - d.Pad + kx*d.Dilation
								if ix < 0 || ix >= d.W {
									continue
								}
								xi := ((n*d.C+c)*d.H+iy)*d.W + ix
								wi := ((oc*cg+ci)*d.K+ky)*d.K + kx
								s += float64(x[xi]) * float64(w[wi])
								dx[xi] += float64(dy[yi]) * float64(w[wi])
								dw[wi] += float64(dy[yi]) * float64(x[xi])
							}
						}
					}
					y[yi] = s
				}
			}
		}
	}
	return y, dx, dw
}

func conv(n, c, h, oc, k, s, p, dil, g int) nn.ConvDesc {
	o := (h+2*p-dil*(k-1)-1)/s + 1
	return nn.ConvDesc{N: n, C: c, H: h, W: h, OC: oc, OH: o, OW: o, K: k, Stride: s, Pad: p, Dilation: dil, Groups: g}
}

var convShapes = []nn.ConvDesc{
	conv(3, 16, 32, 16, 1, 1, 0, 1, 1),  // pointwise C16 32x32
	conv(3, 32, 16, 64, 1, 1, 0, 1, 1),  // pointwise, Cout != Cin
	conv(2, 36, 9, 20, 1, 1, 0, 1, 1),   // pointwise, odd sizes
	conv(3, 16, 32, 16, 3, 1, 1, 1, 16), // depthwise 3x3
	conv(3, 32, 16, 32, 5, 2, 2, 1, 32), // depthwise 5x5 stride 2
	conv(2, 16, 16, 16, 3, 1, 2, 2, 16), // dilated 3x3
	conv(2, 16, 15, 16, 5, 2, 4, 2, 16), // dilated 5x5 stride 2, odd size
	conv(3, 3, 32, 48, 3, 1, 1, 1, 1),   // stem
	conv(2, 32, 16, 16, 1, 2, 0, 1, 1),  // factorized-reduce half
	conv(2, 12, 8, 18, 3, 1, 1, 1, 3),   // grouped
	conv(3, 20, 2, 24, 2, 1, 0, 1, 1),   // auxiliary-head 2x2
}

func TestConvAgainstReference(t *testing.T) {
	backends := []*cpu.Backend{cpu.New(1), cpu.New(3)}
	for i, d := range convShapes {
		t.Run(fmt.Sprintf("%d_C%d_H%d_OC%d_K%d_s%d_d%d_g%d", i, d.C, d.H, d.OC, d.K, d.Stride, d.Dilation, d.Groups), func(t *testing.T) {
			x := randSlice(d.N*d.C*d.H*d.W, 1)
			w := randSlice(d.OC*d.C/d.Groups*d.K*d.K, 2)
			dy := randSlice(d.N*d.OC*d.OH*d.OW, 3)
			wantY, wantDx, wantDw := refConv(d, x, w, dy)
			var prev [][]float32
			for _, be := range backends {
				xb, wb, dyb := be.Alloc(len(x)), be.Alloc(len(w)), be.Alloc(len(dy))
				be.Upload(xb, x)
				be.Upload(wb, w)
				be.Upload(dyb, dy)
				y, dx, dw := be.Alloc(len(dy)), be.Alloc(len(x)), be.Alloc(len(w))
				be.Conv2DForward(d, xb, wb, y)
				// Backward kernels accumulate: start from 1 and subtract it.
				be.Fill(dx, 1)
				be.Fill(dw, 1)
				be.Conv2DBackwardData(d, dyb, wb, dx, true)
				be.Conv2DBackwardFilter(d, xb, dyb, dw)
				// The overwriting variant ignores what dx held.
				dxSet := be.Alloc(len(x))
				be.Fill(dxSet, 123)
				be.Conv2DBackwardData(d, dyb, wb, dxSet, false)
				if e := relErr(be.Data(dxSet), wantDx); e > kernTol {
					t.Errorf("threads %d: Set dx relative error %.3g", be.Threads(), e)
				}
				got := [][]float32{be.Data(y), be.Data(dx), be.Data(dw)}
				for j, want := range [][]float64{wantY, wantDx, wantDw} {
					if j > 0 {
						want = append([]float64{}, want...)
						for k := range want {
							want[k]++
						}
					}
					if e := relErr(got[j], want); e > kernTol {
						t.Errorf("threads %d: %s relative error %.3g", be.Threads(), []string{"y", "dx", "dw"}[j], e)
					}
				}
				if prev != nil {
					for j := range got {
						for k := range got[j] {
							if math.Float32bits(got[j][k]) != math.Float32bits(prev[j][k]) {
								t.Fatalf("%s differs between thread counts at %d", []string{"y", "dx", "dw"}[j], k)
							}
						}
					}
				}
				prev = got
			}
		})
	}
}

func refPool(d nn.PoolDesc, isMax, countPad bool, x, dy []float32) (y, dx []float64) {
	y = make([]float64, d.N*d.C*d.OH*d.OW)
	dx = make([]float64, len(x))
	for p := 0; p < d.N*d.C; p++ {
		for oy := 0; oy < d.OH; oy++ {
			for ox := 0; ox < d.OW; ox++ {
				yi := (p*d.OH+oy)*d.OW + ox
				best, at, sum, cnt := math.Inf(-1), -1, 0.0, 0
				for ky := 0; ky < d.K; ky++ {
					for kx := 0; kx < d.K; kx++ {
						iy, ix := oy*d.Stride-d.Pad+ky, ox*d.Stride-d.Pad+kx
						if iy < 0 || iy >= d.H || ix < 0 || ix >= d.W {
							if countPad && iy < d.H+d.Pad && ix < d.W+d.Pad {
								cnt++
							}
							continue
						}
						v := float64(x[(p*d.H+iy)*d.W+ix])
						if v > best {
							best, at = v, (p*d.H+iy)*d.W+ix
						}
						sum += v
						cnt++
					}
				}
				if isMax {
					y[yi] = best
					dx[at] += float64(dy[yi])
				} else {
					y[yi] = sum / float64(cnt)
					for ky := 0; ky < d.K; ky++ {
						for kx := 0; kx < d.K; kx++ {
							iy, ix := oy*d.Stride-d.Pad+ky, ox*d.Stride-d.Pad+kx
							if iy >= 0 && iy < d.H && ix >= 0 && ix < d.W {
								dx[(p*d.H+iy)*d.W+ix] += float64(dy[yi]) / float64(cnt)
							}
						}
					}
				}
			}
		}
	}
	return y, dx
}

func TestPoolAgainstReference(t *testing.T) {
	pool := func(n, c, h, k, s, p int) nn.PoolDesc {
		o := (h+2*p-k)/s + 1
		return nn.PoolDesc{N: n, C: c, H: h, W: h, OH: o, OW: o, K: k, Stride: s, Pad: p}
	}
	shapes := []nn.PoolDesc{pool(3, 16, 32, 3, 1, 1), pool(2, 8, 16, 3, 2, 1), pool(2, 5, 7, 3, 2, 1), pool(2, 3, 32, 3, 2, 1), pool(2, 3, 31, 3, 2, 1), pool(2, 4, 8, 5, 3, 0), pool(2, 4, 9, 5, 2, 0)}
	backends := []*cpu.Backend{cpu.New(1), cpu.New(3)}
	for _, d := range shapes {
		for _, kind := range []string{"max", "avg", "avgcount"} {
			x := randSlice(d.N*d.C*d.H*d.W, 4)
			dy := randSlice(d.N*d.C*d.OH*d.OW, 5)
			wantY, wantDx := refPool(d, kind == "max", kind == "avgcount", x, dy)
			var prev []float32
			for _, be := range backends {
				xb, dyb, y, dx := be.Alloc(len(x)), be.Alloc(len(dy)), be.Alloc(len(dy)), be.Alloc(len(x))
				be.Upload(xb, x)
				be.Upload(dyb, dy)
				if kind == "max" {
					be.MaxPool(d, xb, y)
					be.MaxPoolBackward(d, xb, dyb, dx, true)
				} else {
					be.AvgPool(d, kind == "avgcount", xb, y)
					be.AvgPoolBackward(d, kind == "avgcount", dyb, dx, true)
				}
				if e := relErr(be.Data(y), wantY); e > kernTol {
					t.Errorf("%s %+v: y relative error %.3g", kind, d, e)
				}
				if e := relErr(be.Data(dx), wantDx); e > kernTol {
					t.Errorf("%s %+v: dx relative error %.3g", kind, d, e)
				}
				got := append(append([]float32{}, be.Data(y)...), be.Data(dx)...)
				if prev != nil {
					for k := range got {
						if math.Float32bits(got[k]) != math.Float32bits(prev[k]) {
							t.Fatalf("%s %+v: differs between thread counts", kind, d)
						}
					}
				}
				prev = got
			}
		}
	}
}

// TestMaxPoolTies: the gradient goes to the first maximum in row-major
// order, as in PyTorch's CPU kernel.
func TestMaxPoolTies(t *testing.T) {
	be := cpu.New(1)
	d := nn.PoolDesc{N: 1, C: 1, H: 3, W: 3, OH: 1, OW: 1, K: 3, Stride: 1, Pad: 0}
	x, dy, y, dx := be.Alloc(9), be.Alloc(1), be.Alloc(1), be.Alloc(9)
	be.Upload(x, []float32{0, 1, 0, 2, 0, 2, 2, 0, 0})
	be.Upload(dy, []float32{5})
	be.MaxPool(d, x, y)
	be.MaxPoolBackward(d, x, dy, dx, true)
	if be.Data(y)[0] != 2 || be.Data(dx)[3] != 5 || be.Data(dx)[5] != 0 || be.Data(dx)[6] != 0 {
		t.Errorf("y %v dx %v, want 2 and the gradient at index 3", be.Data(y), be.Data(dx))
	}
}

// TestBatchNormAgainstReference also uses inputs with a large common offset
// (mean 100x the deviation), where one-pass variance formulas cancel.
func TestBatchNormAgainstReference(t *testing.T) {
	for _, offset := range []float32{0, 100} {
		testBatchNorm(t, offset)
	}
}

func testBatchNorm(t *testing.T, offset float32) {
	d := nn.BNDesc{N: 5, C: 7, HW: 33, Eps: 1e-5, Momentum: 0.1}
	n := d.N * d.C * d.HW
	x, dy := randSlice(n, 6), randSlice(n, 7)
	for i := range x {
		x[i] += offset
	}
	gamma, beta := randSlice(d.C, 8), randSlice(d.C, 9)
	m := float64(d.N * d.HW)
	wantY, wantDx := make([]float64, n), make([]float64, n)
	wantRV, wantDg := make([]float64, d.C), make([]float64, d.C)
	for c := 0; c < d.C; c++ {
		var s, q, sg, sgx float64
		idx := func(nn, i int) int { return (nn*d.C+c)*d.HW + i }
		for a := 0; a < d.N; a++ {
			for i := 0; i < d.HW; i++ {
				s += float64(x[idx(a, i)])
			}
		}
		mean := s / m
		for a := 0; a < d.N; a++ {
			for i := 0; i < d.HW; i++ {
				q += (float64(x[idx(a, i)]) - mean) * (float64(x[idx(a, i)]) - mean)
			}
		}
		v := q / m
		inv := 1 / math.Sqrt(v+1e-5)
		wantRV[c] = 0.9 + 0.1*v*m/(m-1)
		for a := 0; a < d.N; a++ {
			for i := 0; i < d.HW; i++ {
				xh := (float64(x[idx(a, i)]) - mean) * inv
				wantY[idx(a, i)] = xh*float64(gamma[c]) + float64(beta[c])
				sg += float64(dy[idx(a, i)])
				sgx += float64(dy[idx(a, i)]) * xh
			}
		}
		wantDg[c] = sgx
		for a := 0; a < d.N; a++ {
			for i := 0; i < d.HW; i++ {
				xh := (float64(x[idx(a, i)]) - mean) * inv
				wantDx[idx(a, i)] = float64(gamma[c]) * inv * (float64(dy[idx(a, i)]) - sg/m - xh*sgx/m)
			}
		}
	}
	for _, threads := range []int{1, 3} {
		be := cpu.New(threads)
		up := func(v []float32) nn.Buffer { b := be.Alloc(len(v)); be.Upload(b, v); return b }
		xb, dyb, gb, bb := up(x), up(dy), up(gamma), up(beta)
		rm, rv := be.Alloc(d.C), be.Alloc(d.C)
		be.Fill(rv, 1)
		y, sm, si, dx, dg, db := be.Alloc(n), be.Alloc(d.C), be.Alloc(d.C), be.Alloc(n), be.Alloc(d.C), be.Alloc(d.C)
		be.BatchNormTrain(d, xb, gb, bb, rm, rv, y, sm, si)
		be.BatchNormTrainBackward(d, xb, dyb, gb, sm, si, dx, dg, db, true)
		for name, c := range map[string]struct {
			got  []float32
			want []float64
		}{"y": {be.Data(y), wantY}, "dx": {be.Data(dx), wantDx}, "running_var": {be.Data(rv), wantRV}, "dgamma": {be.Data(dg), wantDg}} {
			if e := relErr(c.got, c.want); e > kernTol {
				t.Errorf("offset %v threads %d: %s relative error %.3g", offset, threads, name, e)
			}
		}
	}
}

// TestReLU covers special values (PyTorch keeps -0: relu(-0) = -0), odd
// lengths and chunk boundaries at odd offsets (n > grain), set, in-place set
// and accumulate.
func TestReLU(t *testing.T) {
	special := []float32{0, float32(math.Copysign(0, -1)), 1, -1, float32(math.Inf(1)), float32(math.Inf(-1)), 1e-45, -1e-45, 3.5, -2.25}
	for _, n := range []int{1, 7, len(special), 3*(1<<14) + 5} {
		x := randSlice(n, uint64(n))
		copy(x, special)
		dy := randSlice(n, uint64(n)+1)
		for _, threads := range []int{1, 3} {
			be := cpu.New(threads)
			up := func(v []float32) nn.Buffer { b := be.Alloc(len(v)); be.Upload(b, v); return b }
			xb, dyb, y := up(x), up(dy), be.Alloc(n)
			be.ReLU(xb, y)
			dxAcc, dxSet := up(make([]float32, n)), be.Alloc(n)
			be.Fill(dxAcc, 1)
			be.Fill(dxSet, 7)
			be.ReLUBackward(y, dyb, dxAcc, true)
			be.ReLUBackward(y, dyb, dxSet, false)
			inPlace := up(dy)
			be.ReLUBackward(y, inPlace, inPlace, false)
			for i, v := range x {
				want, g := v, float32(0)
				if v < 0 {
					want = 0
				}
				if v > 0 {
					g = dy[i]
				}
				if got := be.Data(y)[i]; math.Float32bits(got) != math.Float32bits(want) {
					t.Fatalf("n=%d: relu(%v) = %v", n, v, got)
				}
				if be.Data(dxAcc)[i] != 1+g || be.Data(dxSet)[i] != g || be.Data(inPlace)[i] != g {
					t.Fatalf("n=%d i=%d: y=%v dy=%v: acc %v set %v in-place %v, want %v", n, i, be.Data(y)[i], dy[i], be.Data(dxAcc)[i], be.Data(dxSet)[i], be.Data(inPlace)[i], g)
				}
			}
		}
	}
}

// TestWorkersStop: dropped backends do not leak their worker goroutines,
// and a closed backend still computes (single-threaded).
func TestWorkersStop(t *testing.T) {
	before := runtime.NumGoroutine()
	for i := 0; i < 10; i++ {
		be := cpu.New(4)
		be.Fill(be.Alloc(1<<16), 1)
	}
	for i := 0; i < 50 && runtime.NumGoroutine() > before+3; i++ {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before+3 {
		t.Errorf("%d goroutines after dropping 10 backends, %d before", n, before)
	}
	be := cpu.New(3)
	be.Close()
	b := be.Alloc(1 << 16)
	be.Fill(b, 2)
	if got := be.SumSquares(b); got != 4*(1<<16) {
		t.Errorf("closed backend: sum of squares %v", got)
	}
}

// TestMaxPoolTiesSamePadding: 3×3, stride 1, padding 1 (the DARTS max pool,
// which has its own unrolled path) on data full of ties, against the
// reference's first maximum in row-major order, for planes down to 2×2.
func TestMaxPoolTiesSamePadding(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	for _, hw := range [][2]int{{2, 2}, {3, 3}, {5, 7}, {7, 2}, {8, 8}} {
		d := nn.PoolDesc{N: 2, C: 3, H: hw[0], W: hw[1], OH: hw[0], OW: hw[1], K: 3, Stride: 1, Pad: 1}
		n := d.N * d.C * d.H * d.W
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(1 + rng.IntN(3)) // three levels: ties in most windows
		}
		dy := randSlice(n, 43)
		_, wantDx := refPool(d, true, false, x, dy)
		for _, be := range []*cpu.Backend{cpu.New(1), cpu.New(2)} {
			xb, dyb, dx := be.Alloc(n), be.Alloc(n), be.Alloc(n)
			be.Upload(xb, x)
			be.Upload(dyb, dy)
			be.MaxPoolBackward(d, xb, dyb, dx, true)
			if e := relErr(be.Data(dx), wantDx); e > kernTol {
				t.Errorf("%dx%d: dx relative error %.3g", d.H, d.W, e)
			}
		}
	}
}
