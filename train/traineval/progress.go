package traineval

import (
	"fmt"
	"io"
	"os"
	"sync/atomic"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"pertnas/internal/stage"
)

// progress draws one mpb bar per epoch on a terminal wide enough; on
// anything else (a file, a pipe, a 0-column pty, nil) it does nothing: the
// log's epoch lines (with an ETA) show the progress there.
type progress struct {
	p      *mpb.Progress
	bar    *mpb.Bar
	epochs int
	loss   atomic.Value // string
}

func newProgress(w io.Writer, epochs int) *progress {
	f, ok := w.(*os.File)
	if !ok || !stage.UseBars(f) {
		return &progress{}
	}
	return &progress{p: mpb.New(mpb.WithOutput(w), mpb.WithWidth(40)), epochs: epochs}
}

func (p *progress) epochStart(epoch, batches int) {
	if p.p == nil {
		return
	}
	p.loss.Store("")
	p.bar = p.p.AddBar(int64(batches),
		mpb.PrependDecorators(decor.Name(fmt.Sprintf("epoch %d/%d ", epoch+1, p.epochs)), decor.CountersNoUnit("%d/%d")),
		mpb.AppendDecorators(decor.Any(func(decor.Statistics) string { s, _ := p.loss.Load().(string); return s }),
			decor.Name(" "), decor.AverageETA(decor.ET_STYLE_GO)),
		mpb.BarRemoveOnComplete())
}

func (p *progress) batch(_, _, _ int, loss float64) {
	if p.bar == nil {
		return
	}
	p.loss.Store(fmt.Sprintf("loss %.4f", loss))
	p.bar.Increment()
}

// epochDone ends the current bar (also when the epoch stopped early).
func (p *progress) epochDone() {
	if p.bar != nil {
		p.bar.Abort(true)
		p.bar.Wait()
		p.bar = nil
	}
}

func (p *progress) close() {
	p.epochDone()
	if p.p != nil {
		p.p.Wait()
		p.p = nil
	}
}
