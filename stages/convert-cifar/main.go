// Command convert-cifar is a pertnas pipeline stage (see README.md). Not built yet.
package main

import (
	"fmt"
	"os"

	"github.com/alecthomas/kong"
)

type cli struct{}

func main() {
	kong.Parse(&cli{}, kong.Name("convert-cifar"), kong.Description("pertnas stage convert-cifar (not built yet)"))
	fmt.Fprintln(os.Stderr, "convert-cifar: this stage is not built yet")
	os.Exit(1)
}
