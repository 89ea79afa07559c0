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
}

func (v variant) name() string {
	d := "F"
	if v.bwd {
		d = "B"
	} else if v.aff {
		d = "A"
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
	if masked {
		z, k = ".Z", "K6, "
	}
	noaff, norelu := g.label("noaff"), g.label("norelu")
	g.p("\tCMPQ scale+80(FP), $0")
	g.p("\tJEQ %s", noaff)
	for _, x := range xs {
		g.p("\tVMULPS%s Z29, %s, %s%s", z, x, k, x)
	}
	for _, x := range xs {
		g.p("\tVADDPS%s Z30, %s, %s%s", z, x, k, x)
	}
	g.p("%s:", noaff)
	g.p("\tCMPB relu+96(FP), $0")
	g.p("\tJEQ %s", norelu)
	for _, x := range xs {
		g.p("\tVMAXPS%s %s, Z31, %s%s", z, x, k, x)
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
	if err := os.WriteFile(*out, g.buf.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
}
