package report

import (
	"fmt"
	"html"
	"math"
	"strings"

	"pertnas/formats/genotype"
	"pertnas/pertnas"
)

// The charts are SVG fragments written here with every text escaped; the
// template inserts them as trusted HTML.

// diffColor maps a diff to a diverging colour: red where removing the op
// costs accuracy (negative), blue where it helps, white at 0; scale is the
// |diff| of full saturation.
func diffColor(d, scale float64) string {
	if scale <= 0 || math.IsNaN(d) {
		return "#ffffff"
	}
	t := math.Max(-1, math.Min(1, d/scale))
	mix := func(c float64) int { return int(math.Round(255 - (255-c)*math.Abs(t))) }
	if t < 0 { // towards #d73027
		return fmt.Sprintf("#%02x%02x%02x", mix(215), mix(48), mix(39))
	}
	return fmt.Sprintf("#%02x%02x%02x", mix(69), mix(117), mix(180)) // towards #4575b4
}

// heatmapSVG draws a 14 x 7 valuation matrix (edges down, ops across), each
// cell coloured by its diff and labelled with it in percentage points;
// marked cells get a black frame and chosen cells a black dot (either may
// be nil).
func heatmapSVG(title string, m *[pertnas.NumEdges][pertnas.NumOps]float64, scale float64, marked, chosen *[pertnas.NumEdges][pertnas.NumOps]bool) string {
	const (
		left, top = 132, 96
		cw, ch    = 54, 22
	)
	w, h := left+cw*pertnas.NumOps+64, top+ch*pertnas.NumEdges+10
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="heat" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="%s">`, w, h, w, h, html.EscapeString(title))
	fmt.Fprintf(&b, `<text x="4" y="16" class="t">%s</text>`, html.EscapeString(title))
	for o, name := range genotype.Ops {
		x := left + cw*o + cw/2
		fmt.Fprintf(&b, `<text transform="translate(%d,%d) rotate(-40)" class="l">%s</text>`, x, top-6, html.EscapeString(name))
	}
	for e := 0; e < pertnas.NumEdges; e++ {
		y := top + ch*e
		fmt.Fprintf(&b, `<text x="%d" y="%d" class="l" text-anchor="end">%s</text>`, left-6, y+15, html.EscapeString(edgeLabel(e)))
		for o := 0; o < pertnas.NumOps; o++ {
			x := left + cw*o
			d := m[e][o]
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="%s"/>`, x, y, cw, ch, diffColor(d, scale))
			fmt.Fprintf(&b, `<text x="%d" y="%d" class="v" text-anchor="middle">%+.1f</text>`, x+cw/2, y+15, 100*d)
			if marked != nil && marked[e][o] {
				fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#000" stroke-width="2"/>`, x+1, y+1, cw-2, ch-2)
			}
			if chosen != nil && chosen[e][o] {
				fmt.Fprintf(&b, `<circle cx="%d" cy="%d" r="3.5" fill="#000"/>`, x+8, y+ch/2)
			}
		}
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// Series is one line of a line chart.
type Series struct {
	Name  string
	Color string
	X, Y  []float64
}

// lineSVG draws series on shared axes with a legend; yFmt formats tick
// labels.
func lineSVG(title, xLabel string, series []Series, yFmt func(float64) string) string {
	const (
		w, h                     = 560, 300
		left, right, top, bottom = 60, 20, 30, 40
	)
	xmin, xmax, ymin, ymax := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, s := range series {
		for i := range s.X {
			if math.IsNaN(s.Y[i]) || math.IsInf(s.Y[i], 0) {
				continue
			}
			xmin, xmax = math.Min(xmin, s.X[i]), math.Max(xmax, s.X[i])
			ymin, ymax = math.Min(ymin, s.Y[i]), math.Max(ymax, s.Y[i])
		}
	}
	if math.IsInf(xmin, 1) {
		return ""
	}
	if xmax == xmin {
		xmax = xmin + 1
	}
	yticks := niceTicks(ymin, ymax)
	ymin, ymax = yticks[0], yticks[len(yticks)-1]
	px := func(x float64) float64 { return left + (x-xmin)/(xmax-xmin)*(w-left-right) }
	py := func(y float64) float64 { return h - bottom - (y-ymin)/(ymax-ymin)*(h-top-bottom) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="%s">`, w, h, w, h, html.EscapeString(title))
	fmt.Fprintf(&b, `<text x="%d" y="18" class="t">%s</text>`, left, html.EscapeString(title))
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#bbb"/>`, left, top, w-left-right, h-top-bottom)
	for _, y := range yticks {
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#eee"/>`, left, w-right, py(y), py(y))
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" class="l" text-anchor="end">%s</text>`, left-4, py(y)+4, html.EscapeString(yFmt(y)))
	}
	for _, x := range xTicks(xmin, xmax) {
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" class="l" text-anchor="middle">%s</text>`, px(x), h-bottom+16, html.EscapeString(fmt.Sprintf("%.4g", x)))
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d" class="l" text-anchor="middle">%s</text>`, (left+w-right)/2, h-6, html.EscapeString(xLabel))
	for k, s := range series {
		var pts []string
		for i := range s.X {
			if math.IsNaN(s.Y[i]) || math.IsInf(s.Y[i], 0) {
				continue
			}
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", px(s.X[i]), py(s.Y[i])))
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`, s.Color, strings.Join(pts, " "))
		if len(pts) == 1 {
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>`, px(s.X[0]), py(s.Y[0]), s.Color)
		}
		lx := w - right - 90*(len(series)-k)
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="14" y2="14" stroke="%s" stroke-width="3"/>`, lx, lx+18, s.Color)
		fmt.Fprintf(&b, `<text x="%d" y="18" class="l">%s</text>`, lx+22, html.EscapeString(s.Name))
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// niceTicks returns ticks 1, 2 or 5 times a power of ten apart, from a
// multiple of the step at or below lo to one at or above hi: about five.
func niceTicks(lo, hi float64) []float64 {
	if hi <= lo {
		hi = lo + 1
	}
	raw := (hi - lo) / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := 10 * mag
	for _, m := range []float64{1, 2, 5} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	var ts []float64
	for k := math.Floor(lo / step); ; k++ {
		ts = append(ts, k*step)
		if k*step >= hi {
			return ts
		}
	}
}

// xTicks returns about five ticks from lo to hi: whole numbers when the
// range spans at least four (epochs), else five even steps.
func xTicks(lo, hi float64) []float64 {
	if hi-lo < 4 {
		return []float64{lo, lo + (hi-lo)/4, lo + (hi-lo)/2, lo + 3*(hi-lo)/4, hi}
	}
	step := math.Ceil((hi - lo) / 5)
	var ts []float64
	for x := math.Ceil(lo); x <= hi; x += step {
		ts = append(ts, x)
	}
	return ts
}

// Bar is one bar of a horizontal bar chart.
type Bar struct {
	Label string
	Value float64
}

// barsSVG draws horizontal bars labelled with their value formatted by
// vFmt.
func barsSVG(title string, bars []Bar, vFmt func(float64) string) string {
	const (
		left, width, rowH, top = 150, 360, 24, 28
	)
	h := top + rowH*len(bars) + 8
	w := left + width + 110
	var max float64
	for _, b := range bars {
		max = math.Max(max, b.Value)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="%s">`, w, h, w, h, html.EscapeString(title))
	fmt.Fprintf(&b, `<text x="4" y="18" class="t">%s</text>`, html.EscapeString(title))
	for i, bar := range bars {
		y := top + rowH*i
		bw := 0.0
		if max > 0 {
			bw = bar.Value / max * width
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" class="l" text-anchor="end">%s</text>`, left-6, y+15, html.EscapeString(bar.Label))
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="#4575b4"/>`, left, y+3, bw, rowH-6)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" class="l">%s</text>`, float64(left)+bw+6, y+15, html.EscapeString(vFmt(bar.Value)))
	}
	b.WriteString(`</svg>`)
	return b.String()
}
