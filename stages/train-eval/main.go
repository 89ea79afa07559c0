// Command train-eval is a pertnas pipeline stage (see README.md). Not built yet.
package main

import (
	"fmt"
	"os"

	"github.com/alecthomas/kong"
)

type cli struct{}

func main() {
	kong.Parse(&cli{}, kong.Name("train-eval"), kong.Description("pertnas stage train-eval (not built yet)"))
	fmt.Fprintln(os.Stderr, "train-eval: this stage is not built yet")
	os.Exit(1)
}
