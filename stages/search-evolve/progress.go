package main

import (
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"pertnas/internal/stage"
	"pertnas/pertnas"
)

// display shows one bar per job (units of work done, the phase and edge in
// work, ETA) and a last line with the phase of the whole search, when
// stderr is a terminal wide enough. Elsewhere (a batch log, a 0-column
// pty) it logs a progress line per completed unit of work, at most one per
// job every progressEvery, with the units done, the rate and the ETA.
type display struct {
	mu    sync.Mutex
	p     *mpb.Progress
	lines *stage.ProgressLines
	bars  map[string]*jobBar
	order []string
	total *mpb.Bar
	phase map[string]string // job -> phase, for logging
}

// progressEvery is the least time between two progress lines of a job in
// a log.
const progressEvery = 10 * time.Second

type jobBar struct {
	bar        *mpb.Bar
	last       time.Time
	done       int
	phase      string
	edge       int
	step, stps int
	finished   bool
}

func newDisplay(cfg pertnas.Config, jobs []string) *display {
	d := &display{bars: map[string]*jobBar{}, order: jobs, phase: map[string]string{}}
	if !stage.UseBars(os.Stderr) {
		d.lines = &stage.ProgressLines{Every: progressEvery, Unit: "units"}
		return d
	}
	d.p = mpb.New(mpb.WithOutput(os.Stderr), mpb.WithWidth(30), mpb.WithRefreshRate(200*time.Millisecond))
	for _, j := range jobs {
		jb := &jobBar{edge: -1, last: time.Now()}
		total := pertnas.MemberUnits(cfg)
		if j == "select" {
			total = pertnas.SelectUnits(cfg)
		}
		jb.bar = d.p.AddBar(int64(total),
			mpb.PrependDecorators(decor.Name(j, decor.WCSyncSpaceR), decor.Any(func(decor.Statistics) string {
				d.mu.Lock()
				defer d.mu.Unlock()
				s := jb.phase
				if jb.edge >= 0 {
					s += fmt.Sprintf(" edge %d", jb.edge)
				}
				if jb.stps > 0 {
					s += fmt.Sprintf(" step %d/%d", jb.step, jb.stps)
				}
				return s
			}, decor.WCSyncSpaceR)),
			mpb.AppendDecorators(decor.CountersNoUnit("%d/%d units", decor.WCSyncSpace), decor.Name(" ETA "), decor.EwmaETA(decor.ET_STYLE_GO, 20)))
		d.bars[j] = jb
	}
	d.total = d.p.New(1, mpb.NopStyle(),
		mpb.PrependDecorators(decor.Any(func(decor.Statistics) string {
			d.mu.Lock()
			defer d.mu.Unlock()
			for _, j := range d.order {
				if ph := d.phase[j]; ph != "" && !d.bars[j].finished {
					return fmt.Sprintf("search: %s running (%s)", j, ph)
				}
			}
			return "search: waiting"
		})))
	return d
}

// report is the Progress callback; safe for concurrent use.
func (d *display) report(p pertnas.Progress) {
	d.mu.Lock()
	changed := d.phase[p.Job] != p.Phase
	d.phase[p.Job] = p.Phase
	jb := d.bars[p.Job]
	d.mu.Unlock()
	if d.p == nil {
		if changed {
			slog.Info("phase", "job", p.Job, "phase", p.Phase)
		}
		d.lines.Report(p.Job, p.Done, p.Total, "phase", p.Phase)
		return
	}
	if jb == nil {
		return
	}
	d.mu.Lock()
	jb.phase, jb.edge, jb.step, jb.stps = p.Phase, p.Edge, p.Step, p.Steps
	advanced := p.Done != jb.done
	jb.done = p.Done
	now := time.Now()
	dur := now.Sub(jb.last)
	if advanced {
		jb.last = now
	}
	finished := p.Done >= p.Total && p.Steps == 0
	jb.finished = finished
	d.mu.Unlock()
	if advanced {
		jb.bar.EwmaSetCurrent(int64(p.Done), dur)
	}
	if finished {
		jb.bar.SetTotal(int64(p.Total), true)
	}
}

// close ends the display; ok says whether the jobs completed.
func (d *display) close(ok bool) {
	if d.p == nil {
		return
	}
	for _, j := range d.order {
		if b := d.bars[j].bar; !b.Completed() {
			b.Abort(false)
		}
	}
	d.total.Abort(true)
	d.p.Wait()
}
