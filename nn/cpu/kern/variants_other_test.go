//go:build !amd64 || purego

package kern

var asmVariants []struct {
	name string
	set  func() (restore func())
}
