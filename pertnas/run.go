package pertnas

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Run runs the whole search in one process: every member, up to parallel
// of them side by side (worker w of them builds with BuildRequest.Worker
// w), then the selection. Members already complete are read back; a failed
// member stops the others from starting and Run returns every failure.
func Run(ctx context.Context, opts Options, parallel int) (*Result, error) {
	if err := ClaimRun(opts.Dir, opts.Config); err != nil {
		return nil, err
	}
	parallel = max(1, min(parallel, opts.Config.Npop))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan int)
	go func() {
		defer close(next)
		for m := 0; m < opts.Config.Npop; m++ {
			select {
			case next <- m:
			case <-ctx.Done():
				return
			}
		}
	}()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for w := 0; w < parallel; w++ {
		wg.Add(1)
		go func(worker int) {
			defer wg.Done()
			o := opts
			o.Worker = worker
			for m := range next {
				if _, err := Member(ctx, o, m); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					cancel()
					return
				}
			}
		}(w)
	}
	wg.Wait()
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	return Select(ctx, opts)
}
