//go:build !amd64 || purego

package kern

// dwGradFast reports false: no register-shift filter gradient in this
// build, the flat path serves every geometry.
func dwGradFast(h, w, k, s, pad, dil, np int, in []float32, inStride int, dout []float32, doutStride int, dwt []float32) bool {
	return false
}

// dwGradCovers reports false: dwGradFast takes no geometry in this build.
func dwGradCovers(h, w, k, s, pad, dil int) bool { return false }
