package pertnas

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"slices"

	"pertnas/formats/genotype"
)

// opColors gives each op (genotype.Ops order) its edge colour in CellSVG.
var opColors = [NumOps]string{"#1f77b4", "#17becf", "#7f7f7f", "#d62728", "#ff7f0e", "#2ca02c", "#9467bd"}

// The geometry of CellSVG, in SVG user units (pixels).
const (
	svgMargin   = 20.0
	svgTitleH   = 40.0  // band above the drawing for the title
	svgColumn   = 140.0 // distance between the centres of neighbouring boxes
	svgBoxW     = 84.0
	svgBoxH     = 36.0
	svgLabelH   = 18.0 // height of an op label's box
	svgLabelPad = 8.0  // label box width beyond the text
	svgLabelFS  = 12.0 // op label font size
	svgNodeFS   = 15.0 // node name font size
	svgTitleFS  = 16.0
	// svgCharEm is the advance of one character in em that the label boxes
	// allow: more than any character of an op name or a node name takes in
	// Helvetica or Arial (at most about 0.56 em), so no text overflows its box.
	svgCharEm = 0.62
)

// arcHeight is how far the arc of an edge spanning span columns rises above
// the boxes (or falls below them) at its middle, where its label sits; arcs of
// neighbouring spans differ by more than a label's height.
func arcHeight(span int) float64 { return 30 + 34*float64(span) }

// svgBox is an axis-aligned rectangle: its left, top, right and bottom.
type svgBox struct{ x0, y0, x1, y1 float64 }

func (a svgBox) overlaps(b svgBox) bool {
	return a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1
}

// cellEdge is one arc of the drawing: from state From to state To (0 c_{k-2},
// 1 c_{k-1}, 2.. the intermediate nodes, 2+Nodes c_{k}), above the boxes
// or below them, with its op (-1: the dashed concatenation into c_{k}).
type cellEdge struct {
	from, to int
	below    bool
	op       int
	name     string
	// x0 and x1 are where the arc leaves from and arrives at its boxes.
	x0, x1 float64
}

// cellLayout is the drawing of one cell before it is written as SVG.
type cellLayout struct {
	w, h   float64
	rowY   float64 // centre line of the boxes
	edges  []cellEdge
	labels []svgBox // op labels' boxes, one per edge with an op, in order
}

// CellSVG draws one cell of a genotype (its pairs, two per intermediate
// node, in order) as a standalone SVG document, as the DARTS papers draw
// cells: the inputs c_{k-2} and c_{k-1} on the left, the intermediate nodes
// 0..3 in the middle, the output c_{k} on the right, all in one row. Every
// kept edge is an arc above the row, arrow at its end, labelled with its op
// at its highest point; a second edge between the same two states is drawn
// below the row. Dashed grey arcs below the row concatenate the
// intermediate nodes into c_{k}. Arcs leave and enter the boxes at separate
// points of their top and bottom sides, so no two run along each other,
// and arcs of different spans rise to different heights, so no two labels
// overlap. The layout depends on the pairs alone: the same cell always
// gives the same bytes. Pairs that do not form a cell (an input out of
// range, more than two pairs per node) are drawn as far as they go.
func CellSVG(pairs []genotype.Pair, title string) []byte {
	l := layoutCell(pairs)
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="Helvetica, Arial, sans-serif">`+"\n", l.w, l.h, l.w, l.h)
	b.WriteString(`<defs>`)
	for i, c := range opColors {
		fmt.Fprintf(&b, `<marker id="a%d" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="%s"/></marker>`, i, c)
	}
	b.WriteString(`<marker id="ac" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#999"/></marker>`)
	b.WriteString("</defs>\n")
	fmt.Fprintf(&b, `<rect width="%.0f" height="%.0f" fill="white"/>`+"\n", l.w, l.h)
	fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" font-size="%.0f">`, svgMargin, svgMargin+svgTitleFS, svgTitleFS)
	xml.EscapeText(&b, []byte(title))
	b.WriteString("</text>\n")

	// Concatenation arcs first, then the ops' arcs over them.
	for _, pass := range []bool{false, true} {
		for _, e := range l.edges {
			if (e.op >= 0 || e.name != "") != pass {
				continue
			}
			y := l.rowY - svgBoxH/2
			k := -arcHeight(e.to-e.from) / 0.75 // the cubic's middle is 3/4 of the way to its control points
			if e.below {
				y, k = l.rowY+svgBoxH/2, -k
			}
			stroke, marker, dash := "#999", "ac", ` stroke-dasharray="5,4"`
			switch {
			case e.op >= 0:
				stroke, marker, dash = opColors[e.op], fmt.Sprintf("a%d", e.op), ""
			case e.name != "":
				stroke, marker, dash = "#000", "ac", ""
			}
			fmt.Fprintf(&b, `<path d="M%.1f,%.1f C%.1f,%.1f %.1f,%.1f %.1f,%.1f" fill="none" stroke="%s" stroke-width="2"%s marker-end="url(#%s)"/>`+"\n",
				e.x0, y, e.x0, y+k, e.x1, y+k, e.x1, y, stroke, dash, marker)
		}
	}
	for s := 0; s <= 2+genotype.Nodes; s++ {
		x := stateX(s)
		fill := "#cfe8fc"
		if s < 2 {
			fill = "#d5f5d5"
		} else if s == 2+genotype.Nodes {
			fill = "#fdf2c4"
		}
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.0f" height="%.0f" rx="8" fill="%s" stroke="#333"/>`+"\n", x-svgBoxW/2, l.rowY-svgBoxH/2, svgBoxW, svgBoxH, fill)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="%.0f" text-anchor="middle">%s</text>`+"\n", x, l.rowY+5, svgNodeFS, stateName(s))
	}
	li := 0
	for _, e := range l.edges {
		if e.op < 0 && e.name == "" {
			continue
		}
		box := l.labels[li]
		li++
		color := "#000"
		if e.op >= 0 {
			color = opColors[e.op]
		}
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.0f" rx="3" fill="white" stroke="%s" stroke-width="0.8"/>`+"\n",
			box.x0, box.y0, box.x1-box.x0, svgLabelH, color)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="%.0f" text-anchor="middle" fill="#222">`, (box.x0+box.x1)/2, box.y1-5, svgLabelFS)
		xml.EscapeText(&b, []byte(e.name))
		b.WriteString("</text>\n")
	}
	b.WriteString("</svg>\n")
	return b.Bytes()
}

// stateX is the centre of state s's box: the states in one row, c_{k-2}
// first and c_{k} last.
func stateX(s int) float64 { return svgMargin + svgBoxW/2 + svgColumn*float64(s) }

// stateName is the SVG content of state s's box: c_{k-2}, c_{k-1} and c_{k}
// with their subscript lowered, the intermediate nodes by number.
func stateName(s int) string {
	sub := func(k string) string {
		return `c<tspan dy="4" font-size="11">` + k + `</tspan>`
	}
	switch s {
	case 0:
		return sub("k-2")
	case 1:
		return sub("k-1")
	case 2 + genotype.Nodes:
		return sub("k")
	}
	return fmt.Sprint(s - 2)
}

// labelWidth is the width of the box of an op label of n characters.
func labelWidth(n int) float64 { return svgCharEm*svgLabelFS*float64(n) + svgLabelPad }

// layoutCell places the arcs and labels of a cell (CellSVG).
func layoutCell(pairs []genotype.Pair) cellLayout {
	last := 2 + genotype.Nodes // c_{k}
	var edges []cellEdge
	for j, p := range pairs {
		node := j / 2
		if node >= genotype.Nodes || p.Input < 0 || p.Input > node+1 {
			continue
		}
		e := cellEdge{from: p.Input, to: node + 2, op: genotype.OpIndex(p.Op), name: p.Op}
		// A second edge between the same states goes below the row.
		e.below = slices.ContainsFunc(edges, func(o cellEdge) bool { return o.from == e.from && o.to == e.to && !o.below })
		edges = append(edges, e)
	}
	for n := 2; n < last; n++ {
		edges = append(edges, cellEdge{from: n, to: last, below: true, op: -1})
	}
	// Each box side has its arcs' ends spread along it: arriving arcs
	// first, the shorter further left; then leaving arcs, the longer
	// further left; so arcs from or to one box nest instead of touching.
	type end struct {
		edge   int
		arrive bool
		span   int
	}
	sides := map[[2]int][]end{} // (state, below) -> ends
	key := func(s int, below bool) [2]int {
		if below {
			return [2]int{s, 1}
		}
		return [2]int{s, 0}
	}
	for i, e := range edges {
		span := e.to - e.from
		sides[key(e.from, e.below)] = append(sides[key(e.from, e.below)], end{i, false, span})
		sides[key(e.to, e.below)] = append(sides[key(e.to, e.below)], end{i, true, span})
	}
	for k, ends := range sides {
		slices.SortStableFunc(ends, func(a, b end) int {
			switch {
			case a.arrive != b.arrive:
				if a.arrive {
					return -1
				}
				return 1
			case a.arrive:
				return a.span - b.span
			}
			return b.span - a.span
		})
		x := stateX(k[0])
		for i, en := range ends {
			at := x + (float64(i)+0.5-float64(len(ends))/2)*min(14, 0.8*svgBoxW/float64(len(ends)))
			if en.arrive {
				edges[en.edge].x1 = at
			} else {
				edges[en.edge].x0 = at
			}
		}
	}
	up, down := 0.0, 0.0 // the highest rise and deepest fall of an arc and its label
	for _, e := range edges {
		h := arcHeight(e.to - e.from)
		if e.op >= 0 || e.name != "" {
			h += svgLabelH / 2
		}
		if e.below {
			down = max(down, h)
		} else {
			up = max(up, h)
		}
	}
	l := cellLayout{edges: edges, w: stateX(last) + svgBoxW/2 + svgMargin}
	l.rowY = svgMargin + svgTitleH + up + svgBoxH/2
	l.h = l.rowY + svgBoxH/2 + down + svgMargin
	for _, e := range edges {
		if e.op < 0 && e.name == "" {
			continue
		}
		// Centred between the boxes' centres rather than the arc's ends:
		// labels of equal spans are then a column apart, and the arc is
		// nearly level there, so the label still sits on it.
		mid := (stateX(e.from) + stateX(e.to)) / 2
		y := l.rowY - svgBoxH/2 - arcHeight(e.to-e.from)
		if e.below {
			y = l.rowY + svgBoxH/2 + arcHeight(e.to-e.from)
		}
		w := labelWidth(len(e.name))
		l.labels = append(l.labels, svgBox{mid - w/2, y - svgLabelH/2, mid + w/2, y + svgLabelH/2})
	}
	return l
}
