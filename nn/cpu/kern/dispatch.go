package kern

import "os"

// useAsm reports whether the assembly kernels run. It is fixed at start-up
// (hasAsm && the CPU supports them && PERTNAS_PUREGO is unset); tests flip it
// to compare both paths.
var useAsm = hasAsm && os.Getenv("PERTNAS_PUREGO") == ""

// Accelerated reports whether the assembly kernels are in use.
func Accelerated() bool { return useAsm }
