package kern

import "sync"

// f32Pool recycles float32 scratch slices between calls.
var f32Pool = sync.Pool{New: func() any { return new([]float32) }}

// getF32 returns a pooled slice of length n with unspecified contents.
func getF32(n int) *[]float32 {
	p := f32Pool.Get().(*[]float32)
	if cap(*p) < n {
		*p = make([]float32, n+n/4)
	}
	*p = (*p)[:n]
	return p
}

func putF32(p *[]float32) { f32Pool.Put(p) }

func roundUp8(n int) int { return (n + 7) &^ 7 }
