// Command export-nb301 is a pertnas pipeline stage (see README.md). Not built yet.
package main

import (
	"fmt"
	"os"

	"github.com/alecthomas/kong"
)

type cli struct{}

func main() {
	kong.Parse(&cli{}, kong.Name("export-nb301"), kong.Description("pertnas stage export-nb301 (not built yet)"))
	fmt.Fprintln(os.Stderr, "export-nb301: this stage is not built yet")
	os.Exit(1)
}
