package convert

import (
	"os"
	"sync"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"pertnas/internal/stage"
)

// TerminalProgress returns a ProgressFunc drawing one bar per task on f, and
// a function to call when the work is over, which completes the bars and
// waits for the last frame. When f is not a terminal wide enough for bars
// (a log file, a pipe), the ProgressFunc logs progress lines instead: per
// task at most one every 10 s, with the count done, the rate and the ETA.
func TerminalProgress(f *os.File) (ProgressFunc, func()) {
	if !stage.UseBars(f) {
		bytes := &stage.ProgressLines{Every: 10 * time.Second, Unit: "bytes"}
		images := &stage.ProgressLines{Every: 10 * time.Second, Unit: "images"}
		return func(task string, done, total int64) {
			if task == "read" || task == "download" {
				bytes.Report(task, int(done), int(total))
			} else {
				images.Report(task, int(done), int(total))
			}
		}, func() {}
	}
	p := mpb.New(mpb.WithOutput(f), mpb.WithWidth(48))
	var mu sync.Mutex
	bars := map[string]*mpb.Bar{}
	var order []string
	report := func(task string, done, total int64) {
		mu.Lock()
		defer mu.Unlock()
		bar, ok := bars[task]
		if !ok {
			counter := decor.CountersNoUnit("%d / %d", decor.WCSyncWidth)
			if task == "read" || task == "download" {
				counter = decor.Counters(decor.SizeB1024(0), "% .1f / % .1f", decor.WCSyncWidth)
			}
			bar = p.AddBar(max(total, 0),
				mpb.PrependDecorators(decor.Name(task, decor.WCSyncSpaceR), counter),
				mpb.AppendDecorators(decor.Percentage(decor.WCSyncSpace)))
			bars[task] = bar
			order = append(order, task)
		}
		if total > 0 {
			bar.SetTotal(total, false)
		}
		bar.SetCurrent(done)
	}
	finish := func() {
		mu.Lock()
		for _, task := range order {
			bars[task].SetTotal(-1, true)
		}
		mu.Unlock()
		p.Wait()
	}
	return report, finish
}
