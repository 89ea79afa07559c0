// Package imagenet turns an ImageNet-style image folder into a
// dataset.ImageNet folder (formats/dataset): OUT/imagenet_train.beton and
// OUT/imagenet_val.beton, with fields "image" (RGB image, JPEG) then "label"
// (int), as FFCV's ImageNet example writes them, and OUT/manifest.json.
//
// # Source layout
//
// SRC/train/<class>/<image> and SRC/val/<class>/<image> (torchvision's
// ImageFolder layout): the classes are the sorted names of the train
// subfolders (ImageNet's wnids), label = index in that list; samples are in
// class order, files sorted by name within a class. Instead of class
// subfolders, val may hold the images directly with a labels file
// (Options.ValLabels): one line per image, "<image name> <class>" or
// "<image name>,<class> ..." (the Kaggle LOC_val_solution.csv form, whose
// header line is skipped); the image name may omit its extension. Images
// are files ending in .jpeg, .jpg or .png (any case); other files are
// skipped and counted in the manifest's warnings.
//
// # Images
//
// Each image is stored as a baseline JPEG whose longer side is at most
// Options.MaxSide. A baseline JPEG (YCbCr or greyscale) already within the
// cap is stored byte for byte; any other image (larger, progressive, CMYK, a
// PNG) is decoded, shrunk if needed so its longer side is MaxSide (both
// sides scaled by MaxSide/longer and truncated, as FFCV's writer does, with
// area averaging like OpenCV's INTER_AREA) and re-encoded at
// Options.JPEGQuality. EXIF orientation is ignored, as torchvision's PIL
// loader ignores it.
//
// # Outputs
//
// Every output is written to a temporary file in OUT and renamed into
// place; the manifest is written last. A rerun whose manifest records the
// same options and source listing (every file's path, size and modification
// time) and whose outputs still have their recorded sizes and modification
// times does nothing. The manifest records each output's SHA-256.
package imagenet

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"image/jpeg"
	_ "image/png" // PNG files posing as JPEG exist in ImageNet's train set
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"pertnas/convert"
	"pertnas/formats/beton"
	"pertnas/formats/dataset"
	"pertnas/internal/parallel"
	"pertnas/internal/stage"
)

// Defaults.
const (
	DefaultMaxSide = 500 // FFCV's ImageNet example (max_resolution 500)
	DefaultQuality = 90
)

// Options of a conversion. Zero values take the documented defaults.
type Options struct {
	Src         string // folder holding train/ and val/ (required)
	Out         string // output folder (required)
	ValLabels   string // labels file for a flat val/ folder (optional)
	MaxSide     int    // cap on the longer side, >= 8; default DefaultMaxSide
	JPEGQuality int    // 1..100 for re-encoded images, default DefaultQuality
	PageSize    int    // default beton.DefaultPageSize
	Workers     int    // decoding goroutines, default GOMAXPROCS; the output does not depend on it
	Progress    convert.ProgressFunc
}

// Result reports what Run did.
type Result struct {
	UpToDate bool
	// Manifest is the (new or existing) manifest; its Train and Val have
	// ImageStats.
	Manifest *dataset.Manifest
}

func badInput(format string, args ...any) error {
	return &convert.InputError{Err: fmt.Errorf(format, args...)}
}

// IsBadInput reports whether err is due to bad input (exit status 2).
func IsBadInput(err error) bool { return convert.IsBadInput(err) }

func (o Options) normalized() (Options, error) {
	if o.Src == "" {
		return o, badInput("imagenet: no source folder (want SRC with train/ and val/)")
	}
	if o.Out == "" {
		return o, badInput("imagenet: no output folder")
	}
	if o.MaxSide == 0 {
		o.MaxSide = DefaultMaxSide
	}
	if o.MaxSide < 8 || o.MaxSide > 65535 {
		return o, badInput("imagenet: max side %d outside 8..65535", o.MaxSide)
	}
	if o.JPEGQuality == 0 {
		o.JPEGQuality = DefaultQuality
	}
	if o.JPEGQuality < 1 || o.JPEGQuality > 100 {
		return o, badInput("imagenet: JPEG quality %d outside 1..100", o.JPEGQuality)
	}
	if o.PageSize == 0 {
		o.PageSize = beton.DefaultPageSize
	}
	if o.PageSize < beton.MinPageSize || o.PageSize >= 1<<32 || o.PageSize&(o.PageSize-1) != 0 {
		return o, badInput("imagenet: page size %d is not a power of two in [2 MiB, 4 GiB)", o.PageSize)
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.Progress == nil {
		o.Progress = func(string, int64, int64) {}
	}
	return o, nil
}

// sample is one source image.
type sample struct {
	rel   string // path relative to Src, slash-separated
	label int
	size  int64
	mtime time.Time
}

// Run converts Options.Src into the output folder, or does nothing when the
// manifest there shows the outputs are up to date.
func Run(ctx context.Context, opt Options) (*Result, error) {
	opt, err := opt.normalized()
	if err != nil {
		return nil, err
	}
	classes, train, val, warnings, err := scan(opt)
	if err != nil {
		return nil, err
	}
	src, err := describe(opt, train, val)
	if err != nil {
		return nil, err
	}
	m := &dataset.Manifest{
		Format: dataset.ImageNet.Format, Dataset: "imagenet", NumClasses: len(classes), Classes: classes,
		Fields: dataset.FieldNames(), PageSize: opt.PageSize, MaxSide: opt.MaxSide,
		JPEGQuality: opt.JPEGQuality, Source: src, Warnings: warnings,
	}
	if old, ok := upToDate(opt, m); ok {
		return &Result{UpToDate: true, Manifest: old}, nil
	}
	if err := os.MkdirAll(opt.Out, 0o755); err != nil {
		return nil, fmt.Errorf("imagenet: %w", err)
	}
	// The temporary files a killed conversion left behind.
	if _, err := stage.RemoveTemps(opt.Out, false, nil); err != nil {
		return nil, fmt.Errorf("imagenet: %w", err)
	}
	splits := []struct {
		task, file string
		samples    []sample
		out        *dataset.File
	}{{"train", dataset.ImageNet.Train, train, &m.Train}, {"val", dataset.ImageNet.Test, val, &m.Val}}
	var writers []*dataset.SplitWriter
	defer func() {
		for _, w := range writers {
			w.Discard()
		}
	}()
	for _, s := range splits {
		w, err := writeSplit(ctx, opt, s.task, s.file, s.samples, s.out)
		if err != nil {
			return nil, err
		}
		writers = append(writers, w)
	}
	for i, s := range splits {
		if err := writers[i].Commit(); err != nil {
			return nil, fmt.Errorf("imagenet: %w", err)
		}
		st, err := os.Stat(filepath.Join(opt.Out, s.file))
		if err != nil {
			return nil, fmt.Errorf("imagenet: %w", err)
		}
		s.out.ModTime = st.ModTime().UTC()
	}
	if err := dataset.WriteManifest(opt.Out, m); err != nil {
		return nil, fmt.Errorf("imagenet: %w", err)
	}
	return &Result{Manifest: m}, nil
}

// isImage reports whether name has an image extension the converter reads.
func isImage(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".jpeg", ".jpg", ".png":
		return true
	}
	return false
}

// scan lists the classes and the samples of both splits.
func scan(opt Options) (classes []string, train, val []sample, warnings []string, err error) {
	trainDir, valDir := filepath.Join(opt.Src, "train"), filepath.Join(opt.Src, "val")
	for _, d := range []string{trainDir, valDir} {
		if st, err := os.Stat(d); err != nil || !st.IsDir() {
			return nil, nil, nil, nil, badInput("imagenet: %s: not a folder (the source must hold train/<class>/*.JPEG and val/)", d)
		}
	}
	dirs, files, err := readDir(trainDir)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	if len(dirs) == 0 {
		return nil, nil, nil, nil, badInput("imagenet: %s holds no class folders", trainDir)
	}
	if len(files) > 0 {
		warnings = append(warnings, fmt.Sprintf("%s: %d files outside class folders skipped", trainDir, len(files)))
	}
	classes = dirs
	index := map[string]int{}
	for i, c := range classes {
		index[c] = i
	}
	skipped := 0
	listClass := func(split, c string, label int) ([]sample, error) {
		dir := filepath.Join(opt.Src, split, c)
		_, fs, err := readDir(dir)
		if err != nil {
			return nil, err
		}
		var out []sample
		for _, f := range fs {
			if !isImage(f) {
				skipped++
				continue
			}
			out = append(out, sample{rel: split + "/" + c + "/" + f, label: label})
		}
		return out, nil
	}
	for i, c := range classes {
		s, err := listClass("train", c, i)
		if err != nil {
			return nil, nil, nil, nil, err
		}
		if len(s) == 0 {
			return nil, nil, nil, nil, badInput("imagenet: %s: no images (.JPEG, .jpg, .png) in this class folder", filepath.Join(trainDir, c))
		}
		train = append(train, s...)
	}
	vdirs, vfiles, err := readDir(valDir)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	switch {
	case opt.ValLabels != "":
		val, err = flatVal(opt, vfiles, index, &skipped)
		if err != nil {
			return nil, nil, nil, nil, err
		}
	case len(vdirs) > 0:
		for _, c := range vdirs {
			label, ok := index[c]
			if !ok {
				return nil, nil, nil, nil, badInput("imagenet: %s: class %q is not among the %d train classes", filepath.Join(valDir, c), c, len(classes))
			}
			s, err := listClass("val", c, label)
			if err != nil {
				return nil, nil, nil, nil, err
			}
			val = append(val, s...)
		}
		if len(vfiles) > 0 {
			warnings = append(warnings, fmt.Sprintf("%s: %d files outside class folders skipped", valDir, len(vfiles)))
		}
	default:
		return nil, nil, nil, nil, badInput("imagenet: %s has no class folders; give a labels file for a flat val folder (--val-labels)", valDir)
	}
	if len(val) == 0 {
		return nil, nil, nil, nil, badInput("imagenet: %s: no images", valDir)
	}
	if skipped > 0 {
		warnings = append(warnings, fmt.Sprintf("%d files without an image extension skipped", skipped))
	}
	return classes, train, val, warnings, nil
}

// readDir returns the sorted names of the subfolders and of the other
// entries of dir (hidden entries excluded).
func readDir(dir string) (dirs, files []string, err error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, badInput("imagenet: %v", err)
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		isDir := e.IsDir()
		if e.Type()&os.ModeSymlink != 0 {
			if st, err := os.Stat(filepath.Join(dir, e.Name())); err == nil {
				isDir = st.IsDir()
			}
		}
		if isDir {
			dirs = append(dirs, e.Name())
		} else {
			files = append(files, e.Name())
		}
	}
	slices.Sort(dirs)
	slices.Sort(files)
	return dirs, files, nil
}

// flatVal labels the images directly in val/ from the labels file.
func flatVal(opt Options, files []string, index map[string]int, skipped *int) ([]sample, error) {
	f, err := os.Open(opt.ValLabels)
	if err != nil {
		return nil, badInput("imagenet: labels file: %v", err)
	}
	defer f.Close()
	labels, err := parseLabels(f, opt.ValLabels, index)
	if err != nil {
		return nil, err
	}
	var out []sample
	for _, name := range files {
		if !isImage(name) {
			*skipped++
			continue
		}
		label, ok := labels[strings.TrimSuffix(name, filepath.Ext(name))]
		if !ok {
			return nil, badInput("imagenet: %s: no label in %s", filepath.Join(opt.Src, "val", name), opt.ValLabels)
		}
		out = append(out, sample{rel: "val/" + name, label: label})
	}
	return out, nil
}

// parseLabels reads a labels file (see the package doc) and maps each image
// name, without its extension, to the index of its class; path names the
// file in errors.
func parseLabels(r io.Reader, path string, index map[string]int) (map[string]int, error) {
	labels := map[string]int{}
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || (line == 1 && strings.HasPrefix(text, "ImageId,")) {
			continue
		}
		fields := strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
		if len(fields) < 2 {
			return nil, badInput("imagenet: %s line %d: want \"<image> <class>\", got %q", path, line, text)
		}
		name := strings.TrimSuffix(fields[0], filepath.Ext(fields[0]))
		label, ok := index[fields[1]]
		if !ok {
			return nil, badInput("imagenet: %s line %d: class %q is not among the train classes", path, line, fields[1])
		}
		if _, dup := labels[name]; dup {
			return nil, badInput("imagenet: %s line %d: image %q labelled twice", path, line, fields[0])
		}
		labels[name] = label
	}
	if err := sc.Err(); err != nil {
		return nil, badInput("imagenet: %s: %v", path, err)
	}
	return labels, nil
}

// describe stats every sample and fingerprints the listing.
func describe(opt Options, train, val []sample) (dataset.ImageFolder, error) {
	h := sha256.New()
	src := dataset.ImageFolder{Path: opt.Src, ValLabels: opt.ValLabels}
	var num [8]byte
	for _, list := range [][]sample{train, val} {
		for i := range list {
			s := &list[i]
			st, err := os.Stat(filepath.Join(opt.Src, filepath.FromSlash(s.rel)))
			if err != nil {
				return src, badInput("imagenet: %v", err)
			}
			s.size, s.mtime = st.Size(), st.ModTime()
			src.Files++
			src.Bytes += s.size
			io.WriteString(h, s.rel)
			binary.LittleEndian.PutUint64(num[:], uint64(s.label))
			h.Write(num[:])
			binary.LittleEndian.PutUint64(num[:], uint64(s.size))
			h.Write(num[:])
			binary.LittleEndian.PutUint64(num[:], uint64(s.mtime.UnixNano()))
			h.Write(num[:])
		}
	}
	if opt.ValLabels != "" {
		b, err := os.ReadFile(opt.ValLabels)
		if err != nil {
			return src, badInput("imagenet: labels file: %v", err)
		}
		h.Write(b)
	}
	src.Listing = hex.EncodeToString(h.Sum(nil))
	return src, nil
}

// upToDate reports whether the manifest in the output folder matches m's
// options and source and its outputs are unchanged.
func upToDate(opt Options, m *dataset.Manifest) (*dataset.Manifest, bool) {
	f, err := dataset.Open(opt.Out, dataset.ImageNet)
	if err != nil || f.Manifest == nil {
		return nil, false
	}
	old := f.Manifest
	if old.PageSize != m.PageSize || old.MaxSide != m.MaxSide ||
		old.JPEGQuality != m.JPEGQuality || old.Source.Listing != m.Source.Listing {
		return nil, false
	}
	for _, out := range []dataset.File{old.Train, old.Val} {
		if out.Name == "" || out.ImageStats == nil {
			return nil, false
		}
		st, err := os.Stat(filepath.Join(opt.Out, out.Name))
		if err != nil || st.Size() != out.Bytes || !st.ModTime().Equal(out.ModTime) {
			return nil, false
		}
	}
	return old, true
}

// encoded is one image ready for the .beton file.
type encoded struct {
	data   []byte
	w, h   int
	action int // 0 kept, 1 resized, 2 re-encoded
}

// blockSize is how many images are encoded as one unit of parallel work,
// progress and cancellation.
const blockSize = 64

// writeSplit writes one split to a temporary file in the output folder and
// returns its writer, to commit or discard, after setting out (but its
// ModTime). On error the temporary file is gone.
func writeSplit(ctx context.Context, opt Options, task, name string, samples []sample, out *dataset.File) (*dataset.SplitWriter, error) {
	wrap := func(err error) error {
		if convert.IsBadInput(err) || errors.Is(err, context.Canceled) {
			return err
		}
		return fmt.Errorf("imagenet %s: %w", filepath.Join(opt.Out, name), err)
	}
	n := len(samples)
	w, err := dataset.CreateSplit(opt.Out, name, n, opt.PageSize)
	if err != nil {
		return nil, wrap(err)
	}
	stats := &dataset.ImageStats{}
	vals := make([]beton.Value, 2)
	err = parallel.Ordered(ctx, n, blockSize, opt.Workers, func(lo, hi int) ([]encoded, error) {
		res := make([]encoded, 0, hi-lo)
		for i := lo; i < hi; i++ {
			e, err := encodeFile(opt, samples[i].rel)
			if err != nil {
				return nil, err
			}
			res = append(res, e)
		}
		return res, nil
	}, func(lo int, block []encoded) error {
		for k, e := range block {
			s := samples[lo+k]
			if len(e.data) > opt.PageSize {
				return badInput("imagenet: %s: %d bytes after encoding exceed the page size %d (use a larger --page-size or a smaller --max-side)",
					filepath.Join(opt.Src, s.rel), len(e.data), opt.PageSize)
			}
			vals[0] = beton.ImageValue(beton.ImageJPEG, e.w, e.h, e.data)
			vals[1] = beton.IntValue(int64(s.label))
			if err := w.Append(vals); err != nil {
				return fmt.Errorf("%s: %w", s.rel, err)
			}
			switch e.action {
			case 0:
				stats.Kept++
			case 1:
				stats.Resized++
			default:
				stats.Reencoded++
			}
		}
		opt.Progress(task, int64(lo+len(block)), int64(n))
		return nil
	})
	if err == nil {
		*out, err = w.Finish()
	}
	if err != nil {
		w.Discard()
		return nil, wrap(err)
	}
	out.ImageStats = stats
	return w, nil
}

// encodeFile reads one image and returns what to store for it.
func encodeFile(opt Options, rel string) (encoded, error) {
	path := filepath.Join(opt.Src, filepath.FromSlash(rel))
	data, err := os.ReadFile(path)
	if err != nil {
		return encoded{}, badInput("imagenet: %v", err)
	}
	e, err := encodeImage(data, opt.MaxSide, opt.JPEGQuality)
	if err != nil {
		return encoded{}, badInput("imagenet: %s: %v", path, err)
	}
	return e, nil
}

// maxPixels bounds the pixels of a source image: its header is checked
// before decoding, which allocates width*height pixels whatever the file's
// size (a 100-byte JPEG may claim 65535x65535).
const maxPixels = 1 << 26

// encodeImage returns the JPEG to store for the image file data: data
// itself when it is a baseline JPEG within the cap, else a re-encoding.
func encodeImage(data []byte, maxSide, quality int) (encoded, error) {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return encoded{}, fmt.Errorf("cannot decode the image: %w", err)
	}
	if int64(cfg.Width)*int64(cfg.Height) > maxPixels {
		return encoded{}, fmt.Errorf("image of %dx%d pixels is larger than the %d-pixel limit", cfg.Width, cfg.Height, maxPixels)
	}
	img, format, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return encoded{}, fmt.Errorf("cannot decode the image: %w", err)
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w <= 0 || h <= 0 {
		return encoded{}, fmt.Errorf("empty image (%dx%d)", w, h)
	}
	if max(w, h) <= maxSide {
		switch img.(type) {
		case *image.YCbCr, *image.Gray:
			if format == "jpeg" && isBaseline(data) {
				return encoded{data: data, w: w, h: h, action: 0}, nil
			}
		}
		return encoded{data: encodeJPEG(toRGBA(img), quality), w: w, h: h, action: 2}, nil
	}
	ratio := float64(maxSide) / float64(max(w, h))
	nw, nh := max(1, int(ratio*float64(w))), max(1, int(ratio*float64(h)))
	small := areaResize(toRGBA(img), nw, nh)
	return encoded{data: encodeJPEG(small, quality), w: nw, h: nh, action: 1}, nil
}

// isBaseline reports whether the JPEG's frame header is SOF0 (baseline
// DCT), walking the marker segments before the first SOS.
func isBaseline(data []byte) bool {
	if len(data) < 4 || data[0] != 0xFF || data[1] != 0xD8 {
		return false
	}
	p := 2
	for p+4 <= len(data) {
		if data[p] != 0xFF {
			return false
		}
		m := data[p+1]
		switch {
		case m == 0xFF: // fill byte
			p++
			continue
		case m == 0xC0:
			return true
		case m >= 0xC1 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC, m == 0xDA:
			return false // another frame type, or scan data before any frame
		}
		p += 2 + int(binary.BigEndian.Uint16(data[p+2:]))
	}
	return false
}

// toRGBA converts any image to RGBA with its origin at (0, 0).
func toRGBA(img image.Image) *image.RGBA {
	b := img.Bounds()
	if m, ok := img.(*image.RGBA); ok && b.Min == (image.Point{}) {
		return m
	}
	out := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(out, out.Bounds(), img, b.Min, draw.Src)
	return out
}

// encodeJPEG encodes img as a baseline JPEG.
func encodeJPEG(img image.Image, quality int) []byte {
	var buf bytes.Buffer
	// Encoding to a bytes.Buffer fails only on invalid options, and these are checked.
	_ = jpeg.Encode(&buf, img, &jpeg.Options{Quality: quality})
	return buf.Bytes()
}
