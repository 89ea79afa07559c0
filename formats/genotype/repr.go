package genotype

import (
	"fmt"
	"strconv"
	"strings"
)

// Repr returns g in the DARTS Python repr, with the concat lists written as
// lists:
//
//	Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ...], normal_concat=[2, 3, 4, 5], reduce=[...], reduce_concat=[2, 3, 4, 5])
//
// ParseRepr(g.Repr()) gives back g for every valid g.
func (g Genotype) Repr() string {
	var b strings.Builder
	b.WriteString("Genotype(normal=")
	writePairs(&b, g.Normal)
	b.WriteString(", normal_concat=")
	writeInts(&b, g.NormalConcat)
	b.WriteString(", reduce=")
	writePairs(&b, g.Reduce)
	b.WriteString(", reduce_concat=")
	writeInts(&b, g.ReduceConcat)
	b.WriteString(")")
	return b.String()
}

func writePairs(b *strings.Builder, ps []Pair) {
	b.WriteByte('[')
	for i, p := range ps {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(b, "('%s', %d)", p.Op, p.Input)
	}
	b.WriteByte(']')
}

func writeInts(b *strings.Builder, xs []int) {
	b.WriteByte('[')
	for i, x := range xs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(x))
	}
	b.WriteByte(']')
}

// reprKeys are the Genotype namedtuple's fields in positional order.
var reprKeys = [...]string{"normal", "normal_concat", "reduce", "reduce_concat"}

// ParseRepr parses the DARTS Python repr of a genotype and validates it.
//
// Accepted: an optional assignment "NAME = " in front; the call name Genotype
// (or a dotted name ending in .Genotype); keyword arguments in any order, or
// positional ones in the namedtuple's order (normal, normal_concat, reduce,
// reduce_concat); pairs as tuples ('op', input) with single or double quotes;
// concat lists as [2, 3, 4, 5] or range(2, 6); any whitespace, newlines,
// trailing commas and # comments. All four fields are required, as in Python.
// Errors give the line and column of the problem.
func ParseRepr(s string) (Genotype, error) {
	p := &reprParser{src: s}
	g, err := p.parse()
	if err != nil {
		return Genotype{}, err
	}
	if err := g.Validate(); err != nil {
		return Genotype{}, err
	}
	return g, nil
}

type tokKind int

const (
	tokEOF tokKind = iota
	tokIdent
	tokInt
	tokString
	tokPunct
)

type token struct {
	kind tokKind
	text string // identifier, digits, string contents or the punctuation byte
	pos  int    // byte offset of the token's first byte
}

func (t token) String() string {
	switch t.kind {
	case tokEOF:
		return "end of input"
	case tokString:
		return strconv.Quote(t.text)
	default:
		return "'" + t.text + "'"
	}
}

type reprParser struct {
	src    string
	off    int
	peeked *token
}

func (p *reprParser) errorf(pos int, format string, args ...any) error {
	line, col := 1, 1
	for i := 0; i < pos && i < len(p.src); i++ {
		if p.src[i] == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return fmt.Errorf("genotype repr: line %d col %d: %s", line, col, fmt.Sprintf(format, args...))
}

func isIdentByte(c byte, first bool) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (!first && (c == '.' || (c >= '0' && c <= '9')))
}

// scan reads the next token.
func (p *reprParser) scan() (token, error) {
	for p.off < len(p.src) {
		c := p.src[p.off]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			p.off++
		case c == '\\' && p.off+1 < len(p.src) && (p.src[p.off+1] == '\n' || p.src[p.off+1] == '\r'):
			p.off += 2 // line continuation
		case c == '#':
			for p.off < len(p.src) && p.src[p.off] != '\n' {
				p.off++
			}
		default:
			return p.scanToken()
		}
	}
	return token{kind: tokEOF, pos: p.off}, nil
}

func (p *reprParser) scanToken() (token, error) {
	start := p.off
	c := p.src[start]
	switch {
	case isIdentByte(c, true):
		for p.off < len(p.src) && isIdentByte(p.src[p.off], false) {
			p.off++
		}
		return token{kind: tokIdent, text: p.src[start:p.off], pos: start}, nil
	case c == '-' || (c >= '0' && c <= '9'):
		p.off++
		for p.off < len(p.src) && p.src[p.off] >= '0' && p.src[p.off] <= '9' {
			p.off++
		}
		if p.src[start:p.off] == "-" {
			return token{}, p.errorf(start, "'-' not followed by a digit")
		}
		return token{kind: tokInt, text: p.src[start:p.off], pos: start}, nil
	case c == '\'' || c == '"':
		p.off++
		for p.off < len(p.src) {
			switch p.src[p.off] {
			case c:
				p.off++
				return token{kind: tokString, text: p.src[start+1 : p.off-1], pos: start}, nil
			case '\\':
				return token{}, p.errorf(p.off, "escape sequences are not supported in op names")
			case '\n':
				return token{}, p.errorf(start, "unterminated string")
			}
			p.off++
		}
		return token{}, p.errorf(start, "unterminated string")
	case strings.IndexByte("()[],=", c) >= 0:
		p.off++
		return token{kind: tokPunct, text: string(c), pos: start}, nil
	}
	return token{}, p.errorf(start, "unexpected character %q", rune(c))
}

func (p *reprParser) next() (token, error) {
	if p.peeked != nil {
		t := *p.peeked
		p.peeked = nil
		return t, nil
	}
	return p.scan()
}

func (p *reprParser) peek() (token, error) {
	if p.peeked == nil {
		t, err := p.scan()
		if err != nil {
			return token{}, err
		}
		p.peeked = &t
	}
	return *p.peeked, nil
}

// expect reads a punctuation token, naming what it belongs to on failure.
func (p *reprParser) expect(punct, context string) (token, error) {
	t, err := p.next()
	if err != nil {
		return t, err
	}
	if t.kind != tokPunct || t.text != punct {
		return t, p.errorf(t.pos, "expected '%s' %s, found %s", punct, context, t)
	}
	return t, nil
}

// closeOrComma reads the separator after a list or tuple element: it returns
// true at the closing bracket (a trailing comma before it is allowed).
func (p *reprParser) closeOrComma(closing, context string) (bool, error) {
	t, err := p.next()
	if err != nil {
		return false, err
	}
	if t.kind == tokPunct && t.text == closing {
		return true, nil
	}
	if t.kind != tokPunct || t.text != "," {
		return false, p.errorf(t.pos, "expected ',' or '%s' %s, found %s", closing, context, t)
	}
	t, err = p.peek()
	if err != nil {
		return false, err
	}
	if t.kind == tokPunct && t.text == closing {
		p.next()
		return true, nil
	}
	return false, nil
}

func (p *reprParser) parse() (Genotype, error) {
	t, err := p.next()
	if err != nil {
		return Genotype{}, err
	}
	if t.kind != tokIdent {
		return Genotype{}, p.errorf(t.pos, "expected Genotype(...), found %s", t)
	}
	if eq, err := p.peek(); err != nil {
		return Genotype{}, err
	} else if eq.kind == tokPunct && eq.text == "=" {
		p.next()
		if t, err = p.next(); err != nil {
			return Genotype{}, err
		}
	}
	if t.kind != tokIdent || (t.text != "Genotype" && !strings.HasSuffix(t.text, ".Genotype")) {
		return Genotype{}, p.errorf(t.pos, "expected Genotype(...), found %s", t)
	}
	if _, err := p.expect("(", "after Genotype"); err != nil {
		return Genotype{}, err
	}
	var g Genotype
	seen := map[string]bool{}
	positional, keyword := 0, false
	for {
		t, err := p.peek()
		if err != nil {
			return Genotype{}, err
		}
		if t.kind == tokPunct && t.text == ")" {
			p.next()
			break
		}
		var key string
		keyPos := t.pos
		if t.kind == tokIdent && !strings.Contains(t.text, ".") && t.text != "range" && t.text != "list" {
			p.next()
			if _, err := p.expect("=", "after argument name "+t.text); err != nil {
				return Genotype{}, err
			}
			key, keyword = t.text, true
		} else {
			if keyword {
				return Genotype{}, p.errorf(t.pos, "positional argument after keyword arguments")
			}
			if positional >= len(reprKeys) {
				return Genotype{}, p.errorf(t.pos, "too many arguments to Genotype (it has %d fields)", len(reprKeys))
			}
			key = reprKeys[positional]
			positional++
		}
		if seen[key] {
			return Genotype{}, p.errorf(keyPos, "argument %s given twice", key)
		}
		seen[key] = true
		switch key {
		case "normal":
			g.Normal, err = p.parsePairs(key)
		case "reduce":
			g.Reduce, err = p.parsePairs(key)
		case "normal_concat":
			g.NormalConcat, err = p.parseConcat(key)
		case "reduce_concat":
			g.ReduceConcat, err = p.parseConcat(key)
		default:
			return Genotype{}, p.errorf(keyPos, "unknown argument %q (Genotype has normal, normal_concat, reduce, reduce_concat)", key)
		}
		if err != nil {
			return Genotype{}, err
		}
		done, err := p.closeOrComma(")", "after argument "+key)
		if err != nil {
			return Genotype{}, err
		}
		if done {
			break
		}
	}
	end, err := p.next()
	if err != nil {
		return Genotype{}, err
	}
	if end.kind != tokEOF {
		return Genotype{}, p.errorf(end.pos, "unexpected %s after Genotype(...)", end)
	}
	for _, k := range reprKeys {
		if !seen[k] {
			return Genotype{}, p.errorf(end.pos, "Genotype(...) lacks argument %s", k)
		}
	}
	return g, nil
}

func (p *reprParser) parsePairs(key string) ([]Pair, error) {
	if _, err := p.expect("[", "to open the "+key+" list"); err != nil {
		return nil, err
	}
	pairs := []Pair{}
	if t, err := p.peek(); err != nil {
		return nil, err
	} else if t.kind == tokPunct && t.text == "]" {
		p.next()
		return pairs, nil
	}
	for {
		ctx := fmt.Sprintf("in %s pair %d", key, len(pairs))
		if _, err := p.expect("(", "to open "+key+" pair "+strconv.Itoa(len(pairs))); err != nil {
			return nil, err
		}
		op, err := p.next()
		if err != nil {
			return nil, err
		}
		if op.kind != tokString {
			return nil, p.errorf(op.pos, "expected a quoted op name %s, found %s", ctx, op)
		}
		if _, err := p.expect(",", "after the op name "+ctx); err != nil {
			return nil, err
		}
		in, err := p.parseInt(ctx)
		if err != nil {
			return nil, err
		}
		if done, err := p.closeOrComma(")", ctx); err != nil {
			return nil, err
		} else if !done {
			t, _ := p.peek()
			return nil, p.errorf(t.pos, "a pair has 2 elements (op, input), found more %s", ctx)
		}
		pairs = append(pairs, Pair{Op: op.text, Input: in})
		done, err := p.closeOrComma("]", "after "+key+" pair "+strconv.Itoa(len(pairs)-1))
		if err != nil {
			return nil, err
		}
		if done {
			return pairs, nil
		}
	}
}

func (p *reprParser) parseInt(ctx string) (int, error) {
	t, err := p.next()
	if err != nil {
		return 0, err
	}
	if t.kind != tokInt {
		return 0, p.errorf(t.pos, "expected an integer %s, found %s", ctx, t)
	}
	v, err := strconv.Atoi(t.text)
	if err != nil || v < -1<<20 || v > 1<<20 {
		return 0, p.errorf(t.pos, "integer %s out of range %s", t.text, ctx)
	}
	return v, nil
}

// parseConcat reads [a, b, ...], range(stop) or range(start, stop).
func (p *reprParser) parseConcat(key string) ([]int, error) {
	t, err := p.next()
	if err != nil {
		return nil, err
	}
	ctx := "in " + key
	switch {
	case t.kind == tokIdent && t.text == "range":
		if _, err := p.expect("(", "after range"); err != nil {
			return nil, err
		}
		a, err := p.parseInt(ctx)
		if err != nil {
			return nil, err
		}
		start, stop := 0, a
		done, err := p.closeOrComma(")", ctx)
		if err != nil {
			return nil, err
		}
		if !done {
			if stop, err = p.parseInt(ctx); err != nil {
				return nil, err
			}
			start = a
			if done, err = p.closeOrComma(")", ctx); err != nil {
				return nil, err
			} else if !done {
				t, _ := p.peek()
				return nil, p.errorf(t.pos, "range with a step is not supported %s", ctx)
			}
		}
		if stop-start > 64 {
			return nil, p.errorf(t.pos, "range(%d, %d) too long %s", start, stop, ctx)
		}
		xs := []int{}
		for i := start; i < stop; i++ {
			xs = append(xs, i)
		}
		return xs, nil
	case t.kind == tokPunct && t.text == "[":
		xs := []int{}
		if n, err := p.peek(); err != nil {
			return nil, err
		} else if n.kind == tokPunct && n.text == "]" {
			p.next()
			return xs, nil
		}
		for {
			x, err := p.parseInt(ctx)
			if err != nil {
				return nil, err
			}
			xs = append(xs, x)
			done, err := p.closeOrComma("]", ctx)
			if err != nil {
				return nil, err
			}
			if done {
				return xs, nil
			}
		}
	}
	return nil, p.errorf(t.pos, "expected a list [2, 3, 4, 5] or range(2, 6) for %s, found %s", key, t)
}
