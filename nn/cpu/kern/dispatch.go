package kern

import "os"

// useAsm and useAVX512 select the kernel path (Path, Current, Use): PureGo
// when useAsm is false, AVX2 when only useAsm is true, AVX512 when both
// are. Every kernel reads them on each call and decides by them alone, so
// one path runs one fixed set of kernels whatever else the CPU has. They
// start at Default (the best path, or PureGo when PERTNAS_PUREGO is set);
// Use and the tests change them.
var useAsm = hasAsm && os.Getenv("PERTNAS_PUREGO") == ""

// Accelerated reports whether the assembly kernels are in use (a path other
// than PureGo).
func Accelerated() bool { return useAsm }
