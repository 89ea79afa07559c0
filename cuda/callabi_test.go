package cuda

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unsafe"

	"github.com/ebitengine/purego"
)

// TestCallABI calls every bound function, through purego and the Go function
// type of its binding, into a host-compiled C stub declared with the C
// signature of docs/spec/cuda-abi.md (types reduced to their ABI class: int, 64-bit
// integer/pointer, float, double). Each stub records the arguments it
// received and returns a sentinel; the test checks that every argument (in
// registers or on the stack, integer or floating point) and the result
// arrive intact. This is the calling-convention check that needs no GPU.
func TestCallABI(t *testing.T) {
	cxx, err := exec.LookPath("g++")
	if err != nil {
		t.Skip("no g++ to compile the ABI stubs")
	}
	sigs := specSignatures(abiSpec(t))
	ctype := map[cArg]string{cInt4: "int", cWord8: "unsigned long long", cFloat: "float", cDouble: "double", cStr: "const char *"}

	type fn struct {
		sym string
		typ reflect.Type
	}
	var fns []fn
	var src strings.Builder
	src.WriteString(`static unsigned long long rec_u[32]; static double rec_f[32];
extern "C" unsigned long long get_u(int i) { return rec_u[i]; }
extern "C" double get_f(int i) { return rec_f[i]; }
`)
	for _, tab := range []any{driverFuncs{}, cublasFuncs{}, cudnnFuncs{}, nvrtcFuncs{}} {
		typ := reflect.TypeOf(tab)
		for i := 0; i < typ.NumField(); i++ {
			sym := strings.Split(typ.Field(i).Tag.Get("sym"), "|")[0]
			sig, ok := sigs[sym]
			if !ok {
				t.Fatalf("%s not in the spec", sym)
			}
			ret, params := parseSignature(sig, sym)
			var decl, body []string
			for j, p := range params {
				decl = append(decl, fmt.Sprintf("%s a%d", ctype[p], j))
				if p == cFloat || p == cDouble {
					body = append(body, fmt.Sprintf("rec_f[%d] = a%d;", j, j))
				} else {
					body = append(body, fmt.Sprintf("rec_u[%d] = (unsigned long long)a%d;", j, j))
				}
			}
			retType, retStmt := "void", ""
			switch ret {
			case cInt4:
				retType, retStmt = "int", "return -7;"
			case cWord8:
				retType, retStmt = "unsigned long long", "return 0x123456789ULL;"
			case cStr:
				retType, retStmt = "const char *", `return "stub text";`
			}
			fmt.Fprintf(&src, "extern \"C\" %s stub_%s(%s) { %s %s }\n", retType, sym, strings.Join(decl, ", "), strings.Join(body, " "), retStmt)
			fns = append(fns, fn{sym, typ.Field(i).Type})
		}
	}
	so := filepath.Join(t.TempDir(), "stubs.so")
	cmd := exec.Command(cxx, "-O1", "-shared", "-fPIC", "-o", so, "-x", "c++", "-")
	cmd.Stdin = strings.NewReader(src.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("compiling the stubs: %v\n%s", err, out)
	}
	h, err := purego.Dlopen(so, purego.RTLD_NOW|purego.RTLD_LOCAL)
	if err != nil {
		t.Fatal(err)
	}
	var getU func(int32) uint64
	var getF func(int32) float64
	purego.RegisterLibFunc(&getU, h, "get_u")
	purego.RegisterLibFunc(&getF, h, "get_f")

	var anchor [64]byte // pointer arguments point into it
	for _, f := range fns {
		fp := reflect.New(f.typ)
		purego.RegisterLibFunc(fp.Interface(), h, "stub_"+f.sym)
		args := make([]reflect.Value, f.typ.NumIn())
		want := make([]any, len(args))
		for j := range args {
			in := f.typ.In(j)
			switch in.Kind() {
			case reflect.Int32:
				v := int32(-1000 - j) // negative: sign must survive
				args[j], want[j] = reflect.ValueOf(v), uint64(uint32(v))
			case reflect.Uint32:
				v := uint32(0x80000000 + j)
				args[j], want[j] = reflect.ValueOf(v), uint64(v)
			case reflect.Uint64, reflect.Uintptr, reflect.Int64:
				v := uint64(0x1122334400000000) + uint64(j)
				args[j], want[j] = reflect.ValueOf(v).Convert(in), v
			case reflect.UnsafePointer:
				p := unsafe.Pointer(&anchor[j])
				args[j], want[j] = reflect.ValueOf(p), uint64(uintptr(p))
			case reflect.Pointer:
				p := reflect.NewAt(in.Elem(), unsafe.Pointer(&anchor[j]))
				args[j], want[j] = p, uint64(p.Pointer())
			case reflect.Float32:
				v := float32(1.5 + float64(j))
				args[j], want[j] = reflect.ValueOf(v), float64(v)
			case reflect.Float64:
				v := 2.25 + float64(j)
				args[j], want[j] = reflect.ValueOf(v), v
			default:
				t.Fatalf("%s parameter %d: unexpected Go type %v", f.sym, j, in)
			}
		}
		out := fp.Elem().Call(args)
		for j := range args {
			switch w := want[j].(type) {
			case float64:
				if got := getF(int32(j)); got != w {
					t.Errorf("%s parameter %d: C received %v, Go passed %v", f.sym, j, got, w)
				}
			case uint64:
				got := getU(int32(j))
				if f.typ.In(j).Kind() == reflect.Int32 || f.typ.In(j).Kind() == reflect.Uint32 {
					got &= 0xffffffff // a C int widened by the stub
				}
				if got != w {
					t.Errorf("%s parameter %d: C received %#x, Go passed %#x", f.sym, j, got, w)
				}
			}
		}
		if len(out) == 1 {
			switch v := out[0].Interface().(type) {
			case int32:
				if v != -7 {
					t.Errorf("%s returned %d, want -7", f.sym, v)
				}
			case uintptr:
				if v != 0x123456789 {
					t.Errorf("%s returned %#x", f.sym, v)
				}
			case string:
				if v != "stub text" {
					t.Errorf("%s returned %q", f.sym, v)
				}
			default:
				t.Errorf("%s: unexpected result type %T", f.sym, v)
			}
		}
	}
	_ = os.Remove(so)
	if len(fns) < 80 {
		t.Errorf("only %d functions checked", len(fns))
	}
}
