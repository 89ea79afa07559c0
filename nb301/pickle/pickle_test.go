package pickle

import (
	"bytes"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestBoosterPickles decodes the xgboost Booster pickles of every protocol
// (written by scripts/nb301_fixtures.py with Python's pickle) to the same
// object: class xgboost.core.Booster, state with the handle bytes.
func TestBoosterPickles(t *testing.T) {
	var first Bytes
	for _, name := range []string{"xgb_a.pkl", "xgb_a_p2.pkl", "xgb_a_p4.pkl", "xgb_a_p5.pkl"} {
		v, err := Decode(fixture(t, name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		o, ok := v.(*Object)
		if !ok {
			t.Fatalf("%s: top value %T", name, v)
		}
		if cls, _ := o.Class(); cls != (Global{"xgboost.core", "Booster"}) {
			t.Errorf("%s: class %v", name, cls)
		}
		h, err := StateField(o, "handle")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		b, ok := h.(Bytes)
		if !ok || !bytes.HasPrefix(b, []byte("CONFIG-offset:")) {
			t.Fatalf("%s: handle %T", name, h)
		}
		if first == nil {
			first = b
		} else if !bytes.Equal(first, b) {
			t.Errorf("%s: handle differs from protocol 3's", name)
		}
		if it, err := StateField(o, "best_iteration"); err != nil || it != int64(19) {
			t.Errorf("%s: best_iteration %v %v", name, it, err)
		}
	}
}

func TestLightGBMPickle(t *testing.T) {
	v, err := Decode(fixture(t, "lgb_runtime.pkl"))
	if err != nil {
		t.Fatal(err)
	}
	o := v.(*Object)
	h, err := StateField(o, "handle")
	if err != nil {
		t.Fatal(err)
	}
	if h != string(fixture(t, "lgb_runtime.txt")) {
		t.Error("handle is not the model text")
	}
	bs, _ := StateField(o, "best_score")
	dd, ok := bs.(*Object)
	if cls, _ := dd.Class(); !ok || cls.String() != "collections.defaultdict" {
		t.Errorf("best_score %#v", bs)
	}
	p, _ := StateField(o, "params")
	if d, ok := p.(*Dict); !ok || len(d.Keys) != 3 {
		t.Errorf("params %#v", p)
	} else if v, _ := d.Get("verbose"); v != int64(-1) {
		t.Errorf("params verbose %v", v)
	}
}

func TestValues(t *testing.T) {
	// Hand-assembled protocol-2 pickle of
	// (None, True, 1.5, -2, 2**70, b'ab', 'é', [1, 2], {'k': ()}, bytearray(b'\x00\xff'))
	// with bytearray as protocol 2 writes it: bytearray(_codecs.encode(u, 'latin1')).
	var p bytes.Buffer
	p.WriteString("\x80\x02(N\x88G\x3f\xf8\x00\x00\x00\x00\x00\x00J\xfe\xff\xff\xff")
	p.WriteString("\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00\x40") // LONG1 2**70
	p.WriteString("C\x02ab")
	p.WriteString("X\x02\x00\x00\x00\xc3\xa9")
	p.WriteString("]q\x00(K\x01K\x02e")
	p.WriteString("}q\x01X\x01\x00\x00\x00k)s")
	p.WriteString("c__builtin__\nbytearray\nc_codecs\nencode\nX\x03\x00\x00\x00\x00\xc3\xbfX\x06\x00\x00\x00latin1\x86R\x85R")
	p.WriteString("t.")
	v, err := Decode(p.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	tu := v.(Tuple)
	big70 := new(big.Int).Lsh(big.NewInt(1), 70)
	if len(tu) != 10 || tu[0] != nil || tu[1] != true || tu[2] != 1.5 || tu[3] != int64(-2) ||
		tu[4].(*big.Int).Cmp(big70) != 0 || string(tu[5].(Bytes)) != "ab" || tu[6] != "é" {
		t.Fatalf("decoded %#v", tu)
	}
	if l := tu[7].(*List); len(l.Items) != 2 || l.Items[1] != int64(2) {
		t.Errorf("list %#v", l)
	}
	if d := tu[8].(*Dict); len(d.Keys) != 1 {
		t.Errorf("dict %#v", d)
	}
	if b := tu[9].(Bytes); !bytes.Equal(b, []byte{0, 0xff}) {
		t.Errorf("bytearray %v", b)
	}
}

func TestErrors(t *testing.T) {
	for _, c := range []struct {
		name, data, want string
	}{
		{"empty", "", "offset 0: truncated: no STOP"},
		{"truncated string", "\x80\x03X\x10\x00\x00\x00ab", "offset 2: truncated"},
		{"INST", "\x80\x02(ios\nsystem\n.", "offset 3: unsupported opcode 0x69 (INST)"},
		{"persistent id", "\x80\x02Q.", "unsupported opcode 0x51 (persistent id)"},
		{"underflow", "\x80\x02R.", "stack underflow"},
		{"bad memo", "\x80\x02h\x05.", "memo index 5 was never stored"},
		{"no mark", "\x80\x02K\x01t.", "no mark"},
		{"protocol", "\x80\x09N.", "unsupported protocol 9"},
		{"unhashable", "\x80\x02}]Ns.", "unhashable dict key"},
		{"bad utf8", "\x80\x03X\x01\x00\x00\x00\xff.", "not valid UTF-8"},
		{"build on list", "\x80\x02]}b.", "BUILD on a list"},
	} {
		_, err := Decode([]byte(c.data))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(fixture(f, "lgb_runtime.pkl"))
	f.Add([]byte("\x80\x02cxgboost.core\nBooster\nq\x00)\x81q\x01}q\x02X\x06\x00\x00\x00handleq\x03c__builtin__\nbytearray\nC\x02abq\x04\x85Rsb."))
	f.Add([]byte("\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00\x8c\x01a\x94\x8c\x01b\x94\x93\x94)\x81\x94}\x94b."))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := Decode(data)
		if err == nil {
			if o, ok := v.(*Object); ok {
				StateField(o, "handle")
			}
		}
	})
}
