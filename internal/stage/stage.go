// Package stage is the contract every stage (stages/*) keeps with the
// person or scheduler running it, written once:
//
//   - flags are parsed with kong; a grammar struct (or an embedded one, such
//     as device.Flags) may have a Validate() error method, which kong calls
//     while parsing, so that a bad value is refused before the command runs
//     and before anything is written. A refused flag's message names it:
//     "--weight-decay: must be >= 0, got -1" (see FlagError).
//   - the command runs under a context that SIGINT and SIGTERM cancel;
//   - exit status 0 done, 1 failure at run time, 2 bad input (a flag, a
//     file or a folder the command was given; the stage has written
//     nothing), stated in every --help (see ExitStatusHelp);
//   - one log format for all stages (NewLogHandler): logfmt lines with the
//     time in UTC to the second and floats rounded to 4 significant digits.
package stage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
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

// ExitStatusHelp ends every stage's --help description.
const ExitStatusHelp = "Exit status: 0 done; 1 failure at run time (rerun to resume);\n2 bad input (a flag, file or folder, named in the message; nothing was written)."

// Stage describes a stage's command line.
type Stage struct {
	// Name prefixes every message, as in "convert-cifar: <error>".
	Name string
	// Description is the --help summary; every --help ends with
	// ExitStatusHelp.
	Description string
	// Grammar is the kong command-line struct; its commands' Run methods
	// may take a context.Context.
	Grammar any
	// Options are further kong options (variables).
	Options []kong.Option
	// BadInput reports whether a command's error is bad input (status 2)
	// besides the errors IsBadInput recognises; nil: no others.
	BadInput func(error) bool
	// Interrupted, when not empty, is printed after an error caused by the
	// cancellation of the context (SIGINT or SIGTERM), e.g. how to resume.
	Interrupted string
}

// Main runs the stage on os.Args[1:] with the shared log handler on stderr
// as slog's default, and exits with its status.
func (s Stage) Main() {
	slog.SetDefault(slog.New(NewLogHandler(os.Stderr)))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	status := s.Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(status)
}

// Run parses args, runs the selected command with ctx bound as its
// context.Context and returns the exit status; --help goes to stdout,
// messages to stderr.
func (s Stage) Run(ctx context.Context, args []string, stdout, stderr io.Writer) (status int) {
	// kong exits after --help through this hook; turn it into a return.
	type exit struct{ code int }
	defer func() {
		if r := recover(); r != nil {
			e, ok := r.(exit)
			if !ok {
				panic(r)
			}
			status = e.code
		}
	}()
	opts := []kong.Option{kong.Name(s.Name), kong.Writers(stdout, stderr),
		kong.Description(s.Description), kong.Help(helpWithStatus),
		kong.Exit(func(code int) { panic(exit{code}) }),
		kong.BindTo(ctx, (*context.Context)(nil))}
	parser, err := kong.New(s.Grammar, append(opts, s.Options...)...)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", s.Name, err)
		return StatusFailure
	}
	kctx, err := parser.Parse(args)
	if err != nil {
		// A Validate method's FlagError is shown alone, without kong's
		// command-path prefix.
		var fe *FlagError
		if errors.As(err, &fe) {
			err = fe
		}
		fmt.Fprintf(stderr, "%s: error: %v\n", s.Name, err)
		return StatusBadInput
	}
	if err := kctx.Run(); err != nil {
		fmt.Fprintf(stderr, "%s: error: %v\n", s.Name, err)
		if IsBadInput(err) || (s.BadInput != nil && s.BadInput(err)) {
			return StatusBadInput
		}
		if s.Interrupted != "" && errors.Is(err, context.Canceled) {
			fmt.Fprintf(stderr, "%s: %s\n", s.Name, s.Interrupted)
		}
		return StatusFailure
	}
	return StatusOK
}

// helpWithStatus is kong's help followed by the exit statuses, for the
// stage and each of its commands.
func helpWithStatus(options kong.HelpOptions, ctx *kong.Context) error {
	if err := kong.DefaultHelpPrinter(options, ctx); err != nil {
		return err
	}
	_, err := fmt.Fprintln(ctx.Stdout, "\n"+ExitStatusHelp)
	return err
}

// FlagError is a flag value refused: its message is "FLAG: PROBLEM".
// It is bad input.
type FlagError struct {
	Flag    string // e.g. "--weight-decay"
	Problem string // e.g. "must be >= 0, got -1"
}

func (e *FlagError) Error() string { return e.Flag + ": " + e.Problem }

// FlagErrorf returns a FlagError for flag with a formatted problem.
func FlagErrorf(flag, format string, args ...any) error {
	return &FlagError{Flag: flag, Problem: fmt.Sprintf(format, args...)}
}

// badInput marks an error as bad input.
type badInput struct{ err error }

func (e badInput) Error() string { return e.err.Error() }
func (e badInput) Unwrap() error { return e.err }

// BadInput marks err (which should name the flag, file or folder) as bad
// input: exit status 2. nil stays nil.
func BadInput(err error) error {
	if err == nil {
		return nil
	}
	return badInput{err}
}

// IsBadInput reports whether err is, or wraps, a FlagError or an error
// marked by BadInput.
func IsBadInput(err error) bool {
	var fe *FlagError
	var bi badInput
	return errors.As(err, &fe) || errors.As(err, &bi)
}

// SetIfGiven sets *dst to *flag when the optional flag was given (is not
// nil), for flags that override a preset's value.
func SetIfGiven[T any](dst, flag *T) {
	if flag != nil {
		*dst = *flag
	}
}
