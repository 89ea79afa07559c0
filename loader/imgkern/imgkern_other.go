//go:build !amd64 || purego

package imgkern

const hasAVX2, hasAVX512 = false, false

func tapsAVX2(dst, src *byte, n, stride int, k *int32, nk int)   { panic("imgkern: no AVX2 here") }
func tapsAVX512(dst, src *byte, n, stride int, k *int32, nk int) { panic("imgkern: no AVX-512 here") }

func horizAVX512(dst, src *byte, n int, off *int32, w *int32, chunks int) {
	panic("imgkern: no AVX-512 here")
}

const hasVBMI = false

func saturateAVX512(pix *byte, n int, a float32) { panic("imgkern: no AVX-512 here") }
func lumaSumAVX512(pix *byte, n int) uint64      { panic("imgkern: no AVX-512 here") }

func shiftHueAVX512(pix *byte, n int, t *HueTables, sh *HueShift, shifts *[3][16]uint32) {
	panic("imgkern: no AVX-512 here")
}

func mapBytesAVX512(pix *byte, n int, table *[256]byte) { panic("imgkern: no AVX-512 here") }

func horizAVX2(dst, src *byte, n int, off *int32, w *int32, chunks int) {
	panic("imgkern: no AVX2 here")
}

func saturateAVX2(pix *byte, n int, a float32) { panic("imgkern: no AVX2 here") }
func lumaSumAVX2(pix *byte, n int) uint64      { panic("imgkern: no AVX2 here") }

func shiftHueAVX2(pix *byte, n int, t *HueTables, sh *HueShift, shifts *[3][16]uint32) {
	panic("imgkern: no AVX2 here")
}

func blendAVX2(pix *byte, n int, in1, alpha float32) { panic("imgkern: no AVX2 here") }
