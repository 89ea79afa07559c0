package cifar

import (
	"archive/tar"
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"

	"github.com/klauspost/compress/gzip"
)

// maxMember bounds the size of one batch file (CIFAR's largest, CIFAR-100's
// train.bin, is 153.7 MB), so that a damaged header cannot claim terabytes.
const maxMember = 1 << 30

// Load reads a CIFAR dataset from path: the published .tar.gz archive, or a
// folder holding the extracted files (the folder itself or its parent). The
// chosen dataset's train and test files must all be present; each must be a
// whole number of records with valid labels. Bad input is a *FormatError or
// an error naming the file. progress, if not nil, is called with the bytes
// read so far and the total.
func Load(src string, opt Options, progress func(done, total int64)) (*Data, error) {
	opt, err := opt.normalized()
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(src)
	if err != nil {
		return nil, fmt.Errorf("cifar: %w", err)
	}
	c := newCollector(src, opt)
	if st.IsDir() {
		err = c.readFolder(src, progress)
	} else {
		var f *os.File
		if f, err = os.Open(src); err != nil {
			return nil, fmt.Errorf("cifar: %w", err)
		}
		err = c.readArchive(f, st.Size(), progress)
		f.Close()
	}
	if err != nil {
		return nil, err
	}
	return c.finish()
}

// collector gathers the dataset's files from an archive or a folder.
type collector struct {
	src     string
	opt     Options
	lay     layout
	files   map[string][]byte // by base name
	where   map[string]string // base name -> file name for messages
	seen    []string          // every base name met, for hints
	sources []Source
}

func newCollector(src string, opt Options) *collector {
	return &collector{src: src, opt: opt, lay: layouts[opt.Dataset], files: map[string][]byte{}, where: map[string]string{}}
}

// wanted reports whether base is one of the dataset's files.
func (c *collector) wanted(base string) bool {
	return slices.Contains(c.lay.train, base) || slices.Contains(c.lay.test, base) ||
		base == c.lay.fineNames || (base == c.lay.coarseName && base != "")
}

// readArchive reads the members of a .tar.gz archive of size bytes from f in
// one pass, hashing the compressed bytes on the way.
func (c *collector) readArchive(f io.Reader, size int64, progress func(done, total int64)) error {
	src := c.src
	h := sha256.New()
	cr := &countingReader{r: io.TeeReader(f, h), total: size, progress: progress}
	br := bufio.NewReaderSize(cr, 1<<20)
	at := func() int64 { return cr.n - int64(br.Buffered()) } // compressed bytes consumed
	zr, err := gzip.NewReader(br)
	if err != nil {
		return &FormatError{src, 0, fmt.Sprintf("not a gzip file: %v", err)}
	}
	tr := tar.NewReader(zr)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return &FormatError{src, at(), fmt.Sprintf("reading the tar stream: %v (archive truncated or corrupt)", err)}
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		base := path.Base(hdr.Name)
		c.seen = append(c.seen, base)
		if !c.wanted(base) {
			continue
		}
		member := src + ":" + hdr.Name
		if _, dup := c.files[base]; dup {
			return &FormatError{member, -1, fmt.Sprintf("second copy of %s in the archive", base)}
		}
		if hdr.Size > maxMember {
			return &FormatError{member, -1, fmt.Sprintf("size %d is larger than any CIFAR file", hdr.Size)}
		}
		b, err := readMember(tr, hdr.Size)
		if err != nil {
			return &FormatError{member, int64(len(b)), fmt.Sprintf("%v after %d of %d bytes (archive truncated or corrupt near compressed offset %d)", err, len(b), hdr.Size, at())}
		}
		c.files[base] = b
		c.where[base] = member
	}
	// Read to the end so that the gzip checksum is verified and the hash
	// covers the whole file.
	if _, err := io.Copy(io.Discard, zr); err != nil {
		return &FormatError{src, at(), fmt.Sprintf("after the tar stream: %v (archive truncated or corrupt)", err)}
	}
	if _, err := io.Copy(h, f); err != nil { // bytes after the gzip stream, if any
		return fmt.Errorf("cifar %s: %w", src, err)
	}
	c.sources = []Source{{Path: src, Bytes: size, SHA256: hex.EncodeToString(h.Sum(nil))}}
	return nil
}

// readMember reads exactly size bytes, growing its buffer as data arrives
// (so a header that lies about the size costs no more than the data). On
// error it returns what was read.
func readMember(r io.Reader, size int64) ([]byte, error) {
	buf := make([]byte, 0, min(size, 64<<20))
	for int64(len(buf)) < size {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, int(min(size, 2*int64(cap(buf))))-len(buf))
		}
		n, err := io.ReadFull(r, buf[len(buf):min(int64(cap(buf)), size)])
		buf = buf[:len(buf)+n]
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return buf, err
		}
	}
	return buf, nil
}

// readFolder reads the dataset's files from dir, or from dir/<folder name>.
func (c *collector) readFolder(dir string, progress func(done, total int64)) error {
	if st, err := os.Stat(filepath.Join(dir, c.lay.dir)); err == nil && st.IsDir() {
		dir = filepath.Join(dir, c.lay.dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("cifar: %w", err)
	}
	var total, done int64
	var names []string
	for _, e := range entries {
		c.seen = append(c.seen, e.Name())
		if info, err := e.Info(); err == nil && e.Type().IsRegular() && c.wanted(e.Name()) {
			names = append(names, e.Name())
			total += info.Size()
		}
	}
	for _, name := range names {
		p := filepath.Join(dir, name)
		b, sum, err := readHashed(p)
		if err != nil {
			return err
		}
		c.files[name] = b
		c.where[name] = p
		c.sources = append(c.sources, Source{Path: p, Bytes: int64(len(b)), SHA256: sum})
		done += int64(len(b))
		if progress != nil {
			progress(done, total)
		}
	}
	return nil
}

func readHashed(p string) ([]byte, string, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, "", fmt.Errorf("cifar: %w", err)
	}
	sum := sha256.Sum256(b)
	return b, hex.EncodeToString(sum[:]), nil
}

// finish checks the collected files and builds the Data.
func (c *collector) finish() (*Data, error) {
	d := &Data{Dataset: c.opt.Dataset, Label: c.opt.Label, Sources: c.sources}
	labelAt := 0
	if c.opt.Dataset == CIFAR100 && c.opt.Label == Fine {
		labelAt = 1
	}
	var err error
	if d.Train, err = c.split(c.lay.train, labelAt, c.lay.trainWant, "train", &d.Warnings); err != nil {
		return nil, err
	}
	if d.Test, err = c.split(c.lay.test, labelAt, c.lay.testWant, "test", &d.Warnings); err != nil {
		return nil, err
	}
	namesFile := c.lay.fineNames
	if c.opt.Label == Coarse {
		namesFile = c.lay.coarseName
	}
	if b, ok := c.files[namesFile]; ok {
		if d.Classes, err = parseNames(c.where[namesFile], b, d.NumClasses()); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// split checks and joins the batch files of one split.
func (c *collector) split(files []string, labelAt, want int, name string, warnings *[]string) (Split, error) {
	rs := c.lay.recordSize
	s := Split{recordSize: rs, labelAt: labelAt}
	// CIFAR-100 records carry (coarse, fine); check each against its range.
	limits := []int{10}
	if c.opt.Dataset == CIFAR100 {
		limits = []int{20, 100}
	}
	for _, f := range files {
		b, ok := c.files[f]
		if !ok {
			return s, &FormatError{c.src, -1, "no " + f + " found" + c.hint()}
		}
		file := c.where[f]
		if len(b) == 0 {
			return s, &FormatError{file, 0, "empty file"}
		}
		if len(b)%rs != 0 {
			msg := fmt.Sprintf("%d bytes is not a whole number of %d-byte records: the file ends inside record %d", len(b), rs, len(b)/rs)
			if other := 3073 + 3074 - rs; len(b)%other == 0 {
				msg += fmt.Sprintf(" (it is a whole number of %d-byte records: wrong --dataset?)", other)
			}
			return s, &FormatError{file, int64(len(b) / rs * rs), msg}
		}
		for r := 0; r < len(b); r += rs {
			for k, limit := range limits {
				if l := int(b[r+k]); l >= limit {
					return s, &FormatError{file, int64(r + k), fmt.Sprintf("record %d: label %d out of range [0, %d)", r/rs, l, limit)}
				}
			}
		}
		if len(files) == 1 {
			s.records = b
		} else {
			if s.records == nil {
				total := 0
				for _, f := range files {
					total += len(c.files[f])
				}
				s.records = make([]byte, 0, total)
			}
			s.records = append(s.records, b...)
		}
		c.files[f] = nil // let it be collected
	}
	if n := s.Len(); n != want {
		*warnings = append(*warnings, fmt.Sprintf("%s split has %d images, the published dataset %d", name, n, want))
	}
	return s, nil
}

// hint suggests the other dataset when its files were seen.
func (c *collector) hint() string {
	for ds, lay := range layouts {
		if ds != c.opt.Dataset && (slices.Contains(c.seen, lay.train[0]) || slices.Contains(c.seen, lay.dir)) {
			return fmt.Sprintf(" (the source holds %s: use --dataset %s)", lay.train[0], ds)
		}
	}
	return fmt.Sprintf(" (want the %s files of %s)", c.lay.dir, c.lay.archive)
}

// countingReader counts bytes and reports progress every 4 MiB.
type countingReader struct {
	r        io.Reader
	n        int64
	total    int64
	last     int64
	progress func(done, total int64)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.progress != nil && (c.n-c.last >= 4<<20 || errors.Is(err, io.EOF)) {
		c.last = c.n
		c.progress(c.n, c.total)
	}
	return n, err
}

// HashSources lists and hashes the files Load would read from src, without
// parsing them: the archive, or the dataset's files in the folder. It is the
// cheap identity of a source for up-to-date checks.
func HashSources(src string, opt Options) ([]Source, error) {
	opt, err := opt.normalized()
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(src)
	if err != nil {
		return nil, fmt.Errorf("cifar: %w", err)
	}
	if !st.IsDir() {
		_, sum, err := hashFile(src)
		if err != nil {
			return nil, err
		}
		return []Source{{Path: src, Bytes: st.Size(), SHA256: sum}}, nil
	}
	c := newCollector(src, opt)
	dir := src
	if st, err := os.Stat(filepath.Join(dir, c.lay.dir)); err == nil && st.IsDir() {
		dir = filepath.Join(dir, c.lay.dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("cifar: %w", err)
	}
	var out []Source
	for _, e := range entries {
		if e.Type().IsRegular() && c.wanted(e.Name()) {
			p := filepath.Join(dir, e.Name())
			n, sum, err := hashFile(p)
			if err != nil {
				return nil, err
			}
			out = append(out, Source{Path: p, Bytes: n, SHA256: sum})
		}
	}
	return out, nil
}

func hashFile(p string) (int64, string, error) {
	f, err := os.Open(p)
	if err != nil {
		return 0, "", fmt.Errorf("cifar: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, "", fmt.Errorf("cifar %s: %w", p, err)
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}
