// Package pickle decodes the subset of Python's pickle format (protocols 2 to
// 5) that pickled model objects use, without executing anything: a class
// reference (GLOBAL, STACK_GLOBAL) becomes a Global value naming it, and
// constructing or restoring an object (REDUCE, NEWOBJ, BUILD) becomes an
// Object value that records the class, the arguments and the state. The only
// calls evaluated are the byte-string constructors that pickles of bytes and
// bytearray use (builtins.bytearray, _codecs.encode with latin1, and
// builtins.bytes), which turn into Bytes.
//
// Opcodes outside the subset (the text protocol 0/1 object opcodes INST and
// OBJ, persistent ids, extension codes, out-of-band buffers) are refused with
// an error naming the opcode and its byte offset. Decoding never panics;
// sizes are bounded by the input length.
package pickle

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"unicode/utf8"
)

// Value is a decoded pickle value: nil (None), bool, int64, *big.Int, float64,
// string, Bytes, *List, Tuple, *Dict, *Set, Global or *Object.
type Value any

// Bytes is a Python bytes or bytearray value.
type Bytes []byte

// List is a Python list.
type List struct{ Items []Value }

// Tuple is a Python tuple.
type Tuple []Value

// Set is a Python set or frozenset.
type Set struct{ Items []Value }

// Dict is a Python dict (or the items given to an object by SETITEMS), in
// insertion order. Keys are kept as decoded; Get looks a string key up.
type Dict struct {
	Keys   []Value
	Values []Value
	index  map[string]int // position of each string key
}

// Get returns the value stored under the string key and whether it exists.
func (d *Dict) Get(key string) (Value, bool) {
	i, ok := d.index[key]
	if !ok {
		return nil, false
	}
	return d.Values[i], true
}

// Global is a reference to a Python object by module and name (a class or a
// function), never resolved.
type Global struct{ Module, Name string }

// String returns "module.name".
func (g Global) String() string { return g.Module + "." + g.Name }

// Object is an object that a pickle constructs: Callable applied to Args
// (REDUCE, or NEWOBJ/NEWOBJ_EX with the class as Callable and keyword
// arguments Kwargs), then State given by BUILD (nil if none), and
// Items/Appends given by SETITEMS/APPENDS on it.
type Object struct {
	Callable Value
	Args     Tuple
	Kwargs   *Dict
	State    Value
	Items    Dict
	Appends  []Value
}

// Class returns the object's class or constructor when it is a Global.
func (o *Object) Class() (Global, bool) {
	g, ok := o.Callable.(Global)
	return g, ok
}

// maxMemo bounds the number of memo entries.
const maxMemo = 1 << 20

// mark is the stack sentinel pushed by MARK.
type mark struct{}

type decoder struct {
	data  []byte
	pos   int
	stack []Value
	memo  map[int]Value
}

// SyntaxError reports malformed or unsupported pickle data at a byte offset.
type SyntaxError struct {
	Offset int
	Msg    string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("pickle: offset %d: %s", e.Offset, e.Msg) }

// Decode decodes the first pickle in data and returns its value. Trailing
// bytes after the STOP opcode are ignored, as Python's pickle.loads does.
func Decode(data []byte) (Value, error) {
	d := &decoder{data: data, memo: map[int]Value{}}
	return d.run()
}

func (d *decoder) errf(off int, format string, args ...any) error {
	return &SyntaxError{Offset: off, Msg: fmt.Sprintf(format, args...)}
}

func (d *decoder) take(off, n int) ([]byte, error) {
	if n < 0 || n > len(d.data)-d.pos {
		return nil, d.errf(off, "truncated: need %d bytes, %d left", n, len(d.data)-d.pos)
	}
	b := d.data[d.pos : d.pos+n]
	d.pos += n
	return b, nil
}

func (d *decoder) u8(off int) (int, error) {
	b, err := d.take(off, 1)
	if err != nil {
		return 0, err
	}
	return int(b[0]), nil
}

func (d *decoder) u16(off int) (int, error) {
	b, err := d.take(off, 2)
	if err != nil {
		return 0, err
	}
	return int(binary.LittleEndian.Uint16(b)), nil
}

func (d *decoder) u32(off int) (int, error) {
	b, err := d.take(off, 4)
	if err != nil {
		return 0, err
	}
	return int(binary.LittleEndian.Uint32(b)), nil
}

func (d *decoder) u64len(off int) (int, error) {
	b, err := d.take(off, 8)
	if err != nil {
		return 0, err
	}
	n := binary.LittleEndian.Uint64(b)
	if n > uint64(len(d.data)) {
		return 0, d.errf(off, "length %d exceeds the data size", n)
	}
	return int(n), nil
}

// line reads up to and excluding the next newline (GLOBAL's text operands).
func (d *decoder) line(off int) (string, error) {
	for i := d.pos; i < len(d.data); i++ {
		if d.data[i] == '\n' {
			s := string(d.data[d.pos:i])
			d.pos = i + 1
			return s, nil
		}
	}
	return "", d.errf(off, "truncated: missing newline")
}

func (d *decoder) push(v Value) { d.stack = append(d.stack, v) }

func (d *decoder) pop(off int) (Value, error) {
	if len(d.stack) == 0 {
		return nil, d.errf(off, "stack underflow")
	}
	v := d.stack[len(d.stack)-1]
	d.stack = d.stack[:len(d.stack)-1]
	if _, ok := v.(mark); ok {
		return nil, d.errf(off, "unexpected mark on the stack")
	}
	return v, nil
}

func (d *decoder) top(off int) (Value, error) {
	if len(d.stack) == 0 {
		return nil, d.errf(off, "stack underflow")
	}
	v := d.stack[len(d.stack)-1]
	if _, ok := v.(mark); ok {
		return nil, d.errf(off, "unexpected mark on the stack")
	}
	return v, nil
}

// popMark pops the values above the topmost mark, and the mark.
func (d *decoder) popMark(off int) ([]Value, error) {
	for i := len(d.stack) - 1; i >= 0; i-- {
		if _, ok := d.stack[i].(mark); ok {
			items := append([]Value(nil), d.stack[i+1:]...)
			d.stack = d.stack[:i]
			return items, nil
		}
	}
	return nil, d.errf(off, "no mark on the stack")
}

func (d *decoder) memoPut(off, idx int) error {
	v, err := d.top(off)
	if err != nil {
		return err
	}
	if idx < 0 || len(d.memo) >= maxMemo {
		return d.errf(off, "memo index %d out of range", idx)
	}
	d.memo[idx] = v
	return nil
}

func (d *decoder) memoGet(off, idx int) error {
	v, ok := d.memo[idx]
	if !ok {
		return d.errf(off, "memo index %d was never stored", idx)
	}
	d.push(v)
	return nil
}

func (d *decoder) run() (Value, error) {
	for {
		off := d.pos
		op, err := d.u8(off)
		if err != nil {
			return nil, d.errf(off, "truncated: no STOP opcode")
		}
		switch op {
		case 0x80: // PROTO
			p, err := d.u8(off)
			if err != nil {
				return nil, err
			}
			if p > 5 {
				return nil, d.errf(off, "unsupported protocol %d", p)
			}
		case 0x95: // FRAME: an 8-byte size hint only
			if _, err := d.take(off, 8); err != nil {
				return nil, err
			}
		case '.': // STOP
			v, err := d.pop(off)
			if err != nil {
				return nil, err
			}
			return v, nil
		case '(': // MARK
			d.push(mark{})
		case '0': // POP
			if len(d.stack) == 0 {
				return nil, d.errf(off, "stack underflow")
			}
			d.stack = d.stack[:len(d.stack)-1]
		case '1': // POP_MARK
			if _, err := d.popMark(off); err != nil {
				return nil, err
			}
		case '2': // DUP
			v, err := d.top(off)
			if err != nil {
				return nil, err
			}
			d.push(v)
		case 'N':
			d.push(nil)
		case 0x88:
			d.push(true)
		case 0x89:
			d.push(false)
		case 'J': // BININT
			b, err := d.take(off, 4)
			if err != nil {
				return nil, err
			}
			d.push(int64(int32(binary.LittleEndian.Uint32(b))))
		case 'K': // BININT1
			n, err := d.u8(off)
			if err != nil {
				return nil, err
			}
			d.push(int64(n))
		case 'M': // BININT2
			n, err := d.u16(off)
			if err != nil {
				return nil, err
			}
			d.push(int64(n))
		case 0x8a, 0x8b: // LONG1, LONG4
			var n int
			if op == 0x8a {
				n, err = d.u8(off)
			} else {
				n, err = d.u32(off)
			}
			if err != nil {
				return nil, err
			}
			b, err := d.take(off, n)
			if err != nil {
				return nil, err
			}
			d.push(decodeLong(b))
		case 'G': // BINFLOAT, big-endian
			b, err := d.take(off, 8)
			if err != nil {
				return nil, err
			}
			d.push(math.Float64frombits(binary.BigEndian.Uint64(b)))
		case 'X', 0x8c, 0x8d: // BINUNICODE, SHORT_BINUNICODE, BINUNICODE8
			var n int
			switch op {
			case 'X':
				n, err = d.u32(off)
			case 0x8c:
				n, err = d.u8(off)
			default:
				n, err = d.u64len(off)
			}
			if err != nil {
				return nil, err
			}
			b, err := d.take(off, n)
			if err != nil {
				return nil, err
			}
			if !utf8.Valid(b) {
				return nil, d.errf(off, "string is not valid UTF-8")
			}
			d.push(string(b))
		case 'B', 'C', 0x8e, 0x96: // BINBYTES, SHORT_BINBYTES, BINBYTES8, BYTEARRAY8
			var n int
			switch op {
			case 'B':
				n, err = d.u32(off)
			case 'C':
				n, err = d.u8(off)
			default:
				n, err = d.u64len(off)
			}
			if err != nil {
				return nil, err
			}
			b, err := d.take(off, n)
			if err != nil {
				return nil, err
			}
			d.push(Bytes(append([]byte(nil), b...)))
		case 'T', 'U': // BINSTRING, SHORT_BINSTRING (Python 2 str): kept as bytes
			var n int
			if op == 'T' {
				n, err = d.u32(off)
			} else {
				n, err = d.u8(off)
			}
			if err != nil {
				return nil, err
			}
			b, err := d.take(off, n)
			if err != nil {
				return nil, err
			}
			d.push(Bytes(append([]byte(nil), b...)))
		case ')':
			d.push(Tuple{})
		case ']':
			d.push(&List{})
		case '}':
			d.push(&Dict{})
		case 0x8f: // EMPTY_SET
			d.push(&Set{})
		case 't': // TUPLE
			items, err := d.popMark(off)
			if err != nil {
				return nil, err
			}
			d.push(Tuple(items))
		case 0x85, 0x86, 0x87: // TUPLE1..3
			n := int(op - 0x84)
			if len(d.stack) < n {
				return nil, d.errf(off, "stack underflow")
			}
			items := make(Tuple, n)
			for i := n - 1; i >= 0; i-- {
				if items[i], err = d.pop(off); err != nil {
					return nil, err
				}
			}
			d.push(items)
		case 'l': // LIST
			items, err := d.popMark(off)
			if err != nil {
				return nil, err
			}
			d.push(&List{Items: items})
		case 'd': // DICT
			items, err := d.popMark(off)
			if err != nil {
				return nil, err
			}
			dict := &Dict{}
			if err := d.setItems(off, dict, items); err != nil {
				return nil, err
			}
			d.push(dict)
		case 0x91: // FROZENSET
			items, err := d.popMark(off)
			if err != nil {
				return nil, err
			}
			d.push(&Set{Items: items})
		case 'a': // APPEND
			v, err := d.pop(off)
			if err != nil {
				return nil, err
			}
			if err := d.appendTo(off, []Value{v}); err != nil {
				return nil, err
			}
		case 'e': // APPENDS
			items, err := d.popMark(off)
			if err != nil {
				return nil, err
			}
			if err := d.appendTo(off, items); err != nil {
				return nil, err
			}
		case 's': // SETITEM
			v, err := d.pop(off)
			if err != nil {
				return nil, err
			}
			k, err := d.pop(off)
			if err != nil {
				return nil, err
			}
			if err := d.setItemsOnTop(off, []Value{k, v}); err != nil {
				return nil, err
			}
		case 'u': // SETITEMS
			items, err := d.popMark(off)
			if err != nil {
				return nil, err
			}
			if err := d.setItemsOnTop(off, items); err != nil {
				return nil, err
			}
		case 0x90: // ADDITEMS
			items, err := d.popMark(off)
			if err != nil {
				return nil, err
			}
			t, err := d.top(off)
			if err != nil {
				return nil, err
			}
			s, ok := t.(*Set)
			if !ok {
				return nil, d.errf(off, "ADDITEMS on a %s, want a set", typeName(t))
			}
			s.Items = append(s.Items, items...)
		case 'c': // GLOBAL
			mod, err := d.line(off)
			if err != nil {
				return nil, err
			}
			name, err := d.line(off)
			if err != nil {
				return nil, err
			}
			d.push(Global{Module: mod, Name: name})
		case 0x93: // STACK_GLOBAL
			name, err := d.pop(off)
			if err != nil {
				return nil, err
			}
			mod, err := d.pop(off)
			if err != nil {
				return nil, err
			}
			ms, ok1 := mod.(string)
			ns, ok2 := name.(string)
			if !ok1 || !ok2 {
				return nil, d.errf(off, "STACK_GLOBAL operands are %s and %s, want strings", typeName(mod), typeName(name))
			}
			d.push(Global{Module: ms, Name: ns})
		case 'R': // REDUCE
			args, err := d.pop(off)
			if err != nil {
				return nil, err
			}
			fn, err := d.pop(off)
			if err != nil {
				return nil, err
			}
			t, ok := args.(Tuple)
			if !ok {
				return nil, d.errf(off, "REDUCE arguments are a %s, want a tuple", typeName(args))
			}
			v, err := d.reduce(off, fn, t)
			if err != nil {
				return nil, err
			}
			d.push(v)
		case 0x81: // NEWOBJ
			args, err := d.pop(off)
			if err != nil {
				return nil, err
			}
			cls, err := d.pop(off)
			if err != nil {
				return nil, err
			}
			t, ok := args.(Tuple)
			if !ok {
				return nil, d.errf(off, "NEWOBJ arguments are a %s, want a tuple", typeName(args))
			}
			d.push(&Object{Callable: cls, Args: t})
		case 0x92: // NEWOBJ_EX
			kw, err := d.pop(off)
			if err != nil {
				return nil, err
			}
			args, err := d.pop(off)
			if err != nil {
				return nil, err
			}
			cls, err := d.pop(off)
			if err != nil {
				return nil, err
			}
			t, ok := args.(Tuple)
			if !ok {
				return nil, d.errf(off, "NEWOBJ_EX arguments are a %s, want a tuple", typeName(args))
			}
			kd, ok := kw.(*Dict)
			if !ok {
				return nil, d.errf(off, "NEWOBJ_EX keyword arguments are a %s, want a dict", typeName(kw))
			}
			d.push(&Object{Callable: cls, Args: t, Kwargs: kd})
		case 'b': // BUILD
			state, err := d.pop(off)
			if err != nil {
				return nil, err
			}
			t, err := d.top(off)
			if err != nil {
				return nil, err
			}
			o, ok := t.(*Object)
			if !ok {
				return nil, d.errf(off, "BUILD on a %s, want an object", typeName(t))
			}
			o.State = state
		case 'q': // BINPUT
			idx, err := d.u8(off)
			if err != nil {
				return nil, err
			}
			if err := d.memoPut(off, idx); err != nil {
				return nil, err
			}
		case 'r': // LONG_BINPUT
			idx, err := d.u32(off)
			if err != nil {
				return nil, err
			}
			if err := d.memoPut(off, idx); err != nil {
				return nil, err
			}
		case 0x94: // MEMOIZE
			if err := d.memoPut(off, len(d.memo)); err != nil {
				return nil, err
			}
		case 'h': // BINGET
			idx, err := d.u8(off)
			if err != nil {
				return nil, err
			}
			if err := d.memoGet(off, idx); err != nil {
				return nil, err
			}
		case 'j': // LONG_BINGET
			idx, err := d.u32(off)
			if err != nil {
				return nil, err
			}
			if err := d.memoGet(off, idx); err != nil {
				return nil, err
			}
		default:
			return nil, d.errf(off, "unsupported opcode 0x%02x (%s)", op, opName(op))
		}
	}
}

func (d *decoder) appendTo(off int, items []Value) error {
	t, err := d.top(off)
	if err != nil {
		return err
	}
	switch c := t.(type) {
	case *List:
		c.Items = append(c.Items, items...)
	case *Object:
		c.Appends = append(c.Appends, items...)
	default:
		return d.errf(off, "APPEND to a %s, want a list", typeName(t))
	}
	return nil
}

func (d *decoder) setItemsOnTop(off int, items []Value) error {
	t, err := d.top(off)
	if err != nil {
		return err
	}
	switch c := t.(type) {
	case *Dict:
		return d.setItems(off, c, items)
	case *Object: // e.g. collections.defaultdict restored by REDUCE then SETITEMS
		return d.setItems(off, &c.Items, items)
	default:
		return d.errf(off, "SETITEM on a %s, want a dict", typeName(t))
	}
}

func (d *decoder) setItems(off int, dict *Dict, items []Value) error {
	if len(items)%2 != 0 {
		return d.errf(off, "odd number of dict items (%d)", len(items))
	}
	for i := 0; i < len(items); i += 2 {
		k := items[i]
		switch k.(type) {
		case nil, bool, int64, float64, string, Tuple, Global, Bytes, *big.Int:
		default:
			return d.errf(off, "unhashable dict key of type %s", typeName(k))
		}
		if ks, ok := k.(string); ok {
			if j, ok := dict.index[ks]; ok {
				dict.Values[j] = items[i+1]
				continue
			}
			if dict.index == nil {
				dict.index = map[string]int{}
			}
			dict.index[ks] = len(dict.Keys)
		}
		dict.Keys = append(dict.Keys, k)
		dict.Values = append(dict.Values, items[i+1])
	}
	return nil
}

// reduce applies fn to args. The byte-string constructors are evaluated;
// every other call is recorded as an Object.
func (d *decoder) reduce(off int, fn Value, args Tuple) (Value, error) {
	g, ok := fn.(Global)
	if !ok {
		return &Object{Callable: fn, Args: args}, nil
	}
	switch g.String() {
	case "builtins.bytearray", "__builtin__.bytearray", "builtins.bytes", "__builtin__.bytes":
		switch len(args) {
		case 0:
			return Bytes{}, nil
		case 1:
			if b, ok := args[0].(Bytes); ok {
				return b, nil
			}
		case 2:
			s, ok1 := args[0].(string)
			enc, ok2 := args[1].(string)
			if ok1 && ok2 && isLatin1(enc) {
				return latin1(s), nil
			}
		}
		return nil, d.errf(off, "%s called with unsupported arguments", g)
	case "_codecs.encode":
		if len(args) == 2 {
			s, ok1 := args[0].(string)
			enc, ok2 := args[1].(string)
			if ok1 && ok2 && isLatin1(enc) {
				return latin1(s), nil
			}
		}
		return nil, d.errf(off, "_codecs.encode called with unsupported arguments")
	}
	return &Object{Callable: g, Args: args}, nil
}

func isLatin1(enc string) bool {
	switch enc {
	case "latin1", "latin-1", "latin_1", "iso-8859-1", "iso8859-1":
		return true
	}
	return false
}

// latin1 encodes s (whose code points are all below 256 in a Python 2/3
// bytes pickle) to bytes; larger code points are truncated to their low byte.
func latin1(s string) Bytes {
	b := make(Bytes, 0, len(s))
	for _, r := range s {
		b = append(b, byte(r))
	}
	return b
}

// decodeLong decodes a little-endian two's-complement integer.
func decodeLong(b []byte) Value {
	if len(b) == 0 {
		return int64(0)
	}
	if len(b) <= 8 {
		var u uint64
		for i := len(b) - 1; i >= 0; i-- {
			u = u<<8 | uint64(b[i])
		}
		shift := uint(64 - 8*len(b))
		return int64(u<<shift) >> shift
	}
	be := make([]byte, len(b))
	for i := range b {
		be[len(b)-1-i] = b[i]
	}
	n := new(big.Int).SetBytes(be)
	if b[len(b)-1]&0x80 != 0 {
		n.Sub(n, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	return n
}

func typeName(v Value) string {
	switch v.(type) {
	case nil:
		return "None"
	case bool:
		return "bool"
	case int64, *big.Int:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case Bytes:
		return "bytes"
	case *List:
		return "list"
	case Tuple:
		return "tuple"
	case *Dict:
		return "dict"
	case *Set:
		return "set"
	case Global:
		return "global"
	case *Object:
		return "object"
	case mark:
		return "mark"
	}
	return fmt.Sprintf("%T", v)
}

func opName(op int) string {
	switch op {
	case 'P', 'Q':
		return "persistent id"
	case 'i':
		return "INST"
	case 'o':
		return "OBJ"
	case 0x82, 0x83, 0x84:
		return "EXT"
	case 0x97, 0x98:
		return "out-of-band buffer"
	case 'I', 'L', 'F', 'S', 'V', 'p', 'g':
		return "text protocol 0 opcode"
	}
	return "unknown"
}

// ErrNotFound is returned by Field when the key is absent.
var ErrNotFound = errors.New("pickle: field not found")

// StateField returns the value stored under key in the state dict of the
// object o (the dict given by BUILD, or the first element of a (dict, slots)
// state tuple).
func StateField(o *Object, key string) (Value, error) {
	state := o.State
	if t, ok := state.(Tuple); ok && len(t) == 2 {
		state = t[0]
	}
	dict, ok := state.(*Dict)
	if !ok {
		return nil, fmt.Errorf("pickle: object state is a %s, want a dict", typeName(state))
	}
	v, ok := dict.Get(key)
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrNotFound, key)
	}
	return v, nil
}

// TypeName returns the Python type name of a decoded value, for messages.
func TypeName(v Value) string { return typeName(v) }
