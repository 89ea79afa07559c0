package pertnas

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"pertnas/formats/genotype"
)

// helveticaWidth is the advance of the characters the cell drawing uses,
// in thousandths of an em, from the Helvetica font metrics (Arial and
// Liberation Sans, which browsers substitute for them, have the same).
var helveticaWidth = map[rune]float64{
	'a': 556, 'b': 556, 'c': 500, 'd': 556, 'e': 556, 'f': 278, 'g': 556, 'h': 556, 'i': 222,
	'j': 222, 'k': 500, 'l': 222, 'm': 833, 'n': 556, 'o': 556, 'p': 556, 'q': 556, 'r': 333,
	's': 500, 't': 278, 'u': 556, 'v': 500, 'w': 722, 'x': 500, 'y': 500, 'z': 500, '_': 556,
	'-': 333, ' ': 278, '(': 333, ')': 333, ',': 278, '=': 584,
}

// textWidth is a conservative width of s at font size fs: the font's
// advances plus 10%, and the widest Latin letter for characters not listed.
func textWidth(s string, fs float64) float64 {
	w := 0.0
	for _, r := range s {
		a, ok := helveticaWidth[r]
		switch {
		case ok:
		case r >= '0' && r <= '9':
			a = 556
		default:
			a = 944 // W
		}
		w += a
	}
	return 1.1 * w * fs / 1000
}

// svgText is a <text> element: its anchor point, size, alignment, and its
// pieces of text with their font sizes (a <tspan> may change it).
type svgText struct {
	x, y, fs float64
	middle   bool
	pieces   []string
	sizes    []float64
}

func (t svgText) String() string { return strings.Join(t.pieces, "") }

// extent is a conservative box around the text: the advances of textWidth,
// from 0.8 em above the baseline to 0.3 em below it (a lowered subscript
// reaches further down).
func (t svgText) extent() svgBox {
	w, lo := 0.0, t.y+0.3*t.fs
	for i, p := range t.pieces {
		w += textWidth(p, t.sizes[i])
		if t.sizes[i] != t.fs {
			lo = t.y + 4 + 0.3*t.sizes[i]
		}
	}
	x0 := t.x
	if t.middle {
		x0 -= w / 2
	}
	return svgBox{x0, t.y - 0.8*t.fs, x0 + w, lo}
}

type parsedSVG struct {
	view  svgBox
	rects []svgBox
	texts []svgText
	paths int
}

func attrs(e xml.StartElement) map[string]string {
	m := map[string]string{}
	for _, a := range e.Attr {
		m[a.Name.Local] = a.Value
	}
	return m
}

func num(t *testing.T, m map[string]string, k string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(m[k], 64)
	if err != nil {
		t.Fatalf("attribute %s=%q: %v", k, m[k], err)
	}
	return v
}

// parseSVG reads the drawing with encoding/xml (failing on XML that is not
// well-formed) and collects its rectangles, texts and paths.
func parseSVG(t *testing.T, svg []byte) parsedSVG {
	t.Helper()
	var p parsedSVG
	dec := xml.NewDecoder(bytes.NewReader(svg))
	var cur *svgText
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("cell.svg is not well-formed XML: %v\n%s", err, svg)
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			m := attrs(tk)
			switch tk.Name.Local {
			case "svg":
				f := strings.Fields(m["viewBox"])
				if len(f) != 4 {
					t.Fatalf("viewBox %q", m["viewBox"])
				}
				var v [4]float64
				for i := range f {
					v[i], _ = strconv.ParseFloat(f[i], 64)
				}
				p.view = svgBox{v[0], v[1], v[0] + v[2], v[1] + v[3]}
			case "rect":
				if _, ok := m["x"]; ok {
					x, y := num(t, m, "x"), num(t, m, "y")
					p.rects = append(p.rects, svgBox{x, y, x + num(t, m, "width"), y + num(t, m, "height")})
				}
			case "text":
				p.texts = append(p.texts, svgText{x: num(t, m, "x"), y: num(t, m, "y"), fs: num(t, m, "font-size"), middle: m["text-anchor"] == "middle"})
				cur = &p.texts[len(p.texts)-1]
			case "tspan":
				cur.sizes = append(cur.sizes, num(t, m, "font-size"))
				cur.pieces = append(cur.pieces, "")
			case "path":
				if m["marker-end"] != "" {
					p.paths++
				}
			}
		case xml.CharData:
			if cur == nil || strings.TrimSpace(string(tk)) == "" {
				continue
			}
			if len(cur.pieces) == len(cur.sizes) && len(cur.pieces) > 0 && cur.pieces[len(cur.pieces)-1] == "" {
				cur.pieces[len(cur.pieces)-1] = string(tk) // inside a <tspan>
				continue
			}
			cur.pieces = append(cur.pieces, string(tk))
			cur.sizes = append(cur.sizes, cur.fs)
		case xml.EndElement:
			if tk.Name.Local == "text" {
				cur = nil
			}
		}
	}
	return p
}

func inside(in, out svgBox) bool {
	return in.x0 >= out.x0 && in.y0 >= out.y0 && in.x1 <= out.x1 && in.y1 <= out.y1
}

// checkCellSVG checks a drawing of pairs: well-formed, every name and op
// written once, one arc per kept edge and per concatenated node, every text
// inside the view box and inside its own box, no two op labels overlapping
// each other or a node's box.
func checkCellSVG(t *testing.T, pairs []genotype.Pair, title string) {
	t.Helper()
	svg := CellSVG(pairs, title)
	p := parseSVG(t, svg)
	if !bytes.Equal(svg, CellSVG(pairs, title)) {
		t.Fatal("CellSVG is not deterministic")
	}
	var got []string
	for _, tx := range p.texts {
		got = append(got, tx.String())
	}
	want := []string{title, "ck-2", "ck-1", "0", "1", "2", "3", "ck"}
	for _, pr := range pairs {
		want = append(want, pr.Op)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("texts %q\nwant %q", got, want)
	}
	if p.paths != len(pairs)+genotype.Nodes {
		t.Fatalf("%d arcs drawn, want %d", p.paths, len(pairs)+genotype.Nodes)
	}
	nodes := p.rects[:2+genotype.Nodes+1]
	labelRects := p.rects[len(nodes):]
	var labels []svgBox
	for i, tx := range p.texts {
		ext := tx.extent()
		if !inside(ext, p.view) {
			t.Errorf("text %q (%v) leaves the view box %v", tx, ext, p.view)
		}
		switch {
		case i == 0:
		case i <= len(nodes):
			if !inside(ext, nodes[i-1]) {
				t.Errorf("node name %q (%v) leaves its box %v", tx, ext, nodes[i-1])
			}
		default:
			labels = append(labels, ext)
			if r := labelRects[len(labels)-1]; !inside(ext, svgBox{r.x0 - 1, r.y0 - 1, r.x1 + 1, r.y1 + 1}) {
				t.Errorf("op label %q (%v) leaves its box %v", tx, ext, r)
			}
		}
	}
	for i, a := range labelRects {
		if !inside(a, p.view) {
			t.Errorf("label box %v leaves the view box %v", a, p.view)
		}
		for _, n := range nodes {
			if a.overlaps(n) {
				t.Errorf("label %q overlaps a node's box", want[8+i])
			}
		}
		for j, b := range labelRects[:i] {
			if a.overlaps(b) || labels[i].overlaps(labels[j]) {
				t.Errorf("labels %q and %q overlap: %v %v", want[8+j], want[8+i], b, a)
			}
		}
	}
}

// TestCellSVGNamed checks the drawings of the built-in cells, a cell with
// two parallel pools on one edge (the second below the row) and one where
// every node reads both inputs through the same op.
func TestCellSVGNamed(t *testing.T) {
	for _, name := range genotype.Names() {
		g, _ := genotype.Named(name)
		t.Run(name, func(t *testing.T) {
			checkCellSVG(t, g.Normal, "PertNAS cell (normal = reduce), seed 7")
			checkCellSVG(t, g.Reduce, "a <title> & more")
		})
	}
	parallel := []genotype.Pair{{Op: "max_pool_3x3", Input: 0}, {Op: "avg_pool_3x3", Input: 0}, {Op: "max_pool_3x3", Input: 1},
		{Op: "max_pool_3x3", Input: 1}, {Op: "avg_pool_3x3", Input: 2}, {Op: "dil_conv_5x5", Input: 3},
		{Op: "skip_connect", Input: 0}, {Op: "sep_conv_5x5", Input: 4}}
	checkCellSVG(t, parallel, "two parallel pools")
	var same []genotype.Pair
	for n := range genotype.Nodes {
		same = append(same, genotype.Pair{Op: "avg_pool_3x3", Input: 0}, genotype.Pair{Op: "avg_pool_3x3", Input: 1 + n%2})
	}
	checkCellSVG(t, same, "avg pools")
	if svg := string(CellSVG(parallel, "")); strings.Contains(svg, "c_{") {
		t.Error("a node name is written as a literal c_{...}")
	}
}

// TestCellSVGRandom checks random cells, repeated inputs and both inputs of
// a node from one state included.
func TestCellSVGRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range 300 {
		var pairs []genotype.Pair
		for j := range 2 * genotype.Nodes {
			pairs = append(pairs, genotype.Pair{Op: genotype.Ops[rng.IntN(len(genotype.Ops))], Input: rng.IntN(j/2 + 2)})
		}
		t.Run(fmt.Sprint(i), func(t *testing.T) { checkCellSVG(t, pairs, "random cell") })
		if t.Failed() {
			t.Fatalf("cell %v", pairs)
		}
	}
}
