package stage

import (
	"log/slog"
	"os"
	"sync"
	"time"

	"golang.org/x/term"
)

// minBarColumns is the narrowest terminal the progress bars are drawn on;
// on a narrower one (a 0-column pty, say) the stages log lines instead.
const minBarColumns = 20

// UseBars reports whether f is a terminal wide enough for progress bars.
// Elsewhere (a file, a pipe, a SLURM log) stages log ProgressLines.
func UseBars(f *os.File) bool {
	if !term.IsTerminal(int(f.Fd())) {
		return false
	}
	w, _, err := term.GetSize(int(f.Fd()))
	return err == nil && w >= minBarColumns
}

// ProgressLines logs the progress of jobs for a reader of a log file: one
// line "progress job=J done=D total=T rate=R/min eta=E" per completed unit
// of work, at most one per job every Every, plus the first and the last
// unit, so that a long run shows it is alive and when it will end. Safe for
// concurrent use.
type ProgressLines struct {
	Log   *slog.Logger  // nil: slog.Default()
	Every time.Duration // at most one line per job per Every (0: every unit)
	// Unit names what is counted, e.g. "units" or "epochs".
	Unit string

	mu   sync.Mutex
	jobs map[string]*jobProgress
	now  func() time.Time // for tests
}

// minRateSpan is the least time a rate and an ETA are computed over.
const minRateSpan = time.Second

type jobProgress struct {
	start     time.Time
	startDone int
	done      int
	last      time.Time
}

// Report records that job has done of total units; extra key-value pairs
// (the phase, say) go on the line. Calls that do not advance done log
// nothing.
func (p *ProgressLines) Report(job string, done, total int, extra ...any) {
	p.mu.Lock()
	now := time.Now
	if p.now != nil {
		now = p.now
	}
	t := now()
	if p.jobs == nil {
		p.jobs = map[string]*jobProgress{}
	}
	j, ok := p.jobs[job]
	if !ok {
		// The first report sets the baseline (a resumed job starts with
		// units already done, which say nothing of the rate).
		p.jobs[job] = &jobProgress{start: t, startDone: done, done: done}
		p.mu.Unlock()
		return
	}
	if done <= j.done {
		p.mu.Unlock()
		return
	}
	first := j.done == j.startDone
	j.done = done
	if !first && done < total && t.Sub(j.last) < p.Every {
		p.mu.Unlock()
		return
	}
	j.last = t
	// Under a second of work says nothing of the rate (a resumed job's
	// first unit may finish at once): "?" until there is more to go on.
	var rate any = "?"
	eta := "?"
	if elapsed := t.Sub(j.start); elapsed >= minRateSpan {
		r := float64(done-j.startDone) / elapsed.Minutes()
		rate = r
		if r > 0 {
			eta = (time.Duration(float64(total-done) / r * float64(time.Minute))).Round(time.Second).String()
		}
	}
	p.mu.Unlock()
	log := p.Log
	if log == nil {
		log = slog.Default()
	}
	unit := p.Unit
	if unit == "" {
		unit = "units"
	}
	args := append([]any{"job", job, "done", done, "total", total, "unit", unit, "rate_per_min", rate, "eta", eta}, extra...)
	log.Info("progress", args...)
}
