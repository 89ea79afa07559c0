// Package stage is the command-line entry point the stages share: it parses
// the flags with kong, runs the chosen command under a context that SIGINT
// and SIGTERM cancel, and maps the outcome to the stages' exit statuses:
// 0 done, 2 bad input (flags the parser rejects, or an error the stage
// classes as bad input), 1 any other failure.
package stage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/alecthomas/kong"
)

// Exit statuses of every stage.
const (
	StatusOK       = 0
	StatusFailure  = 1
	StatusBadInput = 2
)

// Stage describes a stage's command line.
type Stage struct {
	// Name prefixes every message, as in "convert-cifar: <error>".
	Name string
	// Grammar is the kong command-line struct; its commands' Run methods
	// may take a context.Context.
	Grammar any
	// Options are further kong options (description, variables).
	Options []kong.Option
	// BadInput reports whether a command's error is bad input (status 2);
	// nil treats every error as a run-time failure (status 1).
	BadInput func(error) bool
	// Interrupted, when not empty, is printed after an error caused by the
	// cancellation of the context (SIGINT or SIGTERM), e.g. how to resume.
	Interrupted string
}

// Main runs the stage on os.Args[1:] and exits with its status.
func (s Stage) Main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	status := s.Run(ctx, os.Args[1:], os.Stderr)
	stop()
	os.Exit(status)
}

// Parse parses os.Args[1:] into the grammar, for a stage that runs its
// command itself; on flags the parser rejects it prints
// "name: error: <problem>" and exits with StatusBadInput.
func (s Stage) Parse() *kong.Context {
	parser, err := s.parser(context.Background(), os.Stderr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", s.Name, err)
		os.Exit(StatusFailure)
	}
	kctx, err := parser.Parse(os.Args[1:])
	if err != nil {
		parser.Errorf("%v", err)
		os.Exit(StatusBadInput)
	}
	return kctx
}

// Run parses args, runs the selected command with ctx bound as its
// context.Context and returns the exit status; messages go to stderr.
func (s Stage) Run(ctx context.Context, args []string, stderr io.Writer) int {
	parser, err := s.parser(ctx, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", s.Name, err)
		return StatusFailure
	}
	kctx, err := parser.Parse(args)
	if err != nil {
		parser.Errorf("%v", err)
		return StatusBadInput
	}
	if err := kctx.Run(); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", s.Name, err)
		if s.BadInput != nil && s.BadInput(err) {
			return StatusBadInput
		}
		if s.Interrupted != "" && errors.Is(err, context.Canceled) {
			fmt.Fprintf(stderr, "%s: %s\n", s.Name, s.Interrupted)
		}
		return StatusFailure
	}
	return StatusOK
}

// parser builds the kong parser, binding ctx as the commands'
// context.Context.
func (s Stage) parser(ctx context.Context, stderr io.Writer) (*kong.Kong, error) {
	opts := []kong.Option{kong.Name(s.Name), kong.Writers(os.Stdout, stderr),
		kong.BindTo(ctx, (*context.Context)(nil))}
	return kong.New(s.Grammar, append(opts, s.Options...)...)
}

// SetIfGiven sets *dst to *flag when the optional flag was given (is not
// nil), for flags that override a preset's value.
func SetIfGiven[T any](dst, flag *T) {
	if flag != nil {
		*dst = *flag
	}
}
