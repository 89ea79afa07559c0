// Package loader is the FFCV-style input pipeline: it orders the samples of
// a Source for an epoch, decodes them (raw or JPEG), optionally crops and
// resizes images of any size to a fixed square (Crop: ImageNet's
// RandomResizedCrop or Resize + CenterCrop), augments them on uint8 HWC
// pixels (flip, translate, cutout, colour jitter), normalises them into NCHW
// float32 batches with int32 labels, and prefetches batches on several
// goroutines. The geometric and colour steps reproduce torchvision's on PIL
// images bit for bit (tests against PIL fixtures).
//
// Determinism: the order of an epoch is drawn from (seed, epoch) and every
// random choice for a sample from (seed, epoch, sample id), so a batch's
// contents do not depend on the number of workers or on their scheduling.
//
// Allocation: batches live in a fixed ring of buffers reused from batch to
// batch; the steady state allocates nothing per image for raw images and
// for JPEGs decoded with libjpeg-turbo (see decode.go).
package loader

import (
	"fmt"
	"runtime"
	"sync"

	"pertnas/loader/turbojpeg"
)

// Config describes one pipeline.
type Config struct {
	BatchSize int
	Order     Order
	Seed      uint64
	// DropLast drops the final batch of an epoch when it is not full.
	DropLast bool
	// Workers is the number of decoding goroutines (<= 0: GOMAXPROCS).
	Workers int
	// Prefetch is the number of batch buffers in the ring (<= 0: 2*Workers+1).
	Prefetch int
	// Indices is the subset of sample ids to visit (nil: all samples).
	Indices []int
	// Window is the number of pages shuffled together by QuasiRandom (<= 0: 8).
	Window int
	// Crop, when its Mode is not NoCrop, brings images of any size to
	// Crop.Size x Crop.Size after decoding (ImageNet); Augment then works on
	// the cropped image.
	Crop Crop
	// Augment is applied to every sample (the zero value: none).
	Augment Augment
	// Mean and Std normalise each channel on the 0..255 scale; a zero Std
	// means DARTSMean/DARTSStd.
	Mean, Std [3]float32
	// Classes, when > 0, bounds the labels: a label outside [0, Classes) is
	// an error naming the sample.
	Classes int
	// JPEGDCTScale lets libjpeg-turbo decode a JPEG at 1/2, 1/4 or 1/8 in
	// the DCT domain when the Crop's box is at least 2, 4 or 8 times its
	// resized size in both directions (the largest such scale); the resize
	// then reads the box, scaled and fractional, from the smaller image
	// (PIL's resize with a box, within the whole pixels holding it). Off,
	// the pixels are torchvision's. On, the images it scales change: on
	// textured 500x375 quality-90 JPEGs at crop sizes 112 and 64, by 1.2 to
	// 1.4 per 8-bit value on average (2.2 for the worst image) and at most
	// 39 (TestJPEGDCTScale holds them to 3 and 64), for 8-25% more images
	// per CPU second at 112 and 30-40% at 64 (BenchmarkJPEGDCTScale, 1 and
	// 2 threads); at 224 such images are never scaled (no box reaches 448
	// pixels both ways). It needs a Crop and is ignored where the Go
	// decoder is used.
	JPEGDCTScale bool
}

// Loader produces epochs of batches from a Source.
type Loader struct {
	src     Source
	cfg     Config
	indices []int
	h, w    int
	crop    Crop
	lut     *normLUT
	ring    chan *Batch
}

// Batch is one batch: Images holds N images as NCHW float32 (C = 3), Labels
// their labels, Samples their sample ids. It is owned by the loader and
// valid until the iterator's next call to Next or Close.
type Batch struct {
	Index      int // batch number within the epoch
	N, H, W    int
	Images     []float32
	Labels     []int32
	Samples    []int
	err        error
	jpegBuffer []byte
	cropBuffer []byte
	resize     resizer
	jpeg       jpegDecoder
}

// New checks cfg and the source and returns a Loader. Without a Crop the
// image size is taken from the first sample to visit and every sample must
// have it; with one every image becomes Crop.Size square.
func New(src Source, cfg Config) (*Loader, error) {
	if cfg.BatchSize <= 0 {
		return nil, fmt.Errorf("loader: batch size must be positive, got %d", cfg.BatchSize)
	}
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	if cfg.Prefetch <= 0 {
		cfg.Prefetch = 2*cfg.Workers + 1
	}
	if cfg.Window <= 0 {
		cfg.Window = 8
	}
	if cfg.Augment.Pad < 0 || cfg.Augment.Cutout < 0 {
		return nil, fmt.Errorf("loader: pad and cutout must be >= 0, got %d and %d", cfg.Augment.Pad, cfg.Augment.Cutout)
	}
	crop, err := cfg.Crop.normalized()
	if err != nil {
		return nil, err
	}
	if cfg.JPEGDCTScale && crop.Mode == NoCrop {
		return nil, fmt.Errorf("loader: JPEG DCT-domain scaling needs a crop")
	}
	if j := cfg.Augment.Jitter; j.Brightness < 0 || j.Contrast < 0 || j.Saturation < 0 || j.Hue < 0 || j.Hue > 0.5 {
		return nil, fmt.Errorf("loader: colour jitter %+v: want factors >= 0 and hue in [0, 0.5]", j)
	}
	if cfg.Std == ([3]float32{}) {
		cfg.Mean, cfg.Std = DARTSMean, DARTSStd
	}
	for c, s := range cfg.Std {
		if !(s > 0) {
			return nil, fmt.Errorf("loader: std of channel %d must be positive, got %v", c, s)
		}
	}
	n := src.NumSamples()
	indices := cfg.Indices
	if indices == nil {
		indices = make([]int, n)
		for i := range indices {
			indices[i] = i
		}
	}
	for _, s := range indices {
		if s < 0 || s >= n {
			return nil, fmt.Errorf("loader: sample id %d out of range [0, %d)", s, n)
		}
	}
	if len(indices) == 0 {
		return nil, fmt.Errorf("loader: no samples to load")
	}
	first, err := src.Sample(indices[0])
	if err != nil {
		return nil, fmt.Errorf("loader: sample %d: %w", indices[0], err)
	}
	if first.Width <= 0 || first.Height <= 0 {
		return nil, fmt.Errorf("loader: sample %d has size %dx%d", indices[0], first.Width, first.Height)
	}
	l := &Loader{src: src, cfg: cfg, indices: indices, h: first.Height, w: first.Width, crop: crop,
		lut: newNormLUT(cfg.Mean, cfg.Std)}
	if crop.Mode != NoCrop {
		l.h, l.w = crop.Size, crop.Size
	}
	l.ring = make(chan *Batch, cfg.Prefetch)
	for range cfg.Prefetch {
		l.ring <- &Batch{
			H: l.h, W: l.w,
			Images:  make([]float32, cfg.BatchSize*3*l.h*l.w),
			Labels:  make([]int32, cfg.BatchSize),
			Samples: make([]int, cfg.BatchSize),
		}
	}
	return l, nil
}

// Len is the number of samples an epoch visits (before drop_last).
func (l *Loader) Len() int { return len(l.indices) }

// Shape returns the channels, height and width of every image.
func (l *Loader) Shape() (c, h, w int) { return 3, l.h, l.w }

// NumBatches is the number of batches in an epoch.
func (l *Loader) NumBatches() int {
	n, b := len(l.indices), l.cfg.BatchSize
	if l.cfg.DropLast {
		return n / b
	}
	return (n + b - 1) / b
}

// Iterator walks the batches of one epoch in order. Only one iterator of a
// Loader may be open at a time.
type Iterator struct {
	l         *Loader
	order     []int
	nb        int
	next      int
	cur       *Batch
	err       error
	ready     []chan *Batch
	done      chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once
}

// Epoch starts the workers for epoch (0-based) and returns the iterator.
// Close it when done, even after an error.
func (l *Loader) Epoch(epoch int) *Iterator {
	it := &Iterator{l: l, nb: l.NumBatches(), done: make(chan struct{})}
	it.order = epochOrder(l.cfg.Order, l.indices, l.cfg.Seed, epoch, l.cfg.Window, l.src.Page)
	it.ready = make([]chan *Batch, l.cfg.Prefetch)
	for i := range it.ready {
		it.ready[i] = make(chan *Batch, 1)
	}
	jobs := make(chan *Batch)
	// The dispatcher hands out batch numbers in order, each with a free
	// buffer; at most Prefetch batches are in flight, so batch k and k+R
	// never share a ready slot.
	it.wg.Add(1)
	go func() {
		defer it.wg.Done()
		defer close(jobs)
		for k := range it.nb {
			var b *Batch
			select {
			case b = <-l.ring:
			case <-it.done:
				return
			}
			b.Index = k
			select {
			case jobs <- b:
			case <-it.done:
				l.ring <- b
				return
			}
		}
	}()
	for range l.cfg.Workers {
		it.wg.Add(1)
		go func() {
			defer it.wg.Done()
			for b := range jobs {
				l.fill(b, it.order, epoch)
				it.ready[b.Index%len(it.ready)] <- b
			}
		}()
	}
	return it
}

// fill loads batch b.Index of an epoch with the given order.
func (l *Loader) fill(b *Batch, order []int, epoch int) {
	bs := l.cfg.BatchSize
	lo := b.Index * bs
	hi := min(lo+bs, len(order))
	b.N, b.err = hi-lo, nil
	size := 3 * l.h * l.w
	for j, s := range order[lo:hi] {
		b.Samples[j] = s
		e, err := l.src.Sample(s)
		if err != nil {
			b.err = fmt.Errorf("loader: sample %d: %w", s, err)
			return
		}
		if l.crop.Mode == NoCrop && (e.Width != l.w || e.Height != l.h) {
			b.err = fmt.Errorf("loader: sample %d is %dx%d, expected %dx%d like sample %d", s, e.Width, e.Height, l.w, l.h, l.indices[0])
			return
		}
		if e.Width <= 0 || e.Height <= 0 {
			b.err = fmt.Errorf("loader: sample %d has size %dx%d", s, e.Width, e.Height)
			return
		}
		if e.Label < 0 || e.Label > 1<<31-1 || (l.cfg.Classes > 0 && e.Label >= int64(l.cfg.Classes)) {
			b.err = fmt.Errorf("loader: sample %d has label %d outside [0, %d)", s, e.Label, l.cfg.Classes)
			return
		}
		rng := newSampleRNG(l.cfg.Seed, epoch, s)
		var plan cropPlan
		if l.crop.Mode != NoCrop {
			plan = l.crop.plan(&rng, e.Height, e.Width)
		}
		pix := e.Data
		pixW := e.Width  // pix's width
		denom := 1       // pix is the image decoded at 1/denom
		scratch := false // pix is the batch's own buffer, free to modify
		if e.JPEG {
			if l.cfg.JPEGDCTScale && useTurbo() {
				denom = plan.dctDenom(e.Height, e.Width)
			}
			b.jpegBuffer, err = b.jpeg.decodeScaled(b.jpegBuffer, e.Data, e.Width, e.Height, denom)
			if err != nil {
				b.err = fmt.Errorf("loader: sample %d: %w", s, err)
				return
			}
			pix, scratch = b.jpegBuffer, true
			pixW, _ = turbojpeg.ScaledSize(e.Width, e.Height, denom)
		} else if len(pix) != e.Height*e.Width*3 {
			b.err = fmt.Errorf("loader: sample %d: raw image has %d bytes, want %d", s, len(pix), e.Height*e.Width*3)
			return
		}
		if l.crop.Mode != NoCrop {
			b.cropBuffer = growBytes(b.cropBuffer, l.h*l.w*3)
			l.crop.resize(&b.resize, b.cropBuffer, pix, pixW, plan, denom)
			pix, scratch = b.cropBuffer, true
		}
		d := l.cfg.Augment.draw(&rng, l.h, l.w)
		if l.cfg.Augment.Jitter.enabled() {
			if !scratch {
				b.cropBuffer = append(b.cropBuffer[:0], pix...)
				pix = b.cropBuffer
			}
			d.jitter.apply(pix)
		}
		l.cfg.Augment.transform(b.Images[j*size:(j+1)*size], pix, l.h, l.w, d, l.lut)
		b.Labels[j] = int32(e.Label)
	}
}

// Next advances to the next batch; it returns false at the end of the epoch
// or on an error (see Err). The previous batch's buffer is reused.
func (it *Iterator) Next() bool {
	if it.cur != nil {
		it.l.ring <- it.cur
		it.cur = nil
	}
	if it.err != nil || it.next >= it.nb {
		return false
	}
	b := <-it.ready[it.next%len(it.ready)]
	it.next++
	if b.err != nil {
		it.err = b.err
		it.l.ring <- b
		return false
	}
	it.cur = b
	return true
}

// Batch returns the current batch (valid until Next or Close).
func (it *Iterator) Batch() *Batch { return it.cur }

// Err returns the first error met, if any.
func (it *Iterator) Err() error { return it.err }

// Close stops the workers and returns every buffer to the loader.
func (it *Iterator) Close() {
	it.closeOnce.Do(func() {
		close(it.done)
		if it.cur != nil {
			it.l.ring <- it.cur
			it.cur = nil
		}
		it.wg.Wait()
		// Batches finished but not consumed go back to the ring.
		for _, ch := range it.ready {
			select {
			case b := <-ch:
				it.l.ring <- b
			default:
			}
		}
	})
}
