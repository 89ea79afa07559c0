//go:build ignore

// dwshift_gen writes dwshift_amd64.s, the AVX-512 "register-shift"
// depthwise kernels, and with -decl their Go declarations and dispatch
// tables (dwshift_decl_amd64.go): go generate in this package runs
//
//	go run dwshift_gen.go -o dwshift_amd64.s -decl dwshift_decl_amd64.go
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
	"go/format"
	"log"
	"os"
	"strings"
)

var out = flag.String("o", "dwshift_amd64.s", "assembly output file")

// variant is one kernel of dwshift_amd64.s.
type variant struct {
	k, dil, w int
	bwd       bool // data gradient
	aff       bool // forward of value(x) (the A kernels)
	s2        bool // stride 2 (w is the input width)
	grad      bool // filter gradient (stride 2 only)
}

// name is the kernel's symbol, dwsK<k>D<dil>W<w>[S2]<F|B|A|G>.
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

// signature is the Go signature of the F, B, A or G kernel v: name and
// arguments.
func (v variant) signature() string {
	if v.grad {
		return v.name() + "(" + gradArgs + ")"
	}
	args := "n int, src *float32, sPlane, sRow int, dst *float32, dPlane, dRow int, wt *float32, h int, add bool"
	if v.aff {
		args += ", scale, shift *float32, relu bool"
	}
	return v.name() + "(" + args + ")"
}

// pad is the "same" padding, dil·(k-1)/2.
func (v variant) pad() int { return v.dil * (v.k - 1) / 2 }

// dx is the column offset of the source that tap column kx reads
// (stride 1).
func (v variant) dx(kx int) int {
	d := kx*v.dil - v.pad()
	if v.bwd {
		return -d
	}
	return d
}

// tileRow is the row of a stride-1 tile (relative to the tile's first
// output row) that reads the tile's source row (or vector) sr at tap row
// ky; it may lie outside the tile.
func (v variant) tileRow(sr, ky int) int {
	if v.bwd {
		// Tile row i reads source row i + 2·pad - ky·d.
		return sr - 2*v.pad() + ky*v.dil
	}
	return sr - ky*v.dil
}

// s2fwdCol says where tap column kx of a stride-2 forward or filter
// gradient kernel reads the split input row: input column 2·ox + kx·d - pad
// is O[ox + shift] when odd, else E[ox + shift].
func (v variant) s2fwdCol(kx int) (odd bool, shift int) {
	e := kx*v.dil - v.pad()
	return e&1 != 0, e >> 1
}

// s2bwdCol says what tap column kx of a stride-2 data gradient kernel does:
// it adds to the odd input columns (odd) or the even ones, column 2j or
// 2j+1 reading dout column j + shift.
func (v variant) s2bwdCol(kx int) (odd bool, shift int) {
	e := v.pad() - kx*v.dil
	if e&1 != 0 {
		return true, (e + 1) >> 1
	}
	return false, e >> 1
}

// s2rowReached reports whether any tap of a stride-2 data gradient kernel
// reaches input row i of a tile (all rows at dilation 1, the even ones at
// dilation 2).
func (v variant) s2rowReached(i int) bool {
	for ky := range v.k {
		if (i+v.pad()-ky*v.dil)&1 == 0 {
			return true
		}
	}
	return false
}

// s2usesOdd reports whether a tap of the stride-2 forward or filter
// gradient kernel reads the odd input columns.
func (v variant) s2usesOdd() bool {
	for kx := range v.k {
		if odd, _ := v.s2fwdCol(kx); odd {
			return true
		}
	}
	return false
}

// gen accumulates the assembly text and numbers the labels.
type gen struct {
	buf bytes.Buffer
	lbl int
}

// p writes one line.
func (g *gen) p(format string, args ...any) { fmt.Fprintf(&g.buf, format+"\n", args...) }

// label returns a new label name.
func (g *gen) label(base string) string {
	g.lbl++
	return fmt.Sprintf("%s%d", base, g.lbl)
}

// zregs names the n registers Z(first), Z(first+1), ...
func zregs(first, n int) []string {
	r := make([]string, n)
	for j := range r {
		r[j] = fmt.Sprintf("Z%d", first+j)
	}
	return r
}

// zreg names register Z(n).
func zreg(n int) string { return fmt.Sprintf("Z%d", n) }

const rows = 8 // output rows per tile (stride 1)

// neither is the comment of the jump taken when neither row of a vector
// lies in the plane.
const neither = " // neither row in the plane"

// prologue loads the arguments common to every variant but G:
// CX planes, SI src, BX sRow bytes, DI dst, R13 dRow bytes, DX weights, R8
// h, and zero into Z31.
func (g *gen) prologue(v variant) {
	frame := 73
	if v.aff {
		frame = 97
	}
	g.p("// func %s", v.signature())
	g.p("TEXT ·%s(SB), NOSPLIT, $0-%d", v.name(), frame)
	g.arg("n+0", "CX")
	g.arg("src+8", "SI")
	g.strideArg("sRow+24", "BX")
	g.arg("dst+32", "DI")
	g.strideArg("dRow+48", "R13")
	g.arg("wt+56", "DX")
	g.arg("h+64", "R8")
	g.p("\tVPXORD Z31, Z31, Z31")
}

// arg loads the 8-byte argument at (name+offset) into reg.
func (g *gen) arg(at, reg string) { g.p("\tMOVQ %s(FP), %s", at, reg) }

// strideArg loads the argument at, a count of floats, into reg as bytes.
func (g *gen) strideArg(at, reg string) {
	g.arg(at, reg)
	g.p("\tSHLQ $2, %s", reg)
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

// tileStart opens the plane loop (label plane, planeStart) and the tile
// loop (label tile) of the tile kernels: R9, the first row of the tile
// (an output row, or an input row for the data gradient at stride 2:
// rowKind), starts at 0 per plane, and each tile starts with the
// accumulators Z0..Z(nacc-1) zeroed.
func (g *gen) tileStart(v variant, rowKind string, nacc int) (plane, tile string) {
	plane, tile = g.label("plane"), g.label("tile")
	g.p("%s:", plane)
	g.planeStart(v)
	g.p("\tXORQ R9, R9 // first %s row of the tile", rowKind)
	g.p("%s:", tile)
	for _, a := range zregs(0, nacc) {
		g.p("\tVPXORD %s, %s, %s", a, a, a)
	}
	return plane, tile
}

// tileEnd closes the loops that tileStart opened: R9 moves on by n rows,
// the next tile follows while R9 < h (or h/2 with half: the output rows at
// stride 2), then the next plane (epilogue).
func (g *gen) tileEnd(v variant, n int, half bool, plane, tile string) {
	g.p("\tADDQ $%d, R9", n)
	if half {
		g.p("\tMOVQ R8, AX")
		g.p("\tSHRQ $1, AX")
		g.p("\tCMPQ R9, AX")
	} else {
		g.p("\tCMPQ R9, R8")
	}
	g.p("\tJLT %s", tile)
	g.epilogue(v, plane)
}

// eachSourceRow emits body for the n source rows (or vectors) r of a tile
// in the order they are read: 0 to n-1, or n-1 down to 0 when down. Each
// row ends at its label skip, to which body jumps to leave the row out;
// between rows, the pointers ptrs move on by step (ADDQ; SUBQ when down).
func (g *gen) eachSourceRow(n int, down bool, step string, ptrs []string, body func(r int, skip string)) {
	for idx := range n {
		r := idx
		if down {
			r = n - 1 - idx
		}
		skip := g.label("skip")
		body(r, skip)
		g.p("%s:", skip)
		if idx == n-1 {
			continue
		}
		for _, ptr := range ptrs {
			if down {
				g.p("\tSUBQ %s, %s", step, ptr)
			} else {
				g.p("\tADDQ %s, %s", step, ptr)
			}
		}
	}
}

// jumpIfOut jumps to target when row R11+row lies outside [0, limit)
// (one unsigned compare; AX = R11+row).
func (g *gen) jumpIfOut(row int, limit, target string) {
	g.p("\tLEAQ %d(R11), AX", row)
	g.p("\tCMPQ AX, %s", limit)
	g.p("\tJCC %s", target)
}

// jumpIfIn jumps to target when row R11+row lies in [0, limit) (AX =
// R11+row).
func (g *gen) jumpIfIn(row int, limit, target string) {
	g.p("\tLEAQ %d(R11), AX", row)
	g.p("\tCMPQ AX, %s", limit)
	g.p("\tJCS %s", target)
}

// firstSourceRow points R11 at source row (or vector: unit) 0 of a tile
// of n, R9 - back (stride 1), or dout row R9/2 - back (stride-2 data
// gradient: R9 counts input rows), and R10 at the first one read: row 0,
// or row n-1 when they are read bottom to top (the data gradient); mulRow
// turns R10 from a row number into a byte offset.
func (g *gen) firstSourceRow(v variant, unit string, back, n int, mulRow string) {
	src, of, first := "source", "tile row", 0
	if v.s2 {
		src = "dout"
	}
	if unit != "row" {
		of = unit
	}
	if v.bwd {
		first = n - 1
	}
	g.p("\tMOVQ R9, R11")
	if v.s2 {
		g.p("\tSHRQ $1, R11")
	}
	g.p("\tSUBQ $%d, R11 // %s row of %s 0", back, src, of)
	g.p("\tLEAQ %d(R11), R10", first)
	g.p("\t%s", mulRow)
	g.p("\tADDQ SI, R10 // the first %s %s read", src, unit)
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

// pick2 sets dst to the lanes of the pair (a, b) that table selects
// (VPERMT2PS: index i < 16 takes a[i], 16+i takes b[i]), after mov copies
// a into dst.
func (g *gen) pick2(mov, a, b, table, dst string) {
	g.p("\t%s %s, %s", mov, a, dst)
	g.p("\tVPERMT2PS %s, %s, %s", b, table, dst)
}

// loadTables loads the stride-2 permutation tables lo and hi into Z26 and
// Z27.
func (g *gen) loadTables(lo, hi string) {
	g.p("\tVMOVUPS %s<>(SB), Z26", lo)
	g.p("\tVMOVUPS %s<>(SB), Z27", hi)
}

// valignd sets dst[i] = (hi:lo)[i+n]: the lanes of the pair from lane n
// of lo on.
func (g *gen) valignd(n int, lo, hi, dst string) {
	g.p("\tVALIGND $%d, %s, %s, %s", n, lo, hi, dst)
}

// shiftRow sets the row held left to right in the vectors xs (L lanes
// each) shifted by d lanes into dsts: dst[j] = x[j+d] along the row, zero
// (Z31 or Y31) where j+d is outside it, the zero padding.
func (g *gen) shiftRow(L, d int, xs, dsts []string) {
	zero := xs[0][:1] + "31"
	at := func(j int) string {
		if j < 0 || j >= len(xs) {
			return zero
		}
		return xs[j]
	}
	for j, dst := range dsts {
		if d > 0 {
			g.valignd(d, xs[j], at(j+1), dst)
		} else {
			g.valignd(L+d, at(j-1), xs[j], dst)
		}
	}
}

// shift sets dst[j] = x[j+d] for j < L, zero where j+d is outside [0, L).
func (g *gen) shift(L, d int, x, dst string) {
	g.shiftRow(L, d, []string{x}, []string{dst})
}

// halfMasks loads K1, K2, ... with the masks of shiftHalves for the
// distinct nonzero shifts, in order of first appearance, and returns the
// mask register of each: lane i is set when i%8 + d stays in [0, 8), so
// that no lane takes a column of the other half.
func (g *gen) halfMasks(shifts []int) map[int]string {
	maskOf := map[int]string{}
	for _, d := range shifts {
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
	return maskOf
}

// shiftHalves shifts each 8-lane half of x, two rows of 8 in one vector,
// by d lanes into dst (dst[i] = x[i+d] within the half), zero where i+d
// leaves the half: mask is halfMasks' mask of d.
func (g *gen) shiftHalves(d int, x, mask, dst string) {
	if d > 0 {
		g.p("\tVALIGND.Z $%d, %s, Z31, %s, %s", d, x, mask, dst)
	} else {
		g.p("\tVALIGND.Z $%d, Z31, %s, %s, %s", 16+d, x, mask, dst)
	}
}

// tapCol is what one tap column kx reads of a loaded source row: the
// vectors from (the row, or the half of its columns that the column
// reads) shifted by shift lanes, a copy made into at (at = from when shift
// is 0).
type tapCol struct {
	from, at []string
	shift    int
}

// tapCols describes the k tap columns: column kx reads from(kx) shifted
// by shift(kx), copied into copyTo(kx) when the shift is not 0.
func tapCols(k int, shift func(kx int) int, from, copyTo func(kx int) []string) []tapCol {
	cols := make([]tapCol, k)
	for kx := range cols {
		c := tapCol{from: from(kx), shift: shift(kx)}
		c.at = c.from
		if c.shift != 0 {
			c.at = copyTo(kx)
		}
		cols[kx] = c
	}
	return cols
}

// shifts lists the tap columns' shifts.
func shifts(cols []tapCol) []int {
	s := make([]int, len(cols))
	for kx, c := range cols {
		s[kx] = c.shift
	}
	return s
}

// shiftCols makes the shifted copy of every tap column with a nonzero
// shift, kx rising: of rows of 16-lane vectors (shiftRow), or with the
// masks of halfMasks of two rows of 8 per vector (shiftHalves).
func (g *gen) shiftCols(cols []tapCol, halfMasks map[int]string) {
	for _, c := range cols {
		switch {
		case c.shift == 0:
		case halfMasks != nil:
			g.shiftHalves(c.shift, c.from[0], halfMasks[c.shift], c.at[0])
		default:
			g.shiftRow(16, c.shift, c.from, c.at)
		}
	}
}

// fma is one tap: acc += wt[t]·src.
func (g *gen) fma(t int, src, acc string) {
	g.p("\tVFMADD231PS.BCST %d(DX), %s, %s", 4*t, src, acc)
}

// taps emits the FMAs of one loaded source row, tap column kx outer and
// tap row ky inner, so that every output's chain runs in tap order ky·k+kx:
// acc[j] += wt[ky·k+kx]·cols[kx].at[j] for the accumulators acc = into(ky,
// kx), none when nil.
func (g *gen) taps(cols []tapCol, into func(ky, kx int) []string) {
	k := len(cols)
	for kx, c := range cols {
		for ky := range k {
			for j, acc := range into(ky, kx) {
				g.fma(ky*k+kx, c.at[j], acc)
			}
		}
	}
}

// storeStart points AX at the tile's first dst row (R9 rows of rowBytes,
// which mulRow computes from AX = R9) and sets cnt to the rows of the
// plane from there on (of h, or h/2 output rows with half).
func (g *gen) storeStart(mulRow, cnt string, half bool) {
	g.p("\tMOVQ R9, AX")
	g.p("\t%s", mulRow)
	g.p("\tADDQ DI, AX")
	g.p("\tMOVQ R8, %s", cnt)
	kind := ""
	if half {
		g.p("\tSHRQ $1, %s", cnt)
		kind = "output "
	}
	g.p("\tSUBQ R9, %s // %srows left in the plane", cnt, kind)
}

// setOrAdd emits the stores of a tile twice, body(false, done) setting dst
// and body(true, done) adding to it, chosen by the add argument; both go
// on at label done.
func (g *gen) setOrAdd(body func(add bool, done string)) {
	done, addst := g.label("stored"), g.label("addst")
	g.p("\tCMPB add+72(FP), $0")
	g.p("\tJNE %s", addst)
	body(false, done)
	g.p("\tJMP %s", done)
	g.p("%s:", addst)
	body(true, done)
	g.p("%s:", done)
}

// eachStoredRow emits row(i) for the rows i < n of the tile that lie in
// the plane (R12 of them are left, at least one), AX moving on by dRow
// (R13) between rows; once the rows left run out it jumps to done.
func (g *gen) eachStoredRow(n int, done string, row func(i int)) {
	for i := range n {
		if i > 0 {
			g.p("\tCMPQ R12, $%d", i)
			g.p("\tJLE %s", done)
			g.p("\tADDQ R13, AX")
		}
		row(i)
	}
}

// store writes the vector x to mem, adding what mem holds when add.
func (g *gen) store(add bool, x, mem string) {
	if add {
		g.p("\tVADDPS %s, %s, %s", mem, x, x)
	}
	g.p("\tVMOVUPS %s, %s", x, mem)
}

// storeSums writes the data gradient sums x of an input row to mem as +0 +
// sum (setting) or adds them (add), as the flat path does with its phase
// planes; a row that no tap reaches (!reached) is set to +0 or left alone.
func (g *gen) storeSums(add, reached bool, x, mem string) {
	switch {
	case !add && !reached:
		g.p("\tVMOVUPS Z31, %s", mem)
	case !add:
		g.p("\tVADDPS Z31, %s, %s", x, x)
		g.p("\tVMOVUPS %s, %s", x, mem)
	case reached:
		g.store(true, x, mem)
	}
}

// generic writes the kernel for w = 16 or 32: row vectors of 16 floats,
// V = w/16 per row, a tile of 8 output rows in Z0..Z(8V-1), the k shifted
// copies of a source row in Z16.., the loaded row itself in the centre
// copy's registers (dx = 0), zero in Z31.
func (g *gen) generic(v variant) {
	V := v.w / 16
	k, pad := v.k, v.pad()
	nsr := rows + 2*pad
	copyOf := func(kx int) []string { return zregs(16+kx*V, V) }
	row := copyOf((k - 1) / 2)
	cols := tapCols(k, v.dx, func(int) []string { return row }, copyOf)
	acc := func(i int) []string { return zregs(i*V, V) }
	g.prologue(v)
	plane, tile := g.tileStart(v, "output", rows*V)
	g.firstSourceRow(v, "row", pad, nsr, "IMULQ BX, R10")
	g.eachSourceRow(nsr, v.bwd, "BX", []string{"R10"}, func(sr int, skip string) {
		g.p("\t// source row %d of the tile", sr)
		g.jumpIfOut(sr, "R8", skip)
		for j, x := range row {
			g.p("\tVMOVUPS %d(R10), %s", 64*j, x)
		}
		g.values(v, false, row...)
		g.shiftCols(cols, nil)
		g.taps(cols, func(ky, kx int) []string {
			if i := v.tileRow(sr, ky); i >= 0 && i < rows {
				return acc(i)
			}
			return nil
		})
	})
	// Store the rows of the tile that lie in the plane.
	g.storeStart("IMULQ R13, AX", "R12", false)
	g.setOrAdd(func(add bool, done string) {
		g.eachStoredRow(rows, done, func(i int) {
			for j, a := range acc(i) {
				g.store(add, a, fmt.Sprintf("%d(AX)", 64*j))
			}
		})
	})
	g.tileEnd(v, rows, false, plane, tile)
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
	const accs = rows / 2
	nsv := rows - 1 + 2*pad // source vectors per tile
	copyOf := func(kx int) []string { return zregs(16+kx, 1) }
	x := copyOf((k - 1) / 2)[0] // the loaded vector
	cols := tapCols(k, v.dx, func(int) []string { return []string{x} }, copyOf)
	g.prologue(v)
	maskOf := g.halfMasks(shifts(cols))
	g.p("\tMOVL $0x00ff, AX")
	g.p("\tKMOVW AX, K6")
	g.p("\tLEAQ -1(R8), R12 // h-1: U_s lies in the plane for unsigned s < h-1")
	plane, tile := g.tileStart(v, "output", accs)
	g.firstSourceRow(v, "vector", pad, nsv, "SHLQ $5, R10")
	g.eachSourceRow(nsv, v.bwd, "$32", []string{"R10"}, func(sr int, skip string) {
		g.p("\t// source vector %d of the tile", sr)
		g.pairedLoad(v, sr, x, skip)
		g.shiftCols(cols, maskOf)
		g.taps(cols, func(ky, kx int) []string {
			// r: the first output row of the tile of the vector reading U at ky.
			if r := v.tileRow(sr, ky); r >= 0 && r%2 == 0 && r/2 < accs {
				return zregs(r/2, 1)
			}
			return nil
		})
	})
	// Store: vector j holds rows 2j and 2j+1 of the tile.
	g.storeStart("SHLQ $5, AX", "BX", false)
	g.setOrAdd(func(add bool, done string) { g.pairedStore(add, accs, done) })
	g.tileEnd(v, rows, false, plane, tile)
}

// pairedLoad loads U_sr, source rows sr and sr+1 of the tile, into x
// (paired): with one load when both lie in the plane (R12 = h-1), else the
// row that does with zeros for the other, or neither: then it jumps to
// skip. value(x) for the A kernels.
func (g *gen) pairedLoad(v variant, sr int, x, skip string) {
	fast, loaded, nolo := g.label("fast"), g.label("loaded"), g.label("nolo")
	g.jumpIfIn(sr, "R12", fast)
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
	g.p("\tJCC %s%s", skip, neither)
	g.p("\tVMOVUPS 32(R10), %s // row s+1 = 0", "Y"+x[1:])
	g.values(v, true, x)
	g.p("\tVALIGND $8, Z31, %s, %s // to lanes 8-15, zero above it", x, x)
	g.p("\tJMP %s", loaded)
	g.p("%s:", fast)
	g.p("\tVMOVUPS (R10), %s", x)
	g.values(v, false, x)
	g.p("%s:", loaded)
}

// pairedStore stores (or adds, add) the accumulators Z0..Z(accs-1) of a
// paired tile, rows 2j and 2j+1 in Z(j), at AX: the rows that lie in the
// plane (BX of them left), the last one alone under K6 when their number
// is odd; then it jumps to done.
func (g *gen) pairedStore(add bool, accs int, done string) {
	for j := range accs {
		// rows left <= 2j: done; 2j+1: the lower half; more: all.
		a, mem := zreg(j), fmt.Sprintf("%d(AX)", 64*j)
		half, next := g.label("half"), g.label("next")
		if j > 0 {
			g.p("\tCMPQ BX, $%d", 2*j)
			g.p("\tJLE %s", done)
		}
		g.p("\tCMPQ BX, $%d", 2*j+1)
		g.p("\tJEQ %s", half)
		g.store(add, a, mem)
		g.p("\tJMP %s", next)
		g.p("%s:", half)
		if add {
			g.p("\tVMOVUPS.Z %s, K6, Z28", mem)
			g.p("\tVADDPS Z28, %s, %s", a, a)
		}
		g.p("\tVMOVUPS %s, K6, %s", a, mem)
		g.p("\tJMP %s", done)
		g.p("%s:", next)
	}
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

// s2fwdCols describes the tap columns of a stride-2 forward kernel whose
// split row is in e (even columns) and o (odd ones): the shifted copy of
// tap column kx goes to Z(firstCopy+kx).
func (v variant) s2fwdCols(e, o string, firstCopy int) []tapCol {
	shift := func(kx int) int { _, s := v.s2fwdCol(kx); return s }
	from := func(kx int) []string {
		if odd, _ := v.s2fwdCol(kx); odd {
			return []string{o}
		}
		return []string{e}
	}
	return tapCols(v.k, shift, from, func(kx int) []string { return zregs(firstCopy+kx, 1) })
}

// s2bwdCols describes the tap columns of a stride-2 data gradient kernel
// whose dout row (or vector) is in x: shifted copies go to Z(17+kx).
func (v variant) s2bwdCols(x string) []tapCol {
	shift := func(kx int) int { _, s := v.s2bwdCol(kx); return s }
	return tapCols(v.k, shift, func(int) []string { return []string{x} },
		func(kx int) []string { return zregs(17+kx, 1) })
}

// s2fwdAcc is taps' into for source row sr of a stride-2 forward tile (sr
// = input row - 2·oy0 + pad) with n accumulators: tile row i = (sr -
// ky·d)/2, where that is whole and below n, in Z(i).
func (v variant) s2fwdAcc(sr, n int) func(ky, kx int) []string {
	return func(ky, kx int) []string {
		i := sr - ky*v.dil
		if i < 0 || i%2 != 0 || i/2 >= n {
			return nil
		}
		return zregs(i/2, 1)
	}
}

// s2bwdAcc is taps' into for dout row r of a stride-2 data gradient tile
// (r = dout row - iy0/2 + p2) with n input rows: input row i = 2r - 2·p2 -
// pad + ky·d, when below n, its even sums in Z(2i) and odd ones in
// Z(2i+1).
func (v variant) s2bwdAcc(r, p2, n int) func(ky, kx int) []string {
	return func(ky, kx int) []string {
		i := 2*r - 2*p2 - v.pad() + ky*v.dil
		if i < 0 || i >= n {
			return nil
		}
		a := 2 * i
		if odd, _ := v.s2bwdCol(kx); odd {
			a++
		}
		return zregs(a, 1)
	}
}

// s2fwdRows points R11 at the input row of a stride-2 forward tile's source
// row 0 (2·R9 - pad) and R10 at that row of src.
func (g *gen) s2fwdRows(pad int, note string) {
	g.p("\tLEAQ -%d(R9)(R9*1), R11 // input row of source row 0", pad)
	g.p("\tMOVQ R11, R10")
	g.p("\tIMULQ BX, R10")
	g.p("\tADDQ SI, R10%s", note)
}

// s2forward writes the stride-2 forward kernel (F or A) for w = 32 (output
// rows of 16): a tile of R = 16 output rows in Z0..Z15, E in Z16, O in Z17,
// the shifted copies of tap column kx in Z(18+kx), the split tables in Z26
// and Z27. Tile row i reads source row 2·i + ky·d of the tile (source row
// 0 = input row 2·oy0 - pad).
func (g *gen) s2forward(v variant) {
	const R = 16
	pad := v.pad()
	nsr := 2*R - 1 + 2*pad // source rows per tile
	E, O := zreg(16), zreg(17)
	cols := v.s2fwdCols(E, O, 18)
	g.prologue(v)
	g.loadTables("dwsEven", "dwsOdd")
	plane, tile := g.tileStart(v, "output", R)
	g.s2fwdRows(pad, "")
	g.eachSourceRow(nsr, false, "BX", []string{"R10"}, func(sr int, skip string) {
		g.p("\t// source row %d of the tile", sr)
		g.jumpIfOut(sr, "R8", skip)
		xs := []string{E}
		g.pick2("VMOVUPS", "(R10)", "64(R10)", "Z26", E)
		if v.s2usesOdd() {
			g.pick2("VMOVUPS", "(R10)", "64(R10)", "Z27", O)
			xs = append(xs, O)
		}
		g.values(v, false, xs...)
		g.shiftCols(cols, nil)
		g.taps(cols, v.s2fwdAcc(sr, R))
	})
	g.storeStart("IMULQ R13, AX", "R12", true)
	g.setOrAdd(func(add bool, done string) {
		g.eachStoredRow(R, done, func(i int) { g.store(add, zreg(i), "(AX)") })
	})
	g.tileEnd(v, R, true, plane, tile)
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
	pad := v.pad()
	nsr := R - 1 + 2*pad // source vectors per tile
	cols := v.s2fwdCols("Z18", "Z19", 20)
	g.prologue(v)
	g.loadTables("dwsEven", "dwsOdd")
	maskOf := g.halfMasks(shifts(cols))
	plane, tile := g.tileStart(v, "output", R/2)
	g.s2fwdRows(pad, " // source row 0")
	g.p("\tLEAQ (R10)(BX*8), R12 // 8 rows below")
	g.eachSourceRow(nsr, false, "BX", []string{"R10", "R12"}, func(sr int, skip string) {
		g.p("\t// source rows %d and %d of the tile", sr, sr+8)
		g.s2fwdPairedLoad(v, sr, skip)
		g.pick2("VMOVAPS", "Z16", "Z17", "Z26", "Z18")
		if v.s2usesOdd() {
			g.pick2("VMOVAPS", "Z16", "Z17", "Z27", "Z19")
		}
		g.shiftCols(cols, maskOf)
		g.taps(cols, v.s2fwdAcc(sr, R/2))
	})
	// Store: rows 0-3 from the low halves, 4-7 from the high halves.
	g.storeStart("IMULQ R13, AX", "R12", true)
	g.setOrAdd(func(add bool, done string) {
		g.eachStoredRow(R, done, func(i int) {
			y := fmt.Sprintf("Y%d", i)
			if i >= R/2 {
				y = "Y28"
				g.p("\tVEXTRACTF64X4 $1, Z%d, Y28", i-R/2)
			}
			g.store(add, y, "(AX)")
		})
	})
	g.tileEnd(v, R, true, plane, tile)
}

// s2fwdPairedLoad loads source rows sr (at R10) and sr+8 (at R12) of the
// tile into Z16 and Z17 (s2forwardPaired), zero for a row outside the
// plane; when neither lies in it, it jumps to skip. value(x) for the A
// kernels.
func (g *gen) s2fwdPairedLoad(v variant, sr int, skip string) {
	lowIn, hiIn, loaded := g.label("lowin"), g.label("hiin"), g.label("loaded")
	g.jumpIfIn(sr, "R8", lowIn)
	g.p("\tVPXORD Z16, Z16, Z16")
	g.jumpIfOut(sr+8, "R8", skip+neither)
	g.p("\tVMOVUPS (R12), Z17")
	g.values(v, false, "Z17")
	g.p("\tJMP %s", loaded)
	g.p("%s:", lowIn)
	g.p("\tVMOVUPS (R10), Z16")
	g.values(v, false, "Z16")
	g.jumpIfIn(sr+8, "R8", hiIn)
	g.p("\tVPXORD Z17, Z17, Z17")
	g.p("\tJMP %s", loaded)
	g.p("%s:", hiIn)
	g.p("\tVMOVUPS (R12), Z17")
	g.values(v, false, "Z17")
	g.p("%s:", loaded)
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
	const R = 8
	pad := v.pad()
	p2 := (pad + 1) / 2
	nd := (R-1+pad)/2 + p2 + 1 // dout rows per tile, from iy0/2 - p2
	cols := v.s2bwdCols("Z16")
	g.prologue(v)
	g.loadTables("dwsLo", "dwsHi")
	plane, tile := g.tileStart(v, "input", 2*R)
	g.firstSourceRow(v, "row", p2, nd, "IMULQ BX, R10")
	g.p("\tMOVQ R8, R12")
	g.p("\tSHRQ $1, R12 // oh")
	g.eachSourceRow(nd, true, "BX", []string{"R10"}, func(r int, skip string) {
		g.p("\t// dout row %d of the tile", r)
		g.jumpIfOut(r, "R12", skip)
		g.p("\tVMOVUPS (R10), Z16")
		g.shiftCols(cols, nil)
		g.taps(cols, v.s2bwdAcc(r, p2, R))
	})
	// Store: merge the even and odd sums of each row into din order.
	g.storeStart("IMULQ R13, AX", "R12", false)
	g.setOrAdd(func(add bool, done string) {
		g.eachStoredRow(R, done, func(i int) {
			e, o := zreg(2*i), zreg(2*i+1)
			g.pick2("VMOVUPS", e, o, "Z26", "Z22")
			g.p("\tVPERMT2PS %s, Z27, %s", o, e)
			for j, x := range []string{"Z22", e} { // din order
				g.storeSums(add, v.s2rowReached(i), x, fmt.Sprintf("%d(AX)", 64*j))
			}
		})
	})
	g.tileEnd(v, R, false, plane, tile)
}

// s2backwardPaired writes the stride-2 data gradient kernel for w = 16
// (dout rows of 8): input rows i and i+4 of a tile of 8 share a vector,
// their even-column sums in Z(2i), odd in Z(2i+1) (lanes 0-7 row i, 8-15
// row i+4), fed by the dout vector (Z16) of rows r and r+2 (zero for a row
// outside the plane); its shifted copies (Z(17+kx)) are zero-masked per
// half (K1..). Otherwise as s2backward.
func (g *gen) s2backwardPaired(v variant) {
	const R = 8
	pad := v.pad()
	p2 := (pad + 1) / 2
	nd := (R/2-1+pad)/2 + p2 + 1 // dout vectors per tile, from iy0/2 - p2
	cols := v.s2bwdCols("Z16")
	g.prologue(v)
	g.loadTables("dwsLo", "dwsHi")
	maskOf := g.halfMasks(shifts(cols))
	plane, tile := g.tileStart(v, "input", R)
	g.firstSourceRow(v, "vector", p2, nd, "IMULQ BX, R10")
	g.p("\tMOVQ R8, R12")
	g.p("\tSHRQ $1, R12 // oh")
	g.eachSourceRow(nd, true, "BX", []string{"R10"}, func(r int, skip string) {
		g.p("\t// dout rows %d and %d of the tile", r, r+2)
		g.s2bwdPairedLoad(r, skip)
		g.shiftCols(cols, maskOf)
		g.taps(cols, v.s2bwdAcc(r, p2, R/2))
	})
	// Store: row i < 4 from the low halves, i+4 from the high halves.
	g.storeStart("IMULQ R13, AX", "R12", false)
	g.setOrAdd(func(add bool, done string) {
		g.eachStoredRow(R, done, func(i int) {
			j := i % (R / 2)
			e, o := zreg(2*j), zreg(2*j+1)
			x := e
			if i < R/2 {
				x = "Z22"
				g.pick2("VMOVAPS", e, o, "Z26", "Z22")
			} else {
				g.p("\tVPERMT2PS %s, Z27, %s", o, e)
			}
			g.storeSums(add, v.s2rowReached(i), x, "(AX)")
		})
	})
	g.tileEnd(v, R, false, plane, tile)
}

// s2bwdPairedLoad loads dout rows r (at R10, lanes 0-7) and r+2 (lanes
// 8-15) of the tile into Z16 (s2backwardPaired), zero for a row outside
// the plane (R12 = oh rows); when neither lies in it, it jumps to skip.
func (g *gen) s2bwdPairedLoad(r int, skip string) {
	lowIn, loaded := g.label("lowin"), g.label("loaded")
	g.jumpIfIn(r, "R12", lowIn)
	g.jumpIfOut(r+2, "R12", skip+neither)
	g.p("\tVPXORD Z16, Z16, Z16")
	g.p("\tVINSERTF64X4 $1, (R10)(BX*2), Z16, Z16")
	g.p("\tJMP %s", loaded)
	g.p("%s:", lowIn)
	g.p("\tVMOVUPS (R10), Y16 // zero above")
	g.jumpIfOut(r+2, "R12", loaded)
	g.p("\tVINSERTF64X4 $1, (R10)(BX*2), Z16, Z16")
	g.p("%s:", loaded)
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
	L, k := v.w/2, v.k
	pl := v.s2gradPlan()
	g.s2gradPrologue(v)
	plane, row := g.label("plane"), g.label("row")
	g.p("%s:", plane)
	g.p("\tVPXORD Z31, Z31, Z31")
	g.p("\tVMOVUPS dwsEven<>(SB), Z%d", pl.tE)
	if pl.o >= 0 {
		g.p("\tVMOVUPS dwsOdd<>(SB), Z%d", pl.tO)
	}
	for t := range k * k {
		g.p("\tVPXORD Z%d, Z%d, Z%d", t, t, t)
	}
	g.p("\tXORQ R9, R9 // oy")
	g.p("\tMOVQ DI, R12 // dout row oy")
	g.p("%s:", row)
	g.p("\tLEAQ -%d(R9)(R9*1), R11 // input row of ky = 0", v.pad())
	g.p("\tMOVQ R11, R10")
	g.p("\tIMULQ $%d, R10", 4*v.w)
	g.p("\tADDQ SI, R10")
	g.s2gradDoutCopies(L, pl)
	for ky := range k {
		g.s2gradTapRow(v, pl, ky)
	}
	g.p("\tADDQ $%d, R12", 4*L)
	g.p("\tINCQ R9")
	g.p("\tLEAQ (R9)(R9*1), AX")
	g.p("\tCMPQ AX, R8")
	g.p("\tJLT %s", row)
	g.s2gradAddSums(k*k, zreg(k*k))
	g.p("\tADDQ BX, SI")
	g.p("\tADDQ R13, DI")
	g.p("\tDECQ CX")
	g.p("\tJNZ %s", plane)
	g.p("\tVZEROUPPER")
	g.p("\tRET")
	g.p("")
}

// s2gradPlan is the register plan of a G kernel, after the accumulators
// Z0..Z(k²-1): E and O (o < 0 when no tap reads O) and their split tables
// tE and tO, then the dout copies: doutAt[s] is the dout row shifted by -s
// that the tap columns with E/O shift s read ("(R12)": the unshifted row,
// read from memory); shifts lists the other s in order of allocation.
// Z31 is zero; the reduction's temp is Z(k²).
type s2gradPlan struct {
	e, o, tE, tO int
	doutAt       map[int]string
	shifts       []int
}

// s2gradPlan allocates the registers of the G kernel v.
func (v variant) s2gradPlan() s2gradPlan {
	next := v.k * v.k
	alloc := func() int { next++; return next - 1 }
	pl := s2gradPlan{e: alloc(), o: -1, tO: -1, doutAt: map[int]string{0: "(R12)"}}
	useO := v.s2usesOdd()
	if useO {
		pl.o = alloc()
	}
	pl.tE = alloc()
	if useO {
		pl.tO = alloc()
	}
	for kx := range v.k {
		_, s := v.s2fwdCol(kx)
		if _, ok := pl.doutAt[s]; !ok {
			pl.doutAt[s] = s2reg(v.w/2, alloc())
			pl.shifts = append(pl.shifts, s)
		}
	}
	if next > 31 {
		panic("s2grad: out of registers")
	}
	return pl
}

// s2gradDoutCopies makes the shifted copies of the dout row at R12 (rows of
// L); the last is made in place from the loaded row.
func (g *gen) s2gradDoutCopies(L int, pl s2gradPlan) {
	if len(pl.shifts) == 0 {
		return
	}
	first := pl.doutAt[pl.shifts[0]]
	g.p("\tVMOVUPS (R12), %s", first)
	for _, s := range pl.shifts[1:] {
		g.shift(L, -s, first, pl.doutAt[s])
	}
	g.shift(L, -pl.shifts[0], first, first)
}

// s2gradTapRow adds the products of tap row ky of the G kernel for output
// row oy (R9): the input row 2·oy - pad + ky·d (R11 + ky·d, at R10 +
// ky·d rows), unless outside the plane, split into E and O, times the dout
// copies, into the accumulators of the row's taps.
func (g *gen) s2gradTapRow(v variant, pl s2gradPlan, ky int) {
	L, k := v.w/2, v.k
	reg := func(n int) string { return s2reg(L, n) }
	E, O := reg(pl.e), reg(pl.o)
	skip := g.label("skip")
	off := ky * v.dil * 4 * v.w
	g.jumpIfOut(ky*v.dil, "R8", skip)
	if L == 16 {
		lo, hi := fmt.Sprintf("%d(R10)", off), fmt.Sprintf("%d(R10)", off+64)
		g.pick2("VMOVUPS", lo, hi, zreg(pl.tE), E)
		if pl.o >= 0 {
			g.pick2("VMOVUPS", lo, hi, zreg(pl.tO), O)
		}
	} else {
		g.p("\tVPERMPS %d(R10), Z%d, Z%d", off, pl.tE, pl.e)
		if pl.o >= 0 {
			g.p("\tVPERMPS %d(R10), Z%d, Z%d", off, pl.tO, pl.o)
		}
	}
	for kx := range k {
		odd, s := v.s2fwdCol(kx)
		base := E
		if odd {
			base = O
		}
		g.p("\tVFMADD231PS %s, %s, %s", pl.doutAt[s], base, reg(ky*k+kx))
	}
	g.p("%s:", skip)
}

// s2gradPrologue writes the head of the G kernel v: CX planes, SI in, BX
// input plane bytes, DI dout, R13 dout plane bytes, R8 h, DX dwt, and in
// K1 the mask of the last 9 of 25 taps.
func (g *gen) s2gradPrologue(v variant) {
	g.p("// func %s(np int, in *float32, ins int, dout *float32, douts int, h int, dwt *float32)", v.name())
	g.p("TEXT ·%s(SB), NOSPLIT, $0-56", v.name())
	g.arg("np+0", "CX")
	g.arg("in+8", "SI")
	g.strideArg("ins+16", "BX")
	g.arg("dout+24", "DI")
	g.strideArg("douts+32", "R13")
	g.arg("h+40", "R8")
	g.arg("dwt+48", "DX")
	g.p("\tMOVL $0x01ff, AX")
	g.p("\tKMOVW AX, K1 // the last 9 taps of dwt")
}

// s2gradAddSums adds the lane sums of the G kernel's accumulators Z0..
// Z(taps-1) to dwt (DX), 16 taps at a time (s2reduce, then dwsRed into tap
// order; the last 9 of 25 under K1); tmp is a scratch register.
func (g *gen) s2gradAddSums(taps int, tmp string) {
	for base := 0; base < taps; base += 16 {
		var accs [16]string
		for i := range accs {
			accs[i] = "Z31"
			if base+i < taps {
				accs[i] = zreg(base + i)
			}
		}
		res := g.s2reduce(accs, tmp)
		g.p("\tVMOVUPS dwsRed<>(SB), %s", tmp)
		g.p("\tVPERMPS %s, %s, %s", res, tmp, res)
		mem := fmt.Sprintf("%d(DX)", 4*base)
		if taps-base >= 16 {
			g.store(true, res, mem)
		} else {
			g.p("\tVMOVUPS.Z %s, K1, %s", mem, tmp)
			g.p("\tVADDPS %s, %s, %s", tmp, res, res)
			g.p("\tVMOVUPS %s, K1, %s", res, mem)
		}
	}
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

// kds are the (k, dilation) pairs of the kernels, in the order of the kd
// index of the dispatch tables.
var kds = [][2]int{{3, 1}, {5, 1}, {3, 2}, {5, 2}}

// s1Widths and s2Widths are the row widths w of the stride-1 and the
// stride-2 kernels (input width), in the order of the wi index.
var s1Widths, s2Widths = []int{8, 16, 32}, []int{16, 32}

// fba returns the F, B and A kernels of (k, dil) = kd at width w.
func fba(kd [2]int, w int, s2 bool) [3]variant {
	var vs [3]variant
	for dir := range vs {
		vs[dir] = variant{k: kd[0], dil: kd[1], w: w, bwd: dir == 1, aff: dir == 2, s2: s2}
	}
	return vs
}

// kernel writes the F, B or A kernel v.
func (g *gen) kernel(v variant) {
	switch {
	case !v.s2 && v.w == 8:
		g.paired(v)
	case !v.s2:
		g.generic(v)
	case v.bwd && v.w == 16:
		g.s2backwardPaired(v)
	case v.bwd:
		g.s2backward(v)
	case v.w == 16:
		g.s2forwardPaired(v)
	default:
		g.s2forward(v)
	}
}

// assembly returns dwshift_amd64.s.
func assembly() []byte {
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
	for _, kd := range kds {
		for _, w := range s1Widths {
			for _, v := range fba(kd, w, false) {
				g.kernel(v)
			}
		}
	}
	g.s2tables()
	for _, kd := range kds {
		for _, w := range s2Widths {
			for _, v := range fba(kd, w, true) {
				g.kernel(v)
			}
			g.s2grad(grad(kd, w))
		}
	}
	return g.buf.Bytes()
}

// gradArgs are the arguments of the G kernels (np planes of input ins and
// of dout douts floats apart, h input rows, the k·k sums added to dwt).
const gradArgs = "np int, in *float32, ins int, dout *float32, douts int, h int, dwt *float32"

// grad returns the G kernel of (k, dil) = kd at input width w.
func grad(kd [2]int, w int) variant {
	return variant{k: kd[0], dil: kd[1], w: w, s2: true, grad: true}
}

// declarations returns the Go declarations of the kernels and their
// dispatch tables, gofmt-formatted.
func declarations() []byte {
	g := &gen{}
	g.p("// Code generated by dwshift_gen.go; DO NOT EDIT.")
	g.p("")
	g.p("//go:build amd64 && !purego")
	g.p("")
	g.p("package kern")
	for _, s2 := range []bool{false, true} {
		widths := s1Widths
		if s2 {
			widths = s2Widths
		}
		for _, kd := range kds {
			for _, w := range widths {
				fns := fba(kd, w, s2)
				vs := fns[:]
				if s2 {
					vs = append(vs, grad(kd, w))
				}
				for _, v := range vs {
					g.p("")
					g.p("//go:noescape")
					g.p("func %s", v.signature())
				}
			}
		}
	}
	g.p("")
	g.p("// dwShiftFns[kd][wi][dir]: kd 0..3 for k3d1, k5d1, k3d2, k5d2; wi 0..2 for")
	g.p("// w 8, 16, 32; dir 0 forward, 1 data gradient.")
	g.table("dwShiftFns", s1Widths, false, false)
	g.p("")
	g.p("// dwShiftAffFns[kd][wi]: the A kernels, indexed as dwShiftFns.")
	g.table("dwShiftAffFns", s1Widths, false, true)
	g.p("")
	g.p("// dwShift2Fns[kd][wi][dir]: the stride-2 kernels, indexed as dwShiftFns")
	g.p("// with wi 0..1 for input w 16, 32 (outputs 8, 16 wide).")
	g.table("dwShift2Fns", s2Widths, true, false)
	g.p("")
	g.p("// dwShift2AffFns[kd][wi]: the stride-2 A kernels, indexed as dwShift2Fns.")
	g.table("dwShift2AffFns", s2Widths, true, true)
	g.p("")
	g.p("// dwGrad2Fns[kd][wi]: the stride-2 filter gradient (G) kernels, indexed")
	g.p("// as dwShift2AffFns.")
	g.p("var dwGrad2Fns = [%d][%d]func(%s){", len(kds), len(s2Widths), gradArgs)
	for _, kd := range kds {
		var fns []string
		for _, w := range s2Widths {
			fns = append(fns, grad(kd, w).name())
		}
		g.p("\t{%s},", strings.Join(fns, ", "))
	}
	g.p("}")
	src, err := format.Source(g.buf.Bytes())
	if err != nil {
		log.Fatalf("declarations: %v", err)
	}
	return src
}

// table writes the dispatch table name: per kd (row) and width, the A
// kernel (aff) or the pair {F, B}.
func (g *gen) table(name string, widths []int, s2, aff bool) {
	typ := fmt.Sprintf("[%d][%d][2]dwShiftFn", len(kds), len(widths))
	if aff {
		typ = fmt.Sprintf("[%d][%d]dwShiftAffFn", len(kds), len(widths))
	}
	g.p("var %s = %s{", name, typ)
	for _, kd := range kds {
		var fns []string
		for _, w := range widths {
			vs := fba(kd, w, s2)
			if aff {
				fns = append(fns, vs[2].name())
			} else {
				fns = append(fns, "{"+vs[0].name()+", "+vs[1].name()+"}")
			}
		}
		g.p("\t{%s},", strings.Join(fns, ", "))
	}
	g.p("}")
}

func main() {
	decl := flag.String("decl", "", "also write the Go declarations of the kernels to this file")
	flag.Parse()
	if err := os.WriteFile(*out, assembly(), 0o644); err != nil {
		log.Fatal(err)
	}
	if *decl != "" {
		if err := os.WriteFile(*decl, declarations(), 0o644); err != nil {
			log.Fatal(err)
		}
	}
}
