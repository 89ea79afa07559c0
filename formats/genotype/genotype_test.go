package genotype

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"pertnas/internal/testroot"
)

// specGenotypes reads the reference genotypes from docs/spec/darts.md, expanding
// "reduce=<same as normal>".
func specGenotypes(t *testing.T) map[string]string {
	b, err := os.ReadFile(testroot.Path(t, "docs", "spec", "darts.md"))
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?m)^([A-Z0-9_]+) = (Genotype\(.*\))$`)
	normal := regexp.MustCompile(`normal=(\[[^\]]*\])`)
	out := map[string]string{}
	for _, m := range re.FindAllStringSubmatch(string(b), -1) {
		repr := m[2]
		if strings.Contains(repr, "<same as normal>") {
			repr = strings.Replace(repr, "<same as normal>", normal.FindStringSubmatch(repr)[1], 1)
		}
		out[m[1]] = repr
	}
	return out
}

func TestNamedMatchSpec(t *testing.T) {
	spec := specGenotypes(t)
	if len(spec) != 4 {
		t.Fatalf("found %d genotypes in darts.md, want 4", len(spec))
	}
	want := []string{"DARTS_V1", "DARTS_V2", "PERTNAS_EVOLUTIONARY", "PERTNAS_SUPERNET"}
	if got := Names(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("Names() = %v, want %v", got, want)
	}
	for _, name := range want {
		g, ok := Named(name)
		if !ok {
			t.Fatalf("Named(%q) missing", name)
		}
		if err := g.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		fromSpec, err := ParseRepr(name + " = " + spec[name])
		if err != nil {
			t.Fatalf("%s from spec: %v", name, err)
		}
		if !g.Equal(fromSpec) {
			t.Errorf("%s differs from docs/spec/darts.md:\n got %s\nwant %s", name, g.Repr(), fromSpec.Repr())
		}
		if lower, ok := Named(strings.ToLower(name)); !ok || !lower.Equal(g) {
			t.Errorf("Named(%q) should find %s", strings.ToLower(name), name)
		}
	}
	// The spec prints DARTS_V1/V2 exactly in Repr's style.
	for _, name := range []string{"DARTS_V1", "DARTS_V2"} {
		g, _ := Named(name)
		if g.Repr() != spec[name] {
			t.Errorf("%s Repr:\n got %s\nwant %s", name, g.Repr(), spec[name])
		}
	}
	sup, _ := Named("PERTNAS_SUPERNET")
	if !sup.Equal(Combine(sup, Genotype{Reduce: sup.Normal, ReduceConcat: Concat})) {
		t.Error("PERTNAS_SUPERNET reduce should equal its normal cell")
	}
	if _, ok := Named("DARTS_V3"); ok {
		t.Error("Named(DARTS_V3) should not exist")
	}
}

func TestNamedIsFreshCopy(t *testing.T) {
	g, _ := Named("DARTS_V2")
	g.Normal[0].Op = "avg_pool_3x3"
	g.NormalConcat[0] = 9
	h, _ := Named("DARTS_V2")
	if h.Normal[0].Op != "sep_conv_3x3" || h.NormalConcat[0] != 2 {
		t.Fatal("Named returned shared memory")
	}
}

func TestRoundTrips(t *testing.T) {
	for _, name := range Names() {
		g, _ := Named(name)
		r, err := ParseRepr(g.Repr())
		if err != nil || !r.Equal(g) {
			t.Errorf("%s repr round trip: %v %v", name, err, r.Repr())
		}
		b, err := json.Marshal(g)
		if err != nil {
			t.Fatal(err)
		}
		j, err := ParseJSON(b)
		if err != nil || !j.Equal(g) {
			t.Errorf("%s JSON round trip: %v %s", name, err, b)
		}
	}
	g, _ := Named("DARTS_V2")
	b, _ := json.Marshal(g)
	want := `{"normal":[{"op":"sep_conv_3x3","input":0},{"op":"sep_conv_3x3","input":1},`
	if !strings.HasPrefix(string(b), want) || !strings.Contains(string(b), `"normal_concat":[2,3,4,5],"reduce":[{"op":"max_pool_3x3","input":0}`) ||
		!strings.HasSuffix(string(b), `"reduce_concat":[2,3,4,5]}`) {
		t.Errorf("JSON form changed: %s", b)
	}
}

func TestParseReprVariations(t *testing.T) {
	want, _ := Named("DARTS_V2")
	base := want.Repr()
	variants := map[string]string{
		"name prefix":   "DARTS = " + base,
		"range concat":  strings.ReplaceAll(base, "[2, 3, 4, 5]", "range(2, 6)"),
		"range tight":   strings.ReplaceAll(base, "[2, 3, 4, 5]", "range(2,6)"),
		"double quotes": strings.ReplaceAll(base, "'", `"`),
		"no spaces":     strings.NewReplacer(" ", "").Replace(base),
		"newlines": strings.NewReplacer("[(", "[\n    (", "), ", "),\n    ", ", normal_concat", ",\n  normal_concat").Replace(base) +
			"\n",
		"comments":             "# searched cell\nGENOTYPE = " + strings.Replace(base, "normal=", "  # the normal cell\n normal=", 1) + "  # end\n",
		"trailing comma":       strings.NewReplacer("), ", "), ", ")], ", "),], ", "5])", "5],)").Replace(base),
		"tuple trailing comma": strings.Replace(base, "('sep_conv_3x3', 0)", "('sep_conv_3x3', 0,)", 1),
		"keyword order": "Genotype(reduce=" + reprList(want.Reduce) + ", reduce_concat=[2, 3, 4, 5], normal_concat=[2,3,4,5], normal=" +
			reprList(want.Normal) + ")",
		"positional":   "Genotype(" + reprList(want.Normal) + ", range(2, 6), " + reprList(want.Reduce) + ", [2, 3, 4, 5])",
		"module":       "genotypes.Genotype" + strings.TrimPrefix(base, "Genotype"),
		"continuation": strings.Replace(base, "normal_concat", "\\\nnormal_concat", 1),
		"crlf":         "X = \\\r\n" + strings.ReplaceAll(base, ", ", ",\r\n"),
	}
	for name, s := range variants {
		g, err := ParseRepr(s)
		if err != nil {
			t.Errorf("%s: %v\n%s", name, err, s)
			continue
		}
		if !g.Equal(want) {
			t.Errorf("%s: got %s", name, g.Repr())
		}
	}
}

func reprList(ps []Pair) string {
	var b strings.Builder
	writePairs(&b, ps)
	return b.String()
}

func TestParseReprErrors(t *testing.T) {
	g, _ := Named("DARTS_V2")
	base := g.Repr()
	cases := []struct{ name, in, want string }{
		{"empty", "", "line 1 col 1: expected Genotype(...), found end of input"},
		{"not genotype", "Foo(normal=[])", "expected Genotype(...), found 'Foo'"},
		{"number first", "3", "expected Genotype(...), found '3'"},
		{"missing paren", "Genotype normal=[]", "expected '(' after Genotype"},
		{"unknown key", strings.Replace(base, "reduce_concat", "reduce_cat", 1), `unknown argument "reduce_cat"`},
		{"duplicate key", strings.Replace(base, "reduce_concat", "normal_concat", 1), "argument normal_concat given twice"},
		{"missing key", strings.Replace(base, ", reduce_concat=[2, 3, 4, 5]", "", 1), "lacks argument reduce_concat"},
		{"empty call", "Genotype()", "lacks argument normal"},
		{"unterminated string", "Genotype(normal=[('sep_conv_3x3, 0)])", "unterminated string"},
		{"op not quoted", strings.Replace(base, "'sep_conv_3x3'", "sep_conv_3x3", 1), "expected a quoted op name in normal pair 0, found 'sep_conv_3x3'"},
		{"input not int", strings.Replace(base, "('sep_conv_3x3', 1)", "('sep_conv_3x3', 'x')", 1), `expected an integer in normal pair 1, found "x"`},
		{"three elements", strings.Replace(base, "('sep_conv_3x3', 1)", "('sep_conv_3x3', 1, 2)", 1), "a pair has 2 elements"},
		{"missing comma", strings.Replace(base, "), ('sep_conv_3x3', 1)", ") ('sep_conv_3x3', 1)", 1), "expected ',' or ']' after normal pair 0, found '('"},
		{"bad char", strings.Replace(base, "[2, 3", "[2; 3", 1), "line 1 col"},
		{"bad concat", strings.Replace(base, "[2, 3, 4, 5]", "{2, 3}", 1), "unexpected character '{'"},
		{"concat word", strings.Replace(base, "[2, 3, 4, 5]", "nodes", 1), "expected a list [2, 3, 4, 5] or range(2, 6) for normal_concat, found 'nodes'"},
		{"range step", strings.Replace(base, "[2, 3, 4, 5]", "range(2, 6, 1)", 1), "range with a step is not supported"},
		{"huge range", strings.Replace(base, "[2, 3, 4, 5]", "range(0, 100000)", 1), "too long"},
		{"huge int", strings.Replace(base, "('sep_conv_3x3', 1)", "('sep_conv_3x3', 99999999999999999999)", 1), "integer 99999999999999999999 out of range"},
		{"trailing junk", base + " x", "unexpected 'x' after Genotype(...)"},
		{"two genotypes", base + "\n" + base, "unexpected 'Genotype' after Genotype(...)"},
		{"escape", strings.Replace(base, "'sep_conv_3x3'", `'sep\_conv'`, 1), "escape sequences are not supported"},
		{"lone minus", strings.Replace(base, "('sep_conv_3x3', 1)", "('sep_conv_3x3', -)", 1), "'-' not followed by a digit"},
		{"positional after keyword", "Genotype(normal=[], [2, 3, 4, 5])", "positional argument after keyword arguments"},
		{"too many positional", "Genotype([], [], [], [], [])", "too many arguments"},
		// Parsed fine but invalid: the validation error comes through.
		{"unknown op", strings.Replace(base, "dil_conv_3x3", "dil_conv_7x7", 1), `normal pair 7 (node 3): unknown op "dil_conv_7x7"`},
		{"range concat wrong", strings.Replace(base, "normal_concat=[2, 3, 4, 5]", "normal_concat=range(2, 5)", 1), "normal_concat is [2 3 4], want [2 3 4 5]"},
	}
	for _, c := range cases {
		_, err := ParseRepr(c.in)
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q does not contain %q", c.name, err, c.want)
		}
	}
	// Line and column point at the problem.
	_, err := ParseRepr("Genotype(\n  normal=[\n    ('sep_conv_3x3' 0)])")
	if err == nil || !strings.Contains(err.Error(), "line 3 col 21: expected ',' after the op name in normal pair 0, found '0'") {
		t.Errorf("position: %v", err)
	}
}

func TestValidateErrors(t *testing.T) {
	mod := func(f func(g *Genotype)) Genotype {
		g, _ := Named("DARTS_V2")
		f(&g)
		return g
	}
	cases := []struct {
		name string
		g    Genotype
		want string
	}{
		{"unknown op", mod(func(g *Genotype) { g.Reduce[3].Op = "conv_7x1_1x7" }), `genotype: reduce pair 3 (node 1): unknown op "conv_7x1_1x7" (want one of max_pool_3x3, avg_pool_3x3, skip_connect, sep_conv_3x3, sep_conv_5x5, dil_conv_3x3, dil_conv_5x5)`},
		{"none op", mod(func(g *Genotype) { g.Normal[0].Op = "none" }), `genotype: normal pair 0 (node 0): op "none" is not allowed in a genotype`},
		{"input too big", mod(func(g *Genotype) { g.Normal[1].Input = 2 }), "genotype: normal pair 1 (node 0): input 2 out of range 0..1"},
		{"input node 3", mod(func(g *Genotype) { g.Normal[7].Input = 5 }), "genotype: normal pair 7 (node 3): input 5 out of range 0..4"},
		{"negative input", mod(func(g *Genotype) { g.Reduce[4].Input = -1 }), "genotype: reduce pair 4 (node 2): input -1 out of range 0..3"},
		{"input twice", mod(func(g *Genotype) { g.Normal[3].Input = 0 }), "genotype: normal node 1 uses input 0 twice (pairs 2 and 3)"},
		{"too few pairs", mod(func(g *Genotype) { g.Normal = g.Normal[:7] }), "genotype: normal has 7 pairs, want 8 (2 per node)"},
		{"too many pairs", mod(func(g *Genotype) { g.Reduce = append(g.Reduce, g.Reduce[0]) }), "genotype: reduce has 9 pairs, want 8 (2 per node)"},
		{"no pairs", Genotype{}, "genotype: normal has 0 pairs, want 8 (2 per node)"},
		{"concat", mod(func(g *Genotype) { g.ReduceConcat = []int{2, 3, 4} }), "genotype: reduce_concat is [2 3 4], want [2 3 4 5]"},
		{"concat order", mod(func(g *Genotype) { g.NormalConcat = []int{5, 4, 3, 2} }), "genotype: normal_concat is [5 4 3 2], want [2 3 4 5]"},
	}
	for _, c := range cases {
		err := c.g.Validate()
		if err == nil || err.Error() != c.want {
			t.Errorf("%s: got %v\nwant %s", c.name, err, c.want)
		}
	}
}

func TestParseJSONErrors(t *testing.T) {
	g, _ := Named("DARTS_V2")
	good, _ := json.Marshal(g)
	cases := []struct{ name, in, want string }{
		{"empty", "", "genotype json: empty input"},
		{"syntax", `{"normal": [}`, "genotype json: byte offset 13: invalid character '}'"},
		{"truncated", string(good[:40]), "unexpected end of input"},
		{"unknown key", strings.Replace(string(good), `"reduce_concat"`, `"reduce_cat"`, 1), `unknown field "reduce_cat"`},
		{"unknown pair key", strings.Replace(string(good), `"input":0`, `"inp":0`, 1), `unknown field "inp"`},
		{"missing normal", `{"reduce": []}`, `genotype json: missing key "normal"`},
		{"null reduce", strings.Replace(string(good), `"reduce":[`, `"reduce":null,"x":[`, 1), `unknown field "x"`},
		{"missing input", strings.Replace(string(good), `,"input":1`, ``, 1), `genotype json: normal pair 1: missing key "input"`},
		{"missing op", strings.Replace(string(good), `"op":"max_pool_3x3",`, ``, 1), `genotype json: reduce pair 0: missing key "op"`},
		{"wrong type", strings.Replace(string(good), `"input":1`, `"input":"1"`, 1), `key "normal.input": string where int is expected`},
		{"trailing data", string(good) + " {}", "data after the genotype object"},
		{"array", `[1, 2]`, "genotype json: byte offset"},
		{"invalid", strings.Replace(string(good), `"dil_conv_3x3"`, `"dil_conv"`, 1), `normal pair 7 (node 3): unknown op "dil_conv"`},
	}
	for _, c := range cases {
		_, err := ParseJSON([]byte(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v does not contain %q", c.name, err, c.want)
		}
	}
	// Concat keys may be omitted.
	short := `{"normal": ` + string(mustJSON(g.Normal)) + `, "reduce": ` + string(mustJSON(g.Reduce)) + `}`
	h, err := ParseJSON([]byte(short))
	if err != nil || !h.Equal(g) {
		t.Errorf("JSON without concat: %v", err)
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func TestCombine(t *testing.T) {
	v1, _ := Named("DARTS_V1")
	ev, _ := Named("PERTNAS_EVOLUTIONARY")
	c := Combine(ev, v1)
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	want := Genotype{Normal: ev.Normal, NormalConcat: ev.NormalConcat, Reduce: v1.Reduce, ReduceConcat: v1.ReduceConcat}
	if !c.Equal(want) {
		t.Fatalf("Combine = %s", c.Repr())
	}
	c.Normal[0].Op = "avg_pool_3x3"
	c.Reduce[0].Op = "avg_pool_3x3"
	if ev.Normal[0].Op != "sep_conv_3x3" || v1.Reduce[0].Op != "max_pool_3x3" {
		t.Fatal("Combine shares memory with its arguments")
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	v2, _ := Named("DARTS_V2")
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, p := range []string{
		write("genotype.json", string(mustJSON(v2))),
		write("genotype.py", "# best cell\nPERTNAS = "+v2.Repr()+"\n"),
		write("genotype.txt", v2.Repr()),
		write("cell", "\n  "+string(mustJSON(v2))),
		write("cell2", v2.Repr()),
	} {
		g, err := Load(p)
		if err != nil || !g.Equal(v2) {
			t.Errorf("Load(%s): %v", p, err)
		}
	}
	if g, err := Load("DARTS_V2"); err != nil || !g.Equal(v2) {
		t.Errorf("Load(DARTS_V2): %v", err)
	}
	bad := write("bad.json", `{"normal": 3}`)
	_, err := Load(bad)
	if err == nil || !strings.Contains(err.Error(), "genotype file "+bad+": genotype json: byte offset") {
		t.Errorf("bad file: %v", err)
	}
	badpy := write("bad.py", "Genotype(normal=[('sep_conv_3x3', 0)")
	_, err = Load(badpy)
	if err == nil || !strings.Contains(err.Error(), "genotype file "+badpy+": genotype repr: line 1 col") {
		t.Errorf("bad py file: %v", err)
	}
	_, err = Load("DARTS_V9")
	if err == nil || !strings.Contains(err.Error(), `genotype "DARTS_V9": neither a built-in name (DARTS_V1, DARTS_V2, PERTNAS_EVOLUTIONARY, PERTNAS_SUPERNET) nor a file`) {
		t.Errorf("unknown name: %v", err)
	}
	missing := filepath.Join(dir, "missing.json")
	_, err = Load(missing)
	if err == nil || !strings.Contains(err.Error(), "genotype file "+missing+":") {
		t.Errorf("missing file: %v", err)
	}
}
