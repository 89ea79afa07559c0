// Package convert turns a CIFAR-10 or CIFAR-100 source (the published binary
// archive or its extracted folder) into a dataset.CIFAR folder
// (formats/dataset): OUT/cifar_train.beton and OUT/cifar_test.beton, with
// fields "image" (RGB, raw or JPEG) then "label" (int), as in FFCV's CIFAR
// example, and OUT/manifest.json describing them. Every output is written to
// a temporary file in OUT and renamed into place; a rerun whose manifest
// records the same source, options and output hashes does nothing.
package convert

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"

	"pertnas/formats/beton"
	"pertnas/formats/cifar"
	"pertnas/formats/dataset"
	"pertnas/internal/parallel"
	"pertnas/internal/stage"
)

// WriteMode is how images are stored.
type WriteMode string

// Image storage modes.
const (
	Raw  WriteMode = "raw" // raw RGB pixels, lossless
	JPEG WriteMode = "jpg" // baseline JPEG at Options.JPEGQuality
)

// ProgressFunc receives progress of a task ("download", "read", "train",
// "test"): done of total units (bytes or images).
type ProgressFunc func(task string, done, total int64)

// Options of a conversion. Zero values take the documented defaults.
type Options struct {
	Src         string          // archive or folder; default OUT/<archive name> (see Fetch)
	Out         string          // output folder (required)
	Dataset     cifar.Dataset   // default cifar10
	Label       cifar.LabelKind // fine (default) or coarse, CIFAR-100 only
	PageSize    int             // default beton.DefaultPageSize
	Mode        WriteMode       // default Raw
	JPEGQuality int             // 1..100, default 90; JPEG mode only
	Fetch       bool            // download the archive if it is not there
	URL         string          // download address, default the official one
	MD5         string          // expected MD5 of the download, default the published one
	Client      *http.Client    // default http.DefaultClient
	Progress    ProgressFunc    // optional
}

// Result reports what Run did.
type Result struct {
	UpToDate bool              // the outputs already matched; nothing was written
	Manifest *dataset.Manifest // the (new or existing) manifest
	Src      string            // the source used
}

// InputError marks bad input (a flag value, a missing or malformed source):
// stages exit with status 2 for it.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// IsBadInput reports whether err is due to bad input rather than a failure
// at run time.
func IsBadInput(err error) bool {
	var ie *InputError
	var ce *cifar.FormatError
	var be *beton.FormatError
	return errors.As(err, &ie) || errors.As(err, &ce) || errors.As(err, &be)
}

func badInput(format string, args ...any) error {
	return &InputError{fmt.Errorf(format, args...)}
}

func (o Options) normalized() (Options, error) {
	if o.Out == "" {
		return o, badInput("convert: no output folder")
	}
	if o.Dataset == "" {
		o.Dataset = cifar.CIFAR10
	}
	if _, err := cifar.ParseDataset(string(o.Dataset)); err != nil {
		return o, &InputError{err}
	}
	if o.Label == "" {
		o.Label = cifar.Fine
	}
	if o.Label != cifar.Fine && (o.Label != cifar.Coarse || o.Dataset != cifar.CIFAR100) {
		return o, badInput("convert: label %q: want fine, or coarse with cifar100", o.Label)
	}
	if o.PageSize == 0 {
		o.PageSize = beton.DefaultPageSize
	}
	if o.PageSize < beton.MinPageSize || o.PageSize >= 1<<32 || o.PageSize&(o.PageSize-1) != 0 {
		return o, badInput("convert: page size %d is not a power of two in [2 MiB, 4 GiB)", o.PageSize)
	}
	switch o.Mode {
	case "", Raw:
		o.Mode, o.JPEGQuality = Raw, 0
	case JPEG:
		if o.JPEGQuality == 0 {
			o.JPEGQuality = 90
		}
		if o.JPEGQuality < 1 || o.JPEGQuality > 100 {
			return o, badInput("convert: JPEG quality %d outside 1..100", o.JPEGQuality)
		}
	default:
		return o, badInput("convert: write mode %q: want raw or jpg", o.Mode)
	}
	if o.Client == nil {
		o.Client = http.DefaultClient
	}
	if o.Progress == nil {
		o.Progress = func(string, int64, int64) {}
	}
	return o, nil
}

// Run converts Options.Src into the output folder, or does nothing when the
// manifest there shows the outputs are up to date.
func Run(ctx context.Context, opt Options) (*Result, error) {
	opt, err := opt.normalized()
	if err != nil {
		return nil, err
	}
	src, err := resolveSource(ctx, opt)
	if err != nil {
		return nil, err
	}
	copt := cifar.Options{Dataset: opt.Dataset, Label: opt.Label}
	if m, ok := upToDate(opt, src, copt); ok {
		return &Result{UpToDate: true, Manifest: m, Src: src}, nil
	}
	data, err := cifar.Load(src, copt, func(done, total int64) { opt.Progress("read", done, total) })
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, &InputError{err}
		}
		return nil, err
	}
	m := &dataset.Manifest{
		Format: dataset.CIFAR.Format, Dataset: string(data.Dataset), Label: string(data.Label),
		NumClasses: data.NumClasses(), Classes: data.Classes, Fields: dataset.FieldNames(),
		PageSize: opt.PageSize, WriteMode: string(opt.Mode), JPEGQuality: opt.JPEGQuality,
		Sources: data.Sources, Warnings: data.Warnings,
	}
	splits := []struct {
		name  string
		file  string
		split *cifar.Split
		out   *dataset.File
	}{{"train", dataset.CIFAR.Train, &data.Train, &m.Train}, {"test", dataset.CIFAR.Test, &data.Test, &m.Test}}
	if err := os.MkdirAll(opt.Out, 0o755); err != nil {
		return nil, fmt.Errorf("convert: %w", err)
	}
	// The temporary files a killed conversion left behind.
	if _, err := stage.RemoveTemps(opt.Out, false, nil); err != nil {
		return nil, fmt.Errorf("convert: %w", err)
	}
	writers := make([]*dataset.SplitWriter, len(splits))
	defer func() {
		for _, w := range writers {
			if w != nil {
				w.Discard()
			}
		}
	}()
	errs := make([]error, len(splits))
	var wg sync.WaitGroup
	for i, s := range splits {
		wg.Go(func() {
			writers[i], *s.out, errs[i] = writeSplit(ctx, opt, s.name, s.file, s.split)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for _, w := range writers {
		if err := w.Commit(); err != nil {
			return nil, fmt.Errorf("convert: %w", err)
		}
	}
	if err := dataset.WriteManifest(opt.Out, m); err != nil {
		return nil, fmt.Errorf("convert: %w", err)
	}
	return &Result{Manifest: m, Src: src}, nil
}

// resolveSource returns the source to read, downloading it first if asked.
func resolveSource(ctx context.Context, opt Options) (string, error) {
	def := filepath.Join(opt.Out, opt.Dataset.ArchiveName())
	src := opt.Src
	if src == "" {
		src = def
	}
	if opt.Fetch {
		if err := Fetch(ctx, opt, src); err != nil {
			return "", err
		}
		return src, nil
	}
	if _, err := os.Stat(src); err != nil {
		how := fmt.Sprintf("pass --src PATH (the %s archive or its extracted %s folder), put the archive at %s, or use --fetch to download it",
			opt.Dataset.ArchiveName(), opt.Dataset.FolderName(), def)
		if opt.Src == "" {
			return "", badInput("convert: no CIFAR source: %s", how)
		}
		return "", badInput("convert: source %s: %v; %s", src, errors.Unwrap(err), how)
	}
	return src, nil
}

// upToDate reports whether the manifest in the output folder records the
// same options and source, and the outputs still have their recorded hashes.
func upToDate(opt Options, src string, copt cifar.Options) (*dataset.Manifest, bool) {
	f, err := dataset.Open(opt.Out, dataset.CIFAR)
	if err != nil || f.Manifest == nil {
		return nil, false
	}
	m := f.Manifest
	if m.Dataset != string(opt.Dataset) || m.Label != string(opt.Label) ||
		m.PageSize != opt.PageSize || m.WriteMode != string(opt.Mode) || m.JPEGQuality != opt.JPEGQuality {
		return nil, false
	}
	sources, err := cifar.HashSources(src, copt)
	if err != nil || !slices.EqualFunc(sources, m.Sources, func(a, b cifar.Source) bool {
		return filepath.Base(a.Path) == filepath.Base(b.Path) && a.Bytes == b.Bytes && a.SHA256 == b.SHA256
	}) {
		return nil, false
	}
	for _, out := range []dataset.File{m.Train, m.Test} {
		if out.Name == "" {
			return nil, false
		}
		n, sum, err := dataset.HashFile(filepath.Join(opt.Out, out.Name))
		if err != nil || n != out.Bytes || sum != out.SHA256 {
			return nil, false
		}
	}
	return m, true
}

// writeSplit writes one split to a temporary file in the output folder and
// returns its writer, to commit or discard, and its description. On error
// the temporary file is gone.
func writeSplit(ctx context.Context, opt Options, task, name string, s *cifar.Split) (*dataset.SplitWriter, dataset.File, error) {
	wrap := func(err error) error { return fmt.Errorf("convert %s: %w", filepath.Join(opt.Out, name), err) }
	n := s.Len()
	w, err := dataset.CreateSplit(opt.Out, name, n, opt.PageSize)
	if err != nil {
		return nil, dataset.File{}, wrap(err)
	}
	if opt.Mode == JPEG {
		err = appendJPEG(ctx, w.Writer, s, opt.JPEGQuality, func(done int) { opt.Progress(task, int64(done), int64(n)) })
	} else {
		err = appendRaw(ctx, w.Writer, s, func(done int) { opt.Progress(task, int64(done), int64(n)) })
	}
	var out dataset.File
	if err == nil {
		out, err = w.Finish()
	}
	if err != nil {
		w.Discard()
		return nil, out, wrap(err)
	}
	return w, out, nil
}

// progressEvery is how many images pass between progress reports and
// cancellation checks.
const progressEvery = 1024

// appendRaw appends every image of s as raw HWC pixels.
func appendRaw(ctx context.Context, w *beton.Writer, s *cifar.Split, progress func(int)) error {
	hwc := make([]byte, cifar.PixelBytes)
	vals := make([]beton.Value, 2)
	n := s.Len()
	for i := range n {
		if i%progressEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
			progress(i)
		}
		s.HWC(i, hwc)
		vals[0] = beton.ImageValue(beton.ImageRaw, cifar.Side, cifar.Side, hwc)
		vals[1] = beton.IntValue(int64(s.Label(i)))
		if err := w.Append(vals); err != nil {
			return err
		}
	}
	progress(n)
	return nil
}

// appendJPEG encodes blocks of images on every CPU and appends them in
// order, so the output does not depend on the number of CPUs.
func appendJPEG(ctx context.Context, w *beton.Writer, s *cifar.Split, quality int, progress func(int)) error {
	n := s.Len()
	vals := make([]beton.Value, 2)
	return parallel.Ordered(ctx, n, progressEvery, runtime.GOMAXPROCS(0), func(lo, hi int) ([][]byte, error) {
		rgba := image.NewRGBA(image.Rect(0, 0, cifar.Side, cifar.Side))
		out := make([][]byte, 0, hi-lo)
		for i := lo; i < hi; i++ {
			out = append(out, encodeJPEG(rgba, s.Planes(i), quality))
		}
		return out, nil
	}, func(lo int, block [][]byte) error {
		for k, jpg := range block {
			vals[0] = beton.ImageValue(beton.ImageJPEG, cifar.Side, cifar.Side, jpg)
			vals[1] = beton.IntValue(int64(s.Label(lo + k)))
			if err := w.Append(vals); err != nil {
				return err
			}
		}
		progress(lo + len(block))
		return nil
	})
}

// encodeJPEG encodes one image given as R, G, B planes; rgba is scratch.
func encodeJPEG(rgba *image.RGBA, planes []byte, quality int) []byte {
	for p := range cifar.PlaneSize {
		px := rgba.Pix[4*p : 4*p+4 : 4*p+4]
		px[0], px[1], px[2], px[3] = planes[p], planes[cifar.PlaneSize+p], planes[2*cifar.PlaneSize+p], 255
	}
	var buf bytes.Buffer
	// Encoding to a bytes.Buffer fails only on invalid options, and these are checked.
	_ = jpeg.Encode(&buf, rgba, &jpeg.Options{Quality: quality})
	return buf.Bytes()
}
