//go:build ignore

// dwshift_gen writes dwshift_amd64.s, the AVX-512 "register-shift"
// depthwise kernels: go run dwshift_gen.go (go generate in this package).
//
// One function per kernel size k ∈ {3, 5}, dilation d ∈ {1, 2}, row width
// w ∈ {8, 16, 32} and kind (F: forward, B: data gradient, A: forward of
// value(x), below), for the stride-1 "same" geometry (pad = d·(k-1)/2,
// output h×w, h >= 1). Arguments:
//
//	(n int, src *float32, sPlane, sRow int, dst *float32, dPlane, dRow int, wt *float32, h int, add bool)
//
// for n >= 1 planes: plane p reads src+p·sPlane (rows sRow apart) with weights
// wt+p·k·k and writes dst+p·dPlane (rows dRow apart), or adds to it when
// add. For w = 8 the rows must be contiguous (sRow = dRow = 8; ignored).
// The A kernels are F kernels of value(x) with three more arguments,
// (..., scale, shift *float32, relu bool): as they are loaded, the source
// rows of plane p become x·scale[p] + shift[p] (two roundings; skipped when
// scale is nil), then max(·, 0) when relu, the padding staying zero.
//
// The source rows are loaded unpadded, one 16-float vector (w = 16), two
// (w = 32) or two rows per vector (w = 8); the horizontally shifted copies
// that the taps read are made in registers with VALIGND (zero-filled: the
// zero padding), and each copy feeds every output row of a tile of 8 that
// reads it. Per output element the taps still run in the order ky·k+kx as
// one FMA chain from +0, as in the flat kernels: forward, source rows go
// top to bottom (ky rising), kx rising within a row; the data gradient reads
// source row iy+pad-ky·d, so its source rows go bottom to top and its
// shifts are negated. Source rows outside the plane are skipped (their taps
// would add w·0, which leaves a sum that is not -0 unchanged for finite w).
//
// The S2 kernels (dwsK*D*W*S2F, B, A) are the same for stride 2, input
// w ∈ {16, 32}, h even >= 2, output h/2 × w/2, same arguments (h the input
// height; src and dst the input and output planes forward, dout and din
// for the data gradient): see s2forward, s2forwardPaired, s2backward and
// s2backwardPaired. The S2G kernels are the stride-2 filter gradient, with
// arguments of their own (s2grad).
package main

import (
	"bytes"
	"flag"
	"fmt"
	"log"
	"os"
)

var out = flag.String("o", "dwshift_amd64.s", "output file")

type variant struct {
	k, dil, w int
	bwd       bool // data gradient
	aff       bool // forward of value(x) (the A kernels)
	s2        bool // stride 2 (w is the input width)
	grad      bool // filter gradient (stride 2 only)
}

func (v variant) name() string {
	d := "F"
	if v.bwd {
		d = "B"
	} else if v.grad {
		d = "G"
	} else if v.aff {
		d = "A"
	}
	if v.s2 {
		d = "S2" + d
	}
	return fmt.Sprintf("dwsK%dD%dW%d%s", v.k, v.dil, v.w, d)
}

func (v variant) pad() int { return v.dil * (v.k - 1) / 2 }

// dx is the column offset of the source that tap column kx reads.
func (v variant) dx(kx int) int {
	d := kx*v.dil - v.pad()
	if v.bwd {
		return -d
	}
	return d
}

type gen struct {
	buf bytes.Buffer
	lbl int
}

func (g *gen) p(format string, args ...any) { fmt.Fprintf(&g.buf, format+"\n", args...) }

// label returns a new label name.
func (g *gen) label(base string) string {
	g.lbl++
	return fmt.Sprintf("%s%d", base, g.lbl)
}

const rows = 8 // output rows per tile

// prologue loads the arguments common to every variant:
// CX planes, SI src, BX sRow bytes, DI dst, R13 dRow bytes, DX weights, R8 h.
func (g *gen) prologue(v variant) {
	if v.aff {
		g.p("// func %s(n int, src *float32, sPlane, sRow int, dst *float32, dPlane, dRow int, wt *float32, h int, add bool, scale, shift *float32, relu bool)", v.name())
		g.p("TEXT ·%s(SB), NOSPLIT, $0-97", v.name())
	} else {
		g.p("// func %s(n int, src *float32, sPlane, sRow int, dst *float32, dPlane, dRow int, wt *float32, h int, add bool)", v.name())
		g.p("TEXT ·%s(SB), NOSPLIT, $0-73", v.name())
	}
	g.p("\tMOVQ n+0(FP), CX")
	g.p("\tMOVQ src+8(FP), SI")
	g.p("\tMOVQ sRow+24(FP), BX")
	g.p("\tSHLQ $2, BX")
	g.p("\tMOVQ dst+32(FP), DI")
	g.p("\tMOVQ dRow+48(FP), R13")
	g.p("\tSHLQ $2, R13")
	g.p("\tMOVQ wt+56(FP), DX")
	g.p("\tMOVQ h+64(FP), R8")
	g.p("\tVPXORD Z31, Z31, Z31")
}

// epilogue moves to the next plane and returns after the last.
func (g *gen) epilogue(v variant, planeLbl string) {
	g.p("\tMOVQ sPlane+16(FP), AX")
	g.p("\tLEAQ (SI)(AX*4), SI")
	g.p("\tMOVQ dPlane+40(FP), AX")
	g.p("\tLEAQ (DI)(AX*4), DI")
	g.p("\tADDQ $%d, DX", 4*v.k*v.k)
	g.p("\tDECQ CX")
	g.p("\tJNZ %s", planeLbl)
	g.p("\tVZEROUPPER")
	g.p("\tRET")
	g.p("")
}

// planeStart broadcasts the plane's scale and shift into Z29 and Z30 (A
// kernels with scale != nil; plane n-CX).
func (g *gen) planeStart(v variant) {
	if !v.aff {
		return
	}
	noaff := g.label("noaff")
	g.p("\tMOVQ scale+80(FP), R10")
	g.p("\tTESTQ R10, R10")
	g.p("\tJZ %s", noaff)
	g.p("\tMOVQ n+0(FP), AX")
	g.p("\tSUBQ CX, AX // plane index")
	g.p("\tVBROADCASTSS (R10)(AX*4), Z29")
	g.p("\tMOVQ shift+88(FP), R10")
	g.p("\tVBROADCASTSS (R10)(AX*4), Z30")
	g.p("%s:", noaff)
}

// values turns the loaded source vectors xs into value(x) (A kernels):
// x·scale + shift rounded after each operation when scale != nil, then
// max(0, ·) keeping -0 and NaN when relu, as ScaleShift and ReluForward.
// With masked, only lanes 0-7 are computed and the others zeroed (K6).
func (g *gen) values(v variant, masked bool, xs ...string) {
	if !v.aff {
		return
	}
	z, k := "", ""
	r := xs[0][:1] // register width: Z or Y
	if masked {
		z, k = ".Z", "K6, "
	}
	noaff, norelu := g.label("noaff"), g.label("norelu")
	g.p("\tCMPQ scale+80(FP), $0")
	g.p("\tJEQ %s", noaff)
	for _, x := range xs {
		g.p("\tVMULPS%s %s29, %s, %s%s", z, r, x, k, x)
	}
	for _, x := range xs {
		g.p("\tVADDPS%s %s30, %s, %s%s", z, r, x, k, x)
	}
	g.p("%s:", noaff)
	g.p("\tCMPB relu+96(FP), $0")
	g.p("\tJEQ %s", norelu)
	for _, x := range xs {
		g.p("\tVMAXPS%s %s, %s31, %s%s", z, x, r, k, x)
	}
	g.p("%s:", norelu)
}

// fma is one tap: acc += wt[t]·src.
func (g *gen) fma(t int, src, acc string) {
	g.p("\tVFMADD231PS.BCST %d(DX), %s, %s", 4*t, src, acc)
}

// generic writes the kernel for w = 16 or 32: row vectors of 16 floats,
// V = w/16 per row, a tile of 8 output rows in Z0..Z(8V-1), the k shifted
// copies of a source row in Z16.., the loaded row itself in the centre
// copy's registers (dx = 0), zero in Z31.
func (g *gen) generic(v variant) {
	V := v.w / 16
	k, pad := v.k, v.pad()
	c := (k - 1) / 2
	nsr := rows + 2*pad
	acc := func(i, j int) string { return fmt.Sprintf("Z%d", i*V+j) }
	slot := func(kx, j int) string { return fmt.Sprintf("Z%d", 16+kx*V+j) }
	g.prologue(v)
	plane, tile := g.label("plane"), g.label("tile")
	g.p("%s:", plane)
	g.planeStart(v)
	g.p("\tXORQ R9, R9 // first output row of the tile")
	g.p("%s:", tile)
	for i := range rows * V {
		g.p("\tVPXORD Z%d, Z%d, Z%d", i, i, i)
	}
	g.p("\tMOVQ R9, R11")
	g.p("\tSUBQ $%d, R11 // source row of tile row 0", pad)
	first := 0
	if v.bwd {
		first = nsr - 1
	}
	g.p("\tLEAQ %d(R11), R10", first)
	g.p("\tIMULQ BX, R10")
	g.p("\tADDQ SI, R10 // the first source row read")
	for idx := range nsr {
		sr := idx
		if v.bwd {
			sr = nsr - 1 - idx
		}
		skip := g.label("skip")
		g.p("\t// source row %d of the tile", sr)
		g.p("\tLEAQ %d(R11), AX", sr)
		g.p("\tCMPQ AX, R8")
		g.p("\tJCC %s", skip)
		var xs []string
		for j := range V {
			g.p("\tVMOVUPS %d(R10), %s", 64*j, slot(c, j))
			xs = append(xs, slot(c, j))
		}
		g.values(v, false, xs...)
		for kx := range k {
			d := v.dx(kx)
			if d == 0 {
				continue
			}
			if V == 1 {
				x, s := slot(c, 0), slot(kx, 0)
				if d > 0 {
					g.p("\tVALIGND $%d, %s, Z31, %s", d, x, s)
				} else {
					g.p("\tVALIGND $%d, Z31, %s, %s", 16+d, x, s)
				}
				continue
			}
			x0, x1 := slot(c, 0), slot(c, 1)
			if d > 0 {
				g.p("\tVALIGND $%d, %s, %s, %s", d, x0, x1, slot(kx, 0))
				g.p("\tVALIGND $%d, %s, Z31, %s", d, x1, slot(kx, 1))
			} else {
				g.p("\tVALIGND $%d, Z31, %s, %s", 16+d, x0, slot(kx, 0))
				g.p("\tVALIGND $%d, %s, %s, %s", 16+d, x0, x1, slot(kx, 1))
			}
		}
		for kx := range k {
			for ky := range k {
				i := sr - ky*v.dil // output row of the tile reading this row at ky
				if v.bwd {
					i = sr - 2*pad + ky*v.dil
				}
				if i < 0 || i >= rows {
					continue
				}
				for j := range V {
					g.fma(ky*k+kx, slot(kx, j), acc(i, j))
				}
			}
		}
		g.p("%s:", skip)
		if idx < nsr-1 {
			if v.bwd {
				g.p("\tSUBQ BX, R10")
			} else {
				g.p("\tADDQ BX, R10")
			}
		}
	}
	// Store the rows of the tile that lie in the plane.
	done, addst := g.label("stored"), g.label("addst")
	g.p("\tMOVQ R9, AX")
	g.p("\tIMULQ R13, AX")
	g.p("\tADDQ DI, AX")
	g.p("\tMOVQ R8, R12")
	g.p("\tSUBQ R9, R12 // rows left in the plane")
	g.p("\tCMPB add+72(FP), $0")
	g.p("\tJNE %s", addst)
	for _, add := range []bool{false, true} {
		if add {
			g.p("%s:", addst)
		}
		for i := range rows {
			if i > 0 {
				g.p("\tCMPQ R12, $%d", i)
				g.p("\tJLE %s", done)
				g.p("\tADDQ R13, AX")
			}
			for j := range V {
				if add {
					g.p("\tVADDPS %d(AX), %s, %s", 64*j, acc(i, j), acc(i, j))
				}
				g.p("\tVMOVUPS %s, %d(AX)", acc(i, j), 64*j)
			}
		}
		if !add {
			g.p("\tJMP %s", done)
		}
	}
	g.p("%s:", done)
	g.p("\tADDQ $%d, R9", rows)
	g.p("\tCMPQ R9, R8")
	g.p("\tJLT %s", tile)
	g.epilogue(v, plane)
}

// paired writes the kernel for w = 8: vector U_s holds source rows s and
// s+1 (one load: the rows are contiguous), a tile of 8 output rows is 4
// accumulators Z0..Z3 (rows 2j, 2j+1 in Z(j)), shifted copies in Z16..
// are made with zero-masked VALIGND whose masks (K1..K4) clear the lanes
// that would take a column of the other row. Vectors that reach above or
// below the plane get zeros for the rows outside it; partial output
// vectors are stored under K6 (lanes 0-7).
func (g *gen) paired(v variant) {
	k, pad := v.k, v.pad()
	c := (k - 1) / 2
	const accs = rows / 2
	nsv := rows - 1 + 2*pad // source vectors per tile
	slot := func(kx int) string { return fmt.Sprintf("Z%d", 16+kx) }
	g.prologue(v)
	// Masks of the shifted copies, one per distinct offset.
	maskOf := map[int]string{}
	for kx := range k {
		d := v.dx(kx)
		if d == 0 || maskOf[d] != "" {
			continue
		}
		var b int
		if d > 0 {
			b = (1 << (8 - d)) - 1 // lanes (i%8) < 8-d
		} else {
			b = 0xff &^ ((1 << -d) - 1) // lanes (i%8) >= -d
		}
		kr := fmt.Sprintf("K%d", len(maskOf)+1)
		maskOf[d] = kr
		g.p("\tMOVL $0x%04x, AX", b|b<<8)
		g.p("\tKMOVW AX, %s", kr)
	}
	g.p("\tMOVL $0x00ff, AX")
	g.p("\tKMOVW AX, K6")
	g.p("\tLEAQ -1(R8), R12 // h-1: U_s lies in the plane for unsigned s < h-1")
	plane, tile := g.label("plane"), g.label("tile")
	g.p("%s:", plane)
	g.planeStart(v)
	g.p("\tXORQ R9, R9 // first output row of the tile")
	g.p("%s:", tile)
	for j := range accs {
		g.p("\tVPXORD Z%d, Z%d, Z%d", j, j, j)
	}
	g.p("\tMOVQ R9, R11")
	g.p("\tSUBQ $%d, R11 // source row of vector 0", pad)
	first := 0
	if v.bwd {
		first = nsv - 1
	}
	g.p("\tLEAQ %d(R11), R10", first)
	g.p("\tSHLQ $5, R10")
	g.p("\tADDQ SI, R10 // the first source vector read")
	for idx := range nsv {
		sr := idx
		if v.bwd {
			sr = nsv - 1 - idx
		}
		skip, fast, loaded, nolo := g.label("skip"), g.label("fast"), g.label("loaded"), g.label("nolo")
		x := slot(c)
		g.p("\t// source vector %d of the tile", sr)
		g.p("\tLEAQ %d(R11), AX", sr)
		g.p("\tCMPQ AX, R12")
		g.p("\tJCS %s", fast)
		// One row of the vector lies in the plane (s = h-1 or s = -1), or
		// none: load that row alone (8 floats, no access outside the plane).
		g.p("\tCMPQ AX, R8")
		g.p("\tJCC %s", nolo)
		g.p("\tVMOVUPS (R10), %s // row s = h-1, zero below it", "Y"+x[1:])
		g.values(v, true, x)
		g.p("\tJMP %s", loaded)
		g.p("%s:", nolo)
		g.p("\tINCQ AX")
		g.p("\tCMPQ AX, R8")
		g.p("\tJCC %s // neither row in the plane", skip)
		g.p("\tVMOVUPS 32(R10), %s // row s+1 = 0", "Y"+x[1:])
		g.values(v, true, x)
		g.p("\tVALIGND $8, Z31, %s, %s // to lanes 8-15, zero above it", x, x)
		g.p("\tJMP %s", loaded)
		g.p("%s:", fast)
		g.p("\tVMOVUPS (R10), %s", x)
		g.values(v, false, x)
		g.p("%s:", loaded)
		for kx := range k {
			d := v.dx(kx)
			if d == 0 {
				continue
			}
			if d > 0 {
				g.p("\tVALIGND.Z $%d, %s, Z31, %s, %s", d, x, maskOf[d], slot(kx))
			} else {
				g.p("\tVALIGND.Z $%d, Z31, %s, %s, %s", 16+d, x, maskOf[d], slot(kx))
			}
		}
		for kx := range k {
			for ky := range k {
				r := sr - ky*v.dil // first output row (of the tile) of the vector reading U at ky
				if v.bwd {
					r = sr - 2*pad + ky*v.dil
				}
				if r < 0 || r%2 != 0 || r/2 >= accs {
					continue
				}
				g.fma(ky*k+kx, slot(kx), fmt.Sprintf("Z%d", r/2))
			}
		}
		g.p("%s:", skip)
		if idx < nsv-1 {
			if v.bwd {
				g.p("\tSUBQ $32, R10")
			} else {
				g.p("\tADDQ $32, R10")
			}
		}
	}
	// Store: vector j holds rows 2j and 2j+1 of the tile.
	done, addst := g.label("stored"), g.label("addst")
	g.p("\tMOVQ R9, AX")
	g.p("\tSHLQ $5, AX")
	g.p("\tADDQ DI, AX")
	g.p("\tMOVQ R8, BX")
	g.p("\tSUBQ R9, BX // rows left in the plane")
	g.p("\tCMPB add+72(FP), $0")
	g.p("\tJNE %s", addst)
	for _, add := range []bool{false, true} {
		if add {
			g.p("%s:", addst)
		}
		for j := range accs {
			// rows left <= 2j: done; 2j+1: the lower half; more: all.
			a := fmt.Sprintf("Z%d", j)
			half, next := g.label("half"), g.label("next")
			if j > 0 {
				g.p("\tCMPQ BX, $%d", 2*j)
				g.p("\tJLE %s", done)
			}
			g.p("\tCMPQ BX, $%d", 2*j+1)
			g.p("\tJEQ %s", half)
			if add {
				g.p("\tVADDPS %d(AX), %s, %s", 64*j, a, a)
			}
			g.p("\tVMOVUPS %s, %d(AX)", a, 64*j)
			g.p("\tJMP %s", next)
			g.p("%s:", half)
			if add {
				g.p("\tVMOVUPS.Z %d(AX), K6, Z28", 64*j)
				g.p("\tVADDPS Z28, %s, %s", a, a)
			}
			g.p("\tVMOVUPS %s, K6, %d(AX)", a, 64*j)
			g.p("\tJMP %s", done)
			g.p("%s:", next)
		}
		if !add {
			g.p("\tJMP %s", done)
		}
	}
	g.p("%s:", done)
	g.p("\tADDQ $%d, R9", rows)
	g.p("\tCMPQ R9, R8")
	g.p("\tJLT %s", tile)
	g.epilogue(v, plane)
}

// Stride 2. The input rows (w = 16 or 32 floats) are split into their even
// and odd columns E and O (w/2 floats each, the output width L) with
// VPERMT2PS. Input column 2·ox + e is E[ox + e/2] for even e and
// O[ox + (e-1)/2] for odd e, so every tap reads E or O shifted by at most
// 2 lanes, zero-filled by VALIGND (the zero padding). Rows of L = 16 take a
// Z register; rows of L = 8 half a Z register, two rows to a vector
// (s2forwardPaired, s2backwardPaired), or a Y register (s2grad).

// s2reg names register n at the output width L.
func s2reg(L, n int) string {
	if L == 8 {
		return fmt.Sprintf("Y%d", n)
	}
	return fmt.Sprintf("Z%d", n)
}

// shift sets dst[j] = x[j+d] for j < L, zero where j+d is outside [0, L).
func (g *gen) shift(L, d int, x, dst string) {
	zero := x[:1] + "31"
	if d > 0 {
		g.p("\tVALIGND $%d, %s, %s, %s", d, x, zero, dst)
	} else {
		g.p("\tVALIGND $%d, %s, %s, %s", L+d, zero, x, dst)
	}
}

// s2forward writes the stride-2 forward kernel (F or A) for w = 32 (output
// rows of 16): a tile of R = 16 output rows in Z0..Z15, E in Z16, O in Z17,
// the shifted copies of tap column kx in Z(18+kx), the split tables in Z26
// and Z27. Tile row i reads source row 2·i + ky·d of the tile (source row
// 0 = input row 2·oy0 - pad).
func (g *gen) s2forward(v variant) {
	const L, R = 16, 16
	k, pad, dil := v.k, v.pad(), v.dil
	nsr := 2*R - 1 + 2*(k-1)*dil/2 // source rows per tile
	reg := func(n int) string { return s2reg(L, n) }
	useO := false
	src := make([]string, k)
	for kx := range k {
		e := kx*dil - pad
		base := 16
		if e&1 != 0 {
			base, useO = 17, true
		}
		if e>>1 == 0 {
			src[kx] = reg(base)
		} else {
			src[kx] = reg(18 + kx)
		}
	}
	g.prologue(v)
	g.p("\tVMOVUPS dwsEven<>(SB), Z26")
	g.p("\tVMOVUPS dwsOdd<>(SB), Z27")
	plane, tile := g.label("plane"), g.label("tile")
	g.p("%s:", plane)
	g.planeStart(v)
	g.p("\tXORQ R9, R9 // first output row of the tile")
	g.p("%s:", tile)
	for i := range R {
		g.p("\tVPXORD %s, %s, %s", reg(i), reg(i), reg(i))
	}
	g.p("\tLEAQ -%d(R9)(R9*1), R11 // input row of source row 0", pad)
	g.p("\tMOVQ R11, R10")
	g.p("\tIMULQ BX, R10")
	g.p("\tADDQ SI, R10")
	for sr := range nsr {
		skip := g.label("skip")
		g.p("\t// source row %d of the tile", sr)
		g.p("\tLEAQ %d(R11), AX", sr)
		g.p("\tCMPQ AX, R8")
		g.p("\tJCC %s", skip)
		xs := []string{reg(16)}
		g.p("\tVMOVUPS (R10), Z16")
		g.p("\tVPERMT2PS 64(R10), Z26, Z16")
		if useO {
			g.p("\tVMOVUPS (R10), Z17")
			g.p("\tVPERMT2PS 64(R10), Z27, Z17")
		}
		if useO {
			xs = append(xs, reg(17))
		}
		g.values(v, false, xs...)
		for kx := range k {
			e := kx*dil - pad
			if e>>1 != 0 {
				base := reg(16 + e&1)
				g.shift(L, e>>1, base, src[kx])
			}
		}
		for kx := range k {
			for ky := range k {
				i := sr - ky*dil
				if i < 0 || i%2 != 0 || i/2 >= R {
					continue
				}
				g.fma(ky*k+kx, src[kx], reg(i/2))
			}
		}
		g.p("%s:", skip)
		if sr < nsr-1 {
			g.p("\tADDQ BX, R10")
		}
	}
	done, addst := g.label("stored"), g.label("addst")
	g.p("\tMOVQ R9, AX")
	g.p("\tIMULQ R13, AX")
	g.p("\tADDQ DI, AX")
	g.p("\tMOVQ R8, R12")
	g.p("\tSHRQ $1, R12")
	g.p("\tSUBQ R9, R12 // output rows left in the plane")
	g.p("\tCMPB add+72(FP), $0")
	g.p("\tJNE %s", addst)
	for _, add := range []bool{false, true} {
		if add {
			g.p("%s:", addst)
		}
		for i := range R {
			if i > 0 {
				g.p("\tCMPQ R12, $%d", i)
				g.p("\tJLE %s", done)
				g.p("\tADDQ R13, AX")
			}
			if add {
				g.p("\tVADDPS (AX), %s, %s", reg(i), reg(i))
			}
			g.p("\tVMOVUPS %s, (AX)", reg(i))
		}
		if !add {
			g.p("\tJMP %s", done)
		}
	}
	g.p("%s:", done)
	g.p("\tADDQ $%d, R9", R)
	g.p("\tMOVQ R8, AX")
	g.p("\tSHRQ $1, AX")
	g.p("\tCMPQ R9, AX")
	g.p("\tJLT %s", tile)
	g.epilogue(v, plane)
}

// s2forwardPaired writes the stride-2 forward kernel (F or A) for w = 16
// (output rows of 8): Z(j) holds output rows j and j+4 of a tile of 8,
// so a source vector holds input row r in lanes 0-7 and row r+8 in lanes
// 8-15, split into even and odd columns together: VPERMT2PS of the two
// loaded rows (Z16, Z17; zero for a row outside the plane) into E (Z18)
// and O (Z19). The shifted copies (Z20+kx) are zero-masked per half (K1..:
// the lanes that would take the other row's columns, or none: the
// padding). Tile row i reads source row 2·i + ky·d.
func (g *gen) s2forwardPaired(v variant) {
	const R = 8
	k, pad, dil := v.k, v.pad(), v.dil
	nsr := R - 1 + 2*pad // source vectors per tile
	useO := false
	src := make([]string, k)
	for kx := range k {
		e := kx*dil - pad
		base := 18
		if e&1 != 0 {
			base, useO = 19, true
		}
		src[kx] = fmt.Sprintf("Z%d", base)
		if e>>1 != 0 {
			src[kx] = fmt.Sprintf("Z%d", 20+kx)
		}
	}
	g.prologue(v)
	g.p("\tVMOVUPS dwsEven<>(SB), Z26")
	g.p("\tVMOVUPS dwsOdd<>(SB), Z27")
	maskOf := map[int]string{}
	for kx := range k {
		d := (kx*dil - pad) >> 1
		if d == 0 || maskOf[d] != "" {
			continue
		}
		var b int
		if d > 0 {
			b = (1 << (8 - d)) - 1 // lanes (i%8) < 8-d
		} else {
			b = 0xff &^ ((1 << -d) - 1) // lanes (i%8) >= -d
		}
		kr := fmt.Sprintf("K%d", len(maskOf)+1)
		maskOf[d] = kr
		g.p("\tMOVL $0x%04x, AX", b|b<<8)
		g.p("\tKMOVW AX, %s", kr)
	}
	plane, tile := g.label("plane"), g.label("tile")
	g.p("%s:", plane)
	g.planeStart(v)
	g.p("\tXORQ R9, R9 // first output row of the tile")
	g.p("%s:", tile)
	for j := range R / 2 {
		g.p("\tVPXORD Z%d, Z%d, Z%d", j, j, j)
	}
	g.p("\tLEAQ -%d(R9)(R9*1), R11 // input row of source row 0", pad)
	g.p("\tMOVQ R11, R10")
	g.p("\tIMULQ BX, R10")
	g.p("\tADDQ SI, R10 // source row 0")
	g.p("\tLEAQ (R10)(BX*8), R12 // 8 rows below")
	for sr := range nsr {
		skip, lowIn, hiIn, loaded := g.label("skip"), g.label("lowin"), g.label("hiin"), g.label("loaded")
		g.p("\t// source rows %d and %d of the tile", sr, sr+8)
		g.p("\tLEAQ %d(R11), AX", sr)
		g.p("\tCMPQ AX, R8")
		g.p("\tJCS %s", lowIn)
		g.p("\tVPXORD Z16, Z16, Z16")
		g.p("\tLEAQ %d(R11), AX", sr+8)
		g.p("\tCMPQ AX, R8")
		g.p("\tJCC %s // neither row in the plane", skip)
		g.p("\tVMOVUPS (R12), Z17")
		g.values(v, false, "Z17")
		g.p("\tJMP %s", loaded)
		g.p("%s:", lowIn)
		g.p("\tVMOVUPS (R10), Z16")
		g.values(v, false, "Z16")
		g.p("\tLEAQ %d(R11), AX", sr+8)
		g.p("\tCMPQ AX, R8")
		g.p("\tJCS %s", hiIn)
		g.p("\tVPXORD Z17, Z17, Z17")
		g.p("\tJMP %s", loaded)
		g.p("%s:", hiIn)
		g.p("\tVMOVUPS (R12), Z17")
		g.values(v, false, "Z17")
		g.p("%s:", loaded)
		g.p("\tVMOVAPS Z16, Z18")
		g.p("\tVPERMT2PS Z17, Z26, Z18")
		if useO {
			g.p("\tVMOVAPS Z16, Z19")
			g.p("\tVPERMT2PS Z17, Z27, Z19")
		}
		for kx := range k {
			e := kx*dil - pad
			d := e >> 1
			if d == 0 {
				continue
			}
			base := fmt.Sprintf("Z%d", 18+e&1)
			if d > 0 {
				g.p("\tVALIGND.Z $%d, %s, Z31, %s, %s", d, base, maskOf[d], src[kx])
			} else {
				g.p("\tVALIGND.Z $%d, Z31, %s, %s, %s", 16+d, base, maskOf[d], src[kx])
			}
		}
		for kx := range k {
			for ky := range k {
				i := sr - ky*dil
				if i < 0 || i%2 != 0 || i/2 >= R/2 {
					continue
				}
				g.fma(ky*k+kx, src[kx], fmt.Sprintf("Z%d", i/2))
			}
		}
		g.p("%s:", skip)
		if sr < nsr-1 {
			g.p("\tADDQ BX, R10")
			g.p("\tADDQ BX, R12")
		}
	}
	// Store: rows 0-3 from the low halves, 4-7 from the high halves.
	done, addst := g.label("stored"), g.label("addst")
	g.p("\tMOVQ R9, AX")
	g.p("\tIMULQ R13, AX")
	g.p("\tADDQ DI, AX")
	g.p("\tMOVQ R8, R12")
	g.p("\tSHRQ $1, R12")
	g.p("\tSUBQ R9, R12 // output rows left in the plane")
	g.p("\tCMPB add+72(FP), $0")
	g.p("\tJNE %s", addst)
	for _, add := range []bool{false, true} {
		if add {
			g.p("%s:", addst)
		}
		for i := range R {
			if i > 0 {
				g.p("\tCMPQ R12, $%d", i)
				g.p("\tJLE %s", done)
				g.p("\tADDQ R13, AX")
			}
			y := fmt.Sprintf("Y%d", i)
			if i >= R/2 {
				y = "Y28"
				g.p("\tVEXTRACTF64X4 $1, Z%d, Y28", i-R/2)
			}
			if add {
				g.p("\tVADDPS (AX), %s, %s", y, y)
			}
			g.p("\tVMOVUPS %s, (AX)", y)
		}
		if !add {
			g.p("\tJMP %s", done)
		}
	}
	g.p("%s:", done)
	g.p("\tADDQ $%d, R9", R)
	g.p("\tMOVQ R8, AX")
	g.p("\tSHRQ $1, AX")
	g.p("\tCMPQ R9, AX")
	g.p("\tJLT %s", tile)
	g.epilogue(v, plane)
}

// s2backward writes the stride-2 data gradient kernel for w = 32 (dout
// rows of 16): a tile of R = 8 input rows, the sums at the even columns of
// row i in Z(2i) and at the odd ones in Z(2i+1); the dout row in Z16, its
// shifted copies for tap column kx in Z(17+kx), the merge tables in Z26
// and Z27. Even column 2j of input row iy takes the taps (ky, kx) with
// pad - kx·d even, reading dout[(iy+pad-ky·d)/2][j + (pad-kx·d)/2]; odd
// column 2j+1 those with pad - kx·d odd, reading column j + (pad+1-kx·d)/2.
// dout rows go bottom to top (ky rising). Each row's sums are stored as
// +0 + sum or added to din, as the flat path adds its phase planes to a
// cleared or accumulating din (with AVX-512 it adds whole rows, +0 at the
// columns no tap reaches: the odd ones at dilation 2); rows that no tap
// reaches (dilation 2: the odd ones) are set to +0 or left alone.
func (g *gen) s2backward(v variant) {
	const L, R = 16, 8
	k, pad, dil := v.k, v.pad(), v.dil
	p2 := (pad + 1) / 2
	nd := (R-1+pad)/2 + p2 + 1 // dout rows per tile, from iy0/2 - p2
	reg := func(n int) string { return s2reg(L, n) }
	rowTaps := func(i int) bool {
		for ky := range k {
			if (i+pad-ky*dil)&1 == 0 {
				return true
			}
		}
		return false
	}
	g.prologue(v)
	g.p("\tVMOVUPS dwsLo<>(SB), Z26")
	g.p("\tVMOVUPS dwsHi<>(SB), Z27")
	plane, tile := g.label("plane"), g.label("tile")
	g.p("%s:", plane)
	g.p("\tXORQ R9, R9 // first input row of the tile")
	g.p("%s:", tile)
	for i := range 2 * R {
		g.p("\tVPXORD %s, %s, %s", reg(i), reg(i), reg(i))
	}
	g.p("\tMOVQ R9, R11")
	g.p("\tSHRQ $1, R11")
	g.p("\tSUBQ $%d, R11 // dout row of tile row 0", p2)
	g.p("\tLEAQ %d(R11), R10", nd-1)
	g.p("\tIMULQ BX, R10")
	g.p("\tADDQ SI, R10 // the first dout row read")
	g.p("\tMOVQ R8, R12")
	g.p("\tSHRQ $1, R12 // oh")
	for r := nd - 1; r >= 0; r-- {
		skip := g.label("skip")
		g.p("\t// dout row %d of the tile", r)
		g.p("\tLEAQ %d(R11), AX", r)
		g.p("\tCMPQ AX, R12")
		g.p("\tJCC %s", skip)
		g.p("\tVMOVUPS (R10), %s", reg(16))
		src := make([]string, k)
		for kx := range k {
			e := pad - kx*dil
			d := e >> 1
			if e&1 != 0 {
				d = (e + 1) >> 1
			}
			if d == 0 {
				src[kx] = reg(16)
				continue
			}
			src[kx] = reg(17 + kx)
			g.shift(L, d, reg(16), src[kx])
		}
		for kx := range k {
			odd := (pad-kx*dil)&1 != 0
			for ky := range k {
				i := 2*r - 2*p2 - pad + ky*dil
				if i < 0 || i >= R {
					continue
				}
				a := 2 * i
				if odd {
					a++
				}
				g.fma(ky*k+kx, src[kx], reg(a))
			}
		}
		g.p("%s:", skip)
		if r > 0 {
			g.p("\tSUBQ BX, R10")
		}
	}
	// Store: merge the even and odd sums of each row into din order.
	done, addst := g.label("stored"), g.label("addst")
	g.p("\tMOVQ R9, AX")
	g.p("\tIMULQ R13, AX")
	g.p("\tADDQ DI, AX")
	g.p("\tMOVQ R8, R12")
	g.p("\tSUBQ R9, R12 // rows left in the plane")
	g.p("\tCMPB add+72(FP), $0")
	g.p("\tJNE %s", addst)
	for _, add := range []bool{false, true} {
		if add {
			g.p("%s:", addst)
		}
		for i := range R {
			if i > 0 {
				g.p("\tCMPQ R12, $%d", i)
				g.p("\tJLE %s", done)
				g.p("\tADDQ R13, AX")
			}
			e, o := fmt.Sprintf("Z%d", 2*i), fmt.Sprintf("Z%d", 2*i+1)
			g.p("\tVMOVUPS %s, Z22", e)
			g.p("\tVPERMT2PS %s, Z26, Z22", o)
			g.p("\tVPERMT2PS %s, Z27, %s", o, e)
			for j, x := range []string{"Z22", e} { // din order
				switch {
				case !add && !rowTaps(i):
					g.p("\tVMOVUPS Z31, %d(AX)", 64*j)
				case !add:
					g.p("\tVADDPS Z31, %s, %s", x, x)
					g.p("\tVMOVUPS %s, %d(AX)", x, 64*j)
				case rowTaps(i):
					g.p("\tVADDPS %d(AX), %s, %s", 64*j, x, x)
					g.p("\tVMOVUPS %s, %d(AX)", x, 64*j)
				}
			}
		}
		if !add {
			g.p("\tJMP %s", done)
		}
	}
	g.p("%s:", done)
	g.p("\tADDQ $%d, R9", R)
	g.p("\tCMPQ R9, R8")
	g.p("\tJLT %s", tile)
	g.epilogue(v, plane)
}

// s2backwardPaired writes the stride-2 data gradient kernel for w = 16
// (dout rows of 8): input rows i and i+4 of a tile of 8 share a vector,
// their even-column sums in Z(2i), odd in Z(2i+1) (lanes 0-7 row i, 8-15
// row i+4), fed by the dout vector (Z16) of rows r and r+2 (zero for a row
// outside the plane); its shifted copies (Z(17+kx)) are zero-masked per
// half (K1..). Otherwise as s2backward.
func (g *gen) s2backwardPaired(v variant) {
	const R = 8
	k, pad, dil := v.k, v.pad(), v.dil
	p2 := (pad + 1) / 2
	nd := (R/2-1+pad)/2 + p2 + 1 // dout vectors per tile, from iy0/2 - p2
	rowTaps := func(i int) bool {
		for ky := range k {
			if (i+pad-ky*dil)&1 == 0 {
				return true
			}
		}
		return false
	}
	shiftOf := func(kx int) int {
		e := pad - kx*dil
		if e&1 != 0 {
			return (e + 1) >> 1
		}
		return e >> 1
	}
	g.prologue(v)
	g.p("\tVMOVUPS dwsLo<>(SB), Z26")
	g.p("\tVMOVUPS dwsHi<>(SB), Z27")
	maskOf := map[int]string{}
	for kx := range k {
		d := shiftOf(kx)
		if d == 0 || maskOf[d] != "" {
			continue
		}
		var b int
		if d > 0 {
			b = (1 << (8 - d)) - 1 // lanes (i%8) < 8-d
		} else {
			b = 0xff &^ ((1 << -d) - 1) // lanes (i%8) >= -d
		}
		kr := fmt.Sprintf("K%d", len(maskOf)+1)
		maskOf[d] = kr
		g.p("\tMOVL $0x%04x, AX", b|b<<8)
		g.p("\tKMOVW AX, %s", kr)
	}
	plane, tile := g.label("plane"), g.label("tile")
	g.p("%s:", plane)
	g.p("\tXORQ R9, R9 // first input row of the tile")
	g.p("%s:", tile)
	for i := range R {
		g.p("\tVPXORD Z%d, Z%d, Z%d", i, i, i)
	}
	g.p("\tMOVQ R9, R11")
	g.p("\tSHRQ $1, R11")
	g.p("\tSUBQ $%d, R11 // dout row of vector 0", p2)
	g.p("\tLEAQ %d(R11), R10", nd-1)
	g.p("\tIMULQ BX, R10")
	g.p("\tADDQ SI, R10 // the first dout vector read")
	g.p("\tMOVQ R8, R12")
	g.p("\tSHRQ $1, R12 // oh")
	for r := nd - 1; r >= 0; r-- {
		skip, lowIn, loaded := g.label("skip"), g.label("lowin"), g.label("loaded")
		g.p("\t// dout rows %d and %d of the tile", r, r+2)
		g.p("\tLEAQ %d(R11), AX", r)
		g.p("\tCMPQ AX, R12")
		g.p("\tJCS %s", lowIn)
		g.p("\tLEAQ %d(R11), AX", r+2)
		g.p("\tCMPQ AX, R12")
		g.p("\tJCC %s // neither row in the plane", skip)
		g.p("\tVPXORD Z16, Z16, Z16")
		g.p("\tVINSERTF64X4 $1, (R10)(BX*2), Z16, Z16")
		g.p("\tJMP %s", loaded)
		g.p("%s:", lowIn)
		g.p("\tVMOVUPS (R10), Y16 // zero above")
		g.p("\tLEAQ %d(R11), AX", r+2)
		g.p("\tCMPQ AX, R12")
		g.p("\tJCC %s", loaded)
		g.p("\tVINSERTF64X4 $1, (R10)(BX*2), Z16, Z16")
		g.p("%s:", loaded)
		src := make([]string, k)
		for kx := range k {
			d := shiftOf(kx)
			if d == 0 {
				src[kx] = "Z16"
				continue
			}
			src[kx] = fmt.Sprintf("Z%d", 17+kx)
			if d > 0 {
				g.p("\tVALIGND.Z $%d, Z16, Z31, %s, %s", d, maskOf[d], src[kx])
			} else {
				g.p("\tVALIGND.Z $%d, Z31, Z16, %s, %s", 16+d, maskOf[d], src[kx])
			}
		}
		for kx := range k {
			odd := (pad-kx*dil)&1 != 0
			for ky := range k {
				i := 2*r - 2*p2 - pad + ky*dil
				if i < 0 || i >= R/2 {
					continue
				}
				a := 2 * i
				if odd {
					a++
				}
				g.fma(ky*k+kx, src[kx], fmt.Sprintf("Z%d", a))
			}
		}
		g.p("%s:", skip)
		if r > 0 {
			g.p("\tSUBQ BX, R10")
		}
	}
	// Store: row i < 4 from the low halves, i+4 from the high halves.
	done, addst := g.label("stored"), g.label("addst")
	g.p("\tMOVQ R9, AX")
	g.p("\tIMULQ R13, AX")
	g.p("\tADDQ DI, AX")
	g.p("\tMOVQ R8, R12")
	g.p("\tSUBQ R9, R12 // rows left in the plane")
	g.p("\tCMPB add+72(FP), $0")
	g.p("\tJNE %s", addst)
	for _, add := range []bool{false, true} {
		if add {
			g.p("%s:", addst)
		}
		for i := range R {
			if i > 0 {
				g.p("\tCMPQ R12, $%d", i)
				g.p("\tJLE %s", done)
				g.p("\tADDQ R13, AX")
			}
			j := i % (R / 2)
			e, o := fmt.Sprintf("Z%d", 2*j), fmt.Sprintf("Z%d", 2*j+1)
			x := e
			if i < R/2 {
				x = "Z22"
				g.p("\tVMOVAPS %s, Z22", e)
				g.p("\tVPERMT2PS %s, Z26, Z22", o)
			} else {
				g.p("\tVPERMT2PS %s, Z27, %s", o, e)
			}
			switch {
			case !add && !rowTaps(i):
				g.p("\tVMOVUPS Z31, (AX)")
			case !add:
				g.p("\tVADDPS Z31, %s, %s", x, x)
				g.p("\tVMOVUPS %s, (AX)", x)
			case rowTaps(i):
				g.p("\tVADDPS (AX), %s, %s", x, x)
				g.p("\tVMOVUPS %s, (AX)", x)
			}
		}
		if !add {
			g.p("\tJMP %s", done)
		}
	}
	g.p("%s:", done)
	g.p("\tADDQ $%d, R9", R)
	g.p("\tCMPQ R9, R8")
	g.p("\tJLT %s", tile)
	g.epilogue(v, plane)
}

// s2tables writes the split (dwsEven, dwsOdd) and merge (dwsLo, dwsHi)
// permutations of the stride-2 kernels and the order of the filter
// gradient's lane sums (dwsRed).
func (g *gen) s2tables() {
	tab := func(name string, f func(i int) int) {
		for i := range 16 {
			g.p("DATA %s<>+%d(SB)/4, $%d", name, 4*i, f(i))
		}
		g.p("GLOBL %s<>(SB), RODATA|NOPTR, $64", name)
		g.p("")
	}
	tab("dwsEven", func(i int) int { return 2 * i })
	tab("dwsOdd", func(i int) int { return 2*i + 1 })
	tab("dwsLo", func(i int) int { return i/2 + 16*(i&1) })
	tab("dwsHi", func(i int) int { return 8 + i/2 + 16*(i&1) })
	tab("dwsRed", func(i int) int { return redLane[i] })
}

// s2grad writes the stride-2 filter gradient kernel (G):
//
//	(np int, in *float32, ins int, dout *float32, douts int, h int, dwt *float32)
//
// for np >= 1 planes h×w (input, ins floats apart) and h/2 × w/2 (dout,
// douts floats apart): tap t = ky·k+kx of plane p sums
// dout[oy][j]·in[2·oy-pad+ky·d][2·j+kx·d-pad] over the pixels inside the
// plane, and that sum is added to dwt[t], plane after plane. The tap's
// products go into accumulator Z(t) (25 at k = 5), lane m taking input
// column E or O lane m (input row split as in s2forward) times dout lane
// m - s: instead of the input, the dout row is shifted, by the -s of every
// tap column's E/O shift s (zero-filled: the padding), once per dout row
// into Z27..Z30 (the unshifted one read from memory). Each lane sums its
// products oy after oy; at the end of the plane a tree of adds (s2reduce)
// sums the lanes of 16 accumulators (9 more at k = 5) into one vector,
// which is permuted into tap order (dwsRed) and added to dwt.
func (g *gen) s2grad(v variant) {
	L := v.w / 2
	k, pad, dil := v.k, v.pad(), v.dil
	reg := func(n int) string { return s2reg(L, n) }
	useO := false
	for kx := range k {
		if (kx*dil-pad)&1 != 0 {
			useO = true
		}
	}
	// Registers after the accumulators: E, O (when a tap reads it), the
	// split tables, the dout copies: shift s of E/O → the copy shifted by
	// -s. Z31 is zero; the reduction's temp is the first after the
	// accumulators.
	next := k * k
	alloc := func() int { next++; return next - 1 }
	eR, oR, tE, tO := alloc(), -1, -1, -1
	if useO {
		oR = alloc()
	}
	tE = alloc()
	if useO {
		tO = alloc()
	}
	dsh := map[int]string{0: "(R12)"}
	var shifts []int
	for kx := range k {
		s := (kx*dil - pad) >> 1
		if _, ok := dsh[s]; !ok {
			dsh[s] = reg(alloc())
			shifts = append(shifts, s)
		}
	}
	if next > 31 {
		panic("s2grad: out of registers")
	}
	tmp := fmt.Sprintf("Z%d", k*k)
	rowBytes := 4 * v.w
	g.p("// func %s(np int, in *float32, ins int, dout *float32, douts int, h int, dwt *float32)", v.name())
	g.p("TEXT ·%s(SB), NOSPLIT, $0-56", v.name())
	g.p("\tMOVQ np+0(FP), CX")
	g.p("\tMOVQ in+8(FP), SI")
	g.p("\tMOVQ ins+16(FP), BX")
	g.p("\tSHLQ $2, BX")
	g.p("\tMOVQ dout+24(FP), DI")
	g.p("\tMOVQ douts+32(FP), R13")
	g.p("\tSHLQ $2, R13")
	g.p("\tMOVQ h+40(FP), R8")
	g.p("\tMOVQ dwt+48(FP), DX")
	g.p("\tMOVL $0x01ff, AX")
	g.p("\tKMOVW AX, K1 // the last 9 taps of dwt")
	plane, row := g.label("plane"), g.label("row")
	g.p("%s:", plane)
	g.p("\tVPXORD Z31, Z31, Z31")
	g.p("\tVMOVUPS dwsEven<>(SB), Z%d", tE)
	if useO {
		g.p("\tVMOVUPS dwsOdd<>(SB), Z%d", tO)
	}
	for t := range k * k {
		g.p("\tVPXORD Z%d, Z%d, Z%d", t, t, t)
	}
	g.p("\tXORQ R9, R9 // oy")
	g.p("\tMOVQ DI, R12 // dout row oy")
	g.p("%s:", row)
	g.p("\tLEAQ -%d(R9)(R9*1), R11 // input row of ky = 0", pad)
	g.p("\tMOVQ R11, R10")
	g.p("\tIMULQ $%d, R10", rowBytes)
	g.p("\tADDQ SI, R10")
	// Shifted dout copies; the last is made in place from the loaded row.
	if len(shifts) > 0 {
		first := dsh[shifts[0]]
		g.p("\tVMOVUPS (R12), %s", first)
		for _, s := range shifts[1:] {
			g.shift(L, -s, first, dsh[s])
		}
		g.shift(L, -shifts[0], first, first)
	}
	E, O := reg(eR), reg(oR)
	for ky := range k {
		skip := g.label("skip")
		off := ky * dil * rowBytes
		g.p("\tLEAQ %d(R11), AX", ky*dil)
		g.p("\tCMPQ AX, R8")
		g.p("\tJCC %s", skip)
		if L == 16 {
			g.p("\tVMOVUPS %d(R10), Z%d", off, eR)
			g.p("\tVPERMT2PS %d(R10), Z%d, Z%d", off+64, tE, eR)
			if useO {
				g.p("\tVMOVUPS %d(R10), Z%d", off, oR)
				g.p("\tVPERMT2PS %d(R10), Z%d, Z%d", off+64, tO, oR)
			}
		} else {
			g.p("\tVPERMPS %d(R10), Z%d, Z%d", off, tE, eR)
			if useO {
				g.p("\tVPERMPS %d(R10), Z%d, Z%d", off, tO, oR)
			}
		}
		for kx := range k {
			e := kx*dil - pad
			base := E
			if e&1 != 0 {
				base = O
			}
			g.p("\tVFMADD231PS %s, %s, %s", dsh[e>>1], base, reg(ky*k+kx))
		}
		g.p("%s:", skip)
	}
	g.p("\tADDQ $%d, R12", 4*L)
	g.p("\tINCQ R9")
	g.p("\tLEAQ (R9)(R9*1), AX")
	g.p("\tCMPQ AX, R8")
	g.p("\tJLT %s", row)
	// Reduce and add to dwt.
	for base := 0; base < k*k; base += 16 {
		var accs [16]string
		for i := range accs {
			accs[i] = "Z31"
			if base+i < k*k {
				accs[i] = fmt.Sprintf("Z%d", base+i)
			}
		}
		res := g.s2reduce(accs, tmp)
		g.p("\tVMOVUPS dwsRed<>(SB), %s", tmp)
		g.p("\tVPERMPS %s, %s, %s", res, tmp, res)
		if k*k-base >= 16 {
			g.p("\tVADDPS %d(DX), %s, %s", 4*base, res, res)
			g.p("\tVMOVUPS %s, %d(DX)", res, 4*base)
		} else {
			g.p("\tVMOVUPS.Z %d(DX), K1, %s", 4*base, tmp)
			g.p("\tVADDPS %s, %s, %s", tmp, res, res)
			g.p("\tVMOVUPS %s, K1, %d(DX)", res, 4*base)
		}
	}
	g.p("\tADDQ BX, SI")
	g.p("\tADDQ R13, DI")
	g.p("\tDECQ CX")
	g.p("\tJNZ %s", plane)
	g.p("\tVZEROUPPER")
	g.p("\tRET")
	g.p("")
}

// redLanes is the symbolic content of a vector during s2reduce: per lane,
// the accumulator (-1: zero) and the mask of its lanes summed there.
type redLanes [16]struct {
	acc  int
	mask uint16
}

// s2reduce emits the lane sums of the 16 vectors accs (the accumulators
// Z0..Z24 for k² <= 9 or a half of 25; "Z31" = zero, left alone) as one
// vector, returning its register; the lanes of accs[i] end up in lane
// redLane[i] (checked symbolically: the generator panics otherwise). tmp is
// a scratch register; the accumulators are overwritten.
func (g *gen) s2reduce(accs [16]string, tmp string) string {
	sym := map[string]*redLanes{}
	get := func(r string) *redLanes {
		if s, ok := sym[r]; ok {
			return s
		}
		s := new(redLanes)
		for l := range s {
			s[l].acc = -1
		}
		return s
	}
	for i, r := range accs {
		if r == "Z31" {
			continue
		}
		s := new(redLanes)
		for l := range s {
			s[l].acc, s[l].mask = i, 1<<l
		}
		sym[r] = s
	}
	// Symbolic ops, mirroring the emitted instructions.
	add := func(a, b *redLanes) *redLanes {
		var r redLanes
		for l := range r {
			x, y := a[l], b[l]
			switch {
			case x.acc < 0:
				r[l] = y
			case y.acc < 0:
				r[l] = x
			case x.acc != y.acc || x.mask&y.mask != 0:
				panic("s2reduce: lanes of different accumulators added")
			default:
				r[l].acc, r[l].mask = x.acc, x.mask|y.mask
			}
		}
		return &r
	}
	// quarters picks 128-bit quarters (VSHUFF32X4 imm): q0, q1 from a, q2, q3 from b.
	quarters := func(imm int, a, b *redLanes) *redLanes {
		var r redLanes
		for q := range 4 {
			src := a
			if q >= 2 {
				src = b
			}
			sel := imm >> (2 * q) & 3
			for i := range 4 {
				r[4*q+i] = src[4*sel+i]
			}
		}
		return &r
	}
	// shufps picks within each 128-bit quarter (VSHUFPS imm): lanes 0, 1 from a, 2, 3 from b.
	shufps := func(imm int, a, b *redLanes) *redLanes {
		var r redLanes
		for q := range 4 {
			for i := range 4 {
				src := a
				if i >= 2 {
					src = b
				}
				r[4*q+i] = src[4*q+(imm>>(2*i)&3)]
			}
		}
		return &r
	}
	// Level 1: a[i] = [a[i].lo + a[i].hi, a[i+8].lo + a[i+8].hi].
	for i := range 8 {
		a, b := accs[i], accs[i+8]
		g.p("\tVSHUFF64X2 $0xEE, %s, %s, %s", b, a, tmp)
		g.p("\tVINSERTF64X4 $1, Y%s, %s, %s", b[1:], a, a)
		g.p("\tVADDPS %s, %s, %s", tmp, a, a)
		sa, sb := get(a), get(b)
		hi := quarters(0xEE, sa, sb)
		lo := quarters(0x44, sa, sb)
		sym[a] = add(lo, hi)
	}
	// Level 2: quarters of a[i], a[i+4] summed in pairs.
	for i := range 4 {
		a, b := accs[i], accs[i+4]
		g.p("\tVSHUFF32X4 $0x88, %s, %s, %s", b, a, tmp)
		g.p("\tVSHUFF32X4 $0xDD, %s, %s, %s", b, a, a)
		g.p("\tVADDPS %s, %s, %s", tmp, a, a)
		sa, sb := get(a), get(b)
		sym[a] = add(quarters(0x88, sa, sb), quarters(0xDD, sa, sb))
	}
	// Levels 3, 4: lanes within the quarters summed in pairs.
	for _, pr := range [][2]int{{0, 2}, {1, 3}, {0, 1}} {
		a, b := accs[pr[0]], accs[pr[1]]
		g.p("\tVSHUFPS $0x88, %s, %s, %s", b, a, tmp)
		g.p("\tVSHUFPS $0xDD, %s, %s, %s", b, a, a)
		g.p("\tVADDPS %s, %s, %s", tmp, a, a)
		sa, sb := get(a), get(b)
		sym[a] = add(shufps(0x88, sa, sb), shufps(0xDD, sa, sb))
	}
	res := sym[accs[0]]
	for l, x := range res {
		if x.acc >= 0 && (x.mask != 0xffff || redLane[x.acc] != l) {
			panic(fmt.Sprintf("s2reduce: lane %d holds lanes %#x of accumulator %d", l, x.mask, x.acc))
		}
	}
	return accs[0]
}

// redLane[i] is the lane of s2reduce's result that holds the sum of
// accs[i]; dwsRed holds it, the VPERMPS indexes that put the sums in
// accumulator order.
var redLane = [16]int{0, 2, 1, 3, 8, 10, 9, 11, 4, 6, 5, 7, 12, 14, 13, 15}

func main() {
	flag.Parse()
	g := &gen{}
	g.p("// Code generated by dwshift_gen.go; DO NOT EDIT.")
	g.p("")
	g.p("//go:build amd64 && !purego")
	g.p("")
	g.p("#include \"textflag.h\"")
	g.p("")
	g.p("// Go assembler operand order: VFMADD231PS b, a, acc computes acc += a*b;")
	g.p("// VALIGND $n, lo, hi, dst sets dst[i] = (hi:lo)[i+n].")
	g.p("")
	for _, kd := range [][2]int{{3, 1}, {5, 1}, {3, 2}, {5, 2}} {
		for _, w := range []int{8, 16, 32} {
			for dir := range 3 {
				v := variant{k: kd[0], dil: kd[1], w: w, bwd: dir == 1, aff: dir == 2}
				if w == 8 {
					g.paired(v)
				} else {
					g.generic(v)
				}
			}
		}
	}
	g.s2tables()
	for _, kd := range [][2]int{{3, 1}, {5, 1}, {3, 2}, {5, 2}} {
		for _, w := range []int{16, 32} {
			for dir := range 3 {
				v := variant{k: kd[0], dil: kd[1], w: w, bwd: dir == 1, aff: dir == 2, s2: true}
				switch {
				case v.bwd && w == 16:
					g.s2backwardPaired(v)
				case v.bwd:
					g.s2backward(v)
				case w == 16:
					g.s2forwardPaired(v)
				default:
					g.s2forward(v)
				}
			}
			g.s2grad(variant{k: kd[0], dil: kd[1], w: w, s2: true, grad: true})
		}
	}
	if err := os.WriteFile(*out, g.buf.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
}
