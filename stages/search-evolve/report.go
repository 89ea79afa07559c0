package main

import (
	"errors"
	"fmt"

	"pertnas/internal/stage"
	"pertnas/report"
)

// reportCmd writes RUN/report.html, the page a person reads after a search.
type reportCmd struct {
	Dir string `arg:"" name:"run" help:"Run folder of a finished search." placeholder:"RUN"`
}

func (c *reportCmd) Run() error {
	path, err := report.Write(c.Dir)
	if err != nil {
		var ie *report.InputError
		if errors.As(err, &ie) {
			return stage.BadInput(err)
		}
		return err
	}
	fmt.Println(path)
	return nil
}
