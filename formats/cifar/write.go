package cifar

import (
	"archive/tar"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
)

// Records is a CIFAR-10 record stream: for each image a label byte then 3072
// bytes of R, G, B planes.
type Records []byte

// Len is the number of records.
func (r Records) Len() int { return len(r) / (1 + PixelBytes) }

// archiveTime is the modification time stamped on every archive member, so
// that the same records give the same archive bytes.
var archiveTime = time.Date(2009, 6, 1, 0, 0, 0, 0, time.UTC)

// WriteArchive10 writes a .tar.gz archive in the layout of the published
// cifar-10-binary.tar.gz: cifar-10-batches-bin/ holding data_batch_1..5.bin
// (train split into five near-equal batches, in order), test_batch.bin and
// batches.meta.txt (one class name a line). level is the gzip level
// (gzip.BestSpeed .. gzip.BestCompression, or gzip.DefaultCompression). The
// output depends only on the arguments.
func WriteArchive10(w io.Writer, train, test Records, classes []string, level int) error {
	const rs = 1 + PixelBytes
	if len(train)%rs != 0 || len(test)%rs != 0 {
		return fmt.Errorf("cifar archive: records are not whole %d-byte records", rs)
	}
	if len(classes) != 10 {
		return fmt.Errorf("cifar archive: %d class names, want 10", len(classes))
	}
	zw, err := gzip.NewWriterLevel(w, level)
	if err != nil {
		return fmt.Errorf("cifar archive: %w", err)
	}
	tw := tar.NewWriter(zw)
	dir := layouts[CIFAR10].dir + "/"
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: dir, Mode: 0o755, ModTime: archiveTime, Format: tar.FormatUSTAR}); err != nil {
		return fmt.Errorf("cifar archive: %w", err)
	}
	put := func(name string, b []byte) error {
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: dir + name, Mode: 0o644, Size: int64(len(b)), ModTime: archiveTime, Format: tar.FormatUSTAR}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("cifar archive %s: %w", name, err)
		}
		if _, err := tw.Write(b); err != nil {
			return fmt.Errorf("cifar archive %s: %w", name, err)
		}
		return nil
	}
	n := train.Len()
	for k, name := range layouts[CIFAR10].train {
		lo, hi := k*n/5, (k+1)*n/5
		if err := put(name, train[lo*rs:hi*rs]); err != nil {
			return err
		}
	}
	if err := put(layouts[CIFAR10].test[0], test); err != nil {
		return err
	}
	if err := put(layouts[CIFAR10].fineNames, []byte(strings.Join(classes, "\n")+"\n\n")); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("cifar archive: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("cifar archive: %w", err)
	}
	return nil
}
