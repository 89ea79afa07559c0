package parallel

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
)

// squares runs Ordered over n items, each block returning its items'
// squares, and collects what emit sees.
func squares(ctx context.Context, n, size, workers int, failAt int) ([]int, []int, error) {
	var got, los []int
	err := Ordered(ctx, n, size, workers, func(lo, hi int) ([]int, error) {
		var out []int
		for i := lo; i < hi; i++ {
			if i == failAt {
				return nil, errors.New("item failed")
			}
			out = append(out, i*i)
		}
		return out, nil
	}, func(lo int, v []int) error {
		los = append(los, lo)
		got = append(got, v...)
		return nil
	})
	return got, los, err
}

func TestOrderedIsInOrderForAnyWorkers(t *testing.T) {
	var want []int
	for i := range 103 {
		want = append(want, i*i)
	}
	for _, workers := range []int{0, 1, 3, 16} {
		got, los, err := squares(context.Background(), 103, 10, workers, -1)
		if err != nil || !slices.Equal(got, want) {
			t.Fatalf("workers %d: %v, %v", workers, got, err)
		}
		if wantLos := []int{0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100}; !slices.Equal(los, wantLos) {
			t.Fatalf("workers %d: emit saw blocks at %v, want %v", workers, los, wantLos)
		}
	}
	if got, los, err := squares(context.Background(), 0, 10, 2, -1); err != nil || got != nil || los != nil {
		t.Fatalf("no items: %v %v %v", got, los, err)
	}
}

func TestOrderedStopsAtFirstError(t *testing.T) {
	got, _, err := squares(context.Background(), 100, 10, 4, 35)
	if err == nil || err.Error() != "item failed" {
		t.Fatalf("error %v, want the work's", err)
	}
	if len(got) > 30 {
		t.Fatalf("emit saw %d items past the failing block", len(got))
	}
	stop := errors.New("emit stops")
	var calls atomic.Int32
	err = Ordered(context.Background(), 100, 10, 4, func(lo, hi int) (int, error) { return lo, nil },
		func(lo int, v int) error {
			calls.Add(1)
			if lo == 20 {
				return stop
			}
			return nil
		})
	if !errors.Is(err, stop) || calls.Load() != 3 {
		t.Fatalf("emit error: %v after %d calls, want %v after 3", err, calls.Load(), stop)
	}
}

// TestOrderedCancelled cancels while block 1 is still being worked on:
// Ordered returns the cancellation without waiting for it.
func TestOrderedCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	release := make(chan struct{})
	defer close(release)
	var emitted []int
	err := Ordered(ctx, 100, 10, 2, func(lo, hi int) (int, error) {
		if lo > 0 {
			<-release
		}
		return lo, nil
	}, func(lo int, v int) error {
		emitted = append(emitted, v)
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) || !slices.Equal(emitted, []int{0}) {
		t.Fatalf("cancelled after block 0: %v, emitted %v", err, emitted)
	}
}
