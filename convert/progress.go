package convert

import (
	"os"
	"sync"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/term"
)

// TerminalProgress returns a ProgressFunc drawing one bar per task on f, and
// a function to call when the work is over, which completes the bars and
// waits for the last frame. When f is not a terminal both do nothing.
func TerminalProgress(f *os.File) (ProgressFunc, func()) {
	if !term.IsTerminal(int(f.Fd())) {
		return func(string, int64, int64) {}, func() {}
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
