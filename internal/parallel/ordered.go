// Package parallel runs blocks of work on several goroutines and delivers
// their results in order, so that what is built from them does not depend
// on the number of goroutines.
package parallel

import "context"

// Ordered splits n items into blocks of size items, runs work on each block
// [lo, hi) on workers goroutines (at least one) and hands the results to
// emit in block order, on the calling goroutine. At most 2*workers blocks
// are done ahead of emit. The first error of work or emit, or the
// cancellation of ctx, stops it and is returned.
func Ordered[T any](ctx context.Context, n, size, workers int, work func(lo, hi int) (T, error), emit func(lo int, v T) error) error {
	workers = max(workers, 1)
	blocks := (n + size - 1) / size
	type result struct {
		v   T
		err error
	}
	results := make([]chan result, blocks)
	for b := range results {
		results[b] = make(chan result, 1)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Blocks are handed out in order, each once a slot is free: the oldest
	// block not yet emitted always holds a slot.
	ahead := make(chan struct{}, 2*workers)
	next := make(chan int)
	go func() {
		defer close(next)
		for b := range blocks {
			select {
			case ahead <- struct{}{}:
			case <-ctx.Done():
				return
			}
			select {
			case next <- b:
			case <-ctx.Done():
				return
			}
		}
	}()
	for range workers {
		go func() {
			for b := range next {
				v, err := work(b*size, min(n, (b+1)*size))
				results[b] <- result{v, err}
			}
		}()
	}
	for b := range blocks {
		var r result
		select {
		case r = <-results[b]:
			<-ahead
		case <-ctx.Done():
			return ctx.Err()
		}
		if r.err != nil {
			return r.err
		}
		if err := emit(b*size, r.v); err != nil {
			return err
		}
	}
	return nil
}
