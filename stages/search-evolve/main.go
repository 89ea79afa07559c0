// Command search-evolve is a pertnas pipeline stage (see README.md). Not built yet.
package main

import (
	"fmt"
	"os"

	"github.com/alecthomas/kong"
)

type cli struct{}

func main() {
	kong.Parse(&cli{}, kong.Name("search-evolve"), kong.Description("pertnas stage search-evolve (not built yet)"))
	fmt.Fprintln(os.Stderr, "search-evolve: this stage is not built yet")
	os.Exit(1)
}
