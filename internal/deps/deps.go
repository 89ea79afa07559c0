//go:build tools

// Package deps pins the project's third-party modules while the packages that
// use them are being written (removed once every one is imported for real).
package deps

import (
	_ "github.com/alecthomas/kong"
	_ "github.com/apache/arrow-go/v18/arrow/ipc"
	_ "github.com/ebitengine/purego"
	_ "github.com/goccy/go-graphviz"
	_ "github.com/klauspost/compress/gzip"
	_ "github.com/vbauerster/mpb/v8"
	_ "golang.org/x/sys/unix"
	_ "golang.org/x/term"
	_ "gonum.org/v1/plot"
)
