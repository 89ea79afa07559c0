package pertnas

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"math"

	"pertnas/formats/genotype"
)

// opColors gives each op (genotype.Ops order) its edge colour in CellSVG.
var opColors = [NumOps]string{"#1f77b4", "#17becf", "#7f7f7f", "#d62728", "#ff7f0e", "#2ca02c", "#9467bd"}

// CellSVG draws one cell of a genotype (its 8 pairs, nodes in order) as a
// standalone SVG document: the inputs c_{k-2}, c_{k-1} on the left, the
// intermediate nodes 0..3 in a zig-zag left to right, the output c_{k} on
// the right; every kept edge is an arrow labelled with its op, and dashed
// arrows show the concatenation of the nodes into c_{k}. The layout is
// fixed, so the same cell always gives the same bytes. Pairs that do not
// form a cell (wrong count, input out of range) are drawn as far as they go.
func CellSVG(pairs []genotype.Pair, title string) []byte {
	const (
		w, h       = 1010, 420
		boxW, boxH = 78, 36
	)
	type pt struct{ x, y float64 }
	pos := func(state int) pt {
		switch {
		case state == 0:
			return pt{70, 120}
		case state == 1:
			return pt{70, 320}
		case state >= 2 && state < 2+genotype.Nodes:
			i := state - 2
			y := 150.0
			if i%2 == 1 {
				y = 290
			}
			return pt{250 + 170*float64(i), y}
		}
		return pt{930, 220} // the output
	}
	name := func(state int) string {
		switch state {
		case 0:
			return "c_{k-2}"
		case 1:
			return "c_{k-1}"
		case 2 + genotype.Nodes:
			return "c_{k}"
		}
		return fmt.Sprint(state - 2)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="Helvetica, Arial, sans-serif">`+"\n", w, h, w, h)
	b.WriteString(`<defs>`)
	for i, c := range opColors {
		fmt.Fprintf(&b, `<marker id="a%d" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="%s"/></marker>`, i, c)
	}
	b.WriteString(`<marker id="ac" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#999"/></marker>`)
	b.WriteString("</defs>\n")
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", w, h)
	b.WriteString(`<text x="20" y="30" font-size="16">`)
	xml.EscapeText(&b, []byte(title))
	b.WriteString("</text>\n")

	// border returns where the segment from a's centre towards b leaves a's box.
	border := func(a, b pt) pt {
		dx, dy := b.x-a.x, b.y-a.y
		t := math.Inf(1)
		if dx != 0 {
			t = math.Min(t, (boxW/2)/math.Abs(dx))
		}
		if dy != 0 {
			t = math.Min(t, (boxH/2)/math.Abs(dy))
		}
		return pt{a.x + dx*t, a.y + dy*t}
	}
	type label struct {
		at   pt
		text string
	}
	var labels []label
	curve := func(from, to pt, bend float64, stroke, marker, dash string) pt {
		mid := pt{(from.x + to.x) / 2, (from.y + to.y) / 2}
		dx, dy := to.x-from.x, to.y-from.y
		l := math.Hypot(dx, dy)
		c := pt{mid.x - dy/l*bend*l, mid.y + dx/l*bend*l}
		p0, p2 := border(from, c), border(to, c)
		fmt.Fprintf(&b, `<path d="M%.1f,%.1f Q%.1f,%.1f %.1f,%.1f" fill="none" stroke="%s" stroke-width="2"%s marker-end="url(#%s)"/>`+"\n",
			p0.x, p0.y, c.x, c.y, p2.x, p2.y, stroke, dash, marker)
		return pt{0.25*p0.x + 0.5*c.x + 0.25*p2.x, 0.25*p0.y + 0.5*c.y + 0.25*p2.y}
	}
	for j, p := range pairs {
		node := j / 2
		op := genotype.OpIndex(p.Op)
		if node >= genotype.Nodes || p.Input < 0 || p.Input > node+1 {
			continue
		}
		color, marker := "#000", "ac"
		if op >= 0 {
			color, marker = opColors[op], fmt.Sprintf("a%d", op)
		}
		bend := 0.12
		if j%2 == 1 {
			bend = -0.12
		}
		at := curve(pos(p.Input), pos(node+2), bend, color, marker, "")
		labels = append(labels, label{at, p.Op})
	}
	for i := 0; i < genotype.Nodes; i++ {
		curve(pos(i+2), pos(2+genotype.Nodes), 0, "#999", "ac", ` stroke-dasharray="5,4"`)
	}
	for s := 0; s <= 2+genotype.Nodes; s++ {
		p := pos(s)
		fill := "#cfe8fc"
		if s < 2 {
			fill = "#d5f5d5"
		} else if s == 2+genotype.Nodes {
			fill = "#fdf2c4"
		}
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%d" height="%d" rx="8" fill="%s" stroke="#333"/>`+"\n", p.x-boxW/2, p.y-boxH/2, boxW, boxH, fill)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="15" text-anchor="middle">%s</text>`+"\n", p.x, p.y+5, name(s))
	}
	for _, l := range labels {
		tw := 7.2*float64(len(l.text)) + 8
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="18" rx="3" fill="white" fill-opacity="0.85"/>`+"\n", l.at.x-tw/2, l.at.y-13, tw)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="12" text-anchor="middle">`, l.at.x, l.at.y)
		xml.EscapeText(&b, []byte(l.text))
		b.WriteString("</text>\n")
	}
	b.WriteString("</svg>\n")
	return b.Bytes()
}
