package stage

import (
	"context"
	"errors"
	"strings"
	"testing"
)

var errBad = errors.New("bad file")

type failCmd struct {
	With string `help:"bad, fail or cancel." enum:"bad,fail,cancel,none" default:"none"`
}

func (c *failCmd) Run(ctx context.Context) error {
	switch c.With {
	case "bad":
		return errBad
	case "fail":
		return errors.New("disk full")
	case "cancel":
		return ctx.Err()
	}
	return nil
}

type grammar struct {
	Do failCmd `cmd:"" default:"withargs"`
}

func TestRunStatuses(t *testing.T) {
	s := Stage{Name: "demo", Grammar: &grammar{}, BadInput: func(err error) bool { return errors.Is(err, errBad) },
		Interrupted: "rerun to resume"}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, c := range []struct {
		ctx    context.Context
		args   []string
		status int
		stderr []string
		not    string
	}{
		{context.Background(), nil, StatusOK, nil, "demo"},
		{context.Background(), []string{"--with", "bad"}, StatusBadInput, []string{"demo: bad file\n"}, "rerun"},
		{context.Background(), []string{"--with", "fail"}, StatusFailure, []string{"demo: disk full\n"}, "rerun"},
		{context.Background(), []string{"--bogus"}, StatusBadInput, []string{"demo: error: ", "--bogus"}, "rerun"},
		{context.Background(), []string{"--with", "png"}, StatusBadInput, []string{"demo: error: ", "png"}, "rerun"},
		{cancelled, []string{"--with", "cancel"}, StatusFailure, []string{"demo: context canceled\n", "demo: rerun to resume\n"}, "error:"},
	} {
		var stderr strings.Builder
		status := s.Run(c.ctx, c.args, &stderr)
		got := stderr.String()
		ok := status == c.status && (c.not == "" || !strings.Contains(got, c.not))
		for _, w := range c.stderr {
			ok = ok && strings.Contains(got, w)
		}
		if !ok {
			t.Errorf("demo %v: status %d, stderr %q; want %d, %q and no %q", c.args, status, got, c.status, c.stderr, c.not)
		}
	}
}

func TestNilBadInputIsFailure(t *testing.T) {
	var stderr strings.Builder
	s := Stage{Name: "demo", Grammar: &grammar{}}
	if status := s.Run(context.Background(), []string{"--with", "bad"}, &stderr); status != StatusFailure {
		t.Fatalf("status %d, want %d without a BadInput classifier", status, StatusFailure)
	}
}

func TestSetIfGiven(t *testing.T) {
	n, s := 4, "train"
	seven, test := 7, "test"
	SetIfGiven(&n, nil)
	SetIfGiven(&s, &test)
	if n != 4 || s != "test" {
		t.Fatalf("after nil and given flags: %d %q, want 4 \"test\"", n, s)
	}
	SetIfGiven(&n, &seven)
	if n != 7 {
		t.Fatalf("given 7: %d", n)
	}
}
