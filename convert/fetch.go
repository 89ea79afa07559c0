package convert

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"pertnas/formats/cifar"
)

// Official download addresses and published MD5 sums of the binary archives.
var (
	DefaultURL = map[cifar.Dataset]string{
		cifar.CIFAR10:  "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
		cifar.CIFAR100: "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz",
	}
	DefaultMD5 = map[cifar.Dataset]string{
		cifar.CIFAR10:  "c32a1d4ab5d03f1284b67883e8d87530",
		cifar.CIFAR100: "03b5dce01913d631647c71ecec9e9cb8",
	}
)

// Fetch makes sure dest holds the dataset's archive: if it already exists
// with the expected MD5 nothing is downloaded; otherwise it is downloaded
// from opt.URL (default DefaultURL) into dest+".part", resuming a partial
// download with an HTTP range request where the server allows, checked
// against opt.MD5 (default DefaultMD5) and renamed to dest.
func Fetch(ctx context.Context, opt Options, dest string) error {
	opt, err := opt.normalized()
	if err != nil {
		return err
	}
	url, want := opt.URL, strings.ToLower(opt.MD5)
	if url == "" {
		url = DefaultURL[opt.Dataset]
	}
	if want == "" {
		want = DefaultMD5[opt.Dataset]
	}
	if sum, err := md5File(dest); err == nil && sum == want {
		return nil
	}
	part := dest + ".part"
	if err := download(ctx, opt, url, part); err != nil {
		return fmt.Errorf("convert: download %s: %w\nWithout network access, download %s on another machine and pass --src PATH, or put it at %s",
			url, err, opt.Dataset.ArchiveName(), dest)
	}
	sum, err := md5File(part)
	if err != nil {
		return fmt.Errorf("convert: %w", err)
	}
	if sum != want {
		os.Remove(part)
		return fmt.Errorf("convert: download %s: MD5 %s, want %s (the file is damaged or not the %s archive; removed)", url, sum, want, opt.Dataset.ArchiveName())
	}
	if err := os.Rename(part, dest); err != nil {
		return fmt.Errorf("convert: %w", err)
	}
	return nil
}

// download fetches url into part, continuing after the bytes part already
// holds when the server honours the range request.
func download(ctx context.Context, opt Options, url, part string) error {
	if err := os.MkdirAll(filepath.Dir(part), 0o755); err != nil {
		return err
	}
	var have int64
	if st, err := os.Stat(part); err == nil {
		have = st.Size()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	if have > 0 {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(have, 10)+"-")
	}
	resp, err := opt.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	flags := os.O_WRONLY | os.O_CREATE
	switch {
	case resp.StatusCode == http.StatusPartialContent && have > 0 && strings.HasPrefix(resp.Header.Get("Content-Range"), fmt.Sprintf("bytes %d-", have)):
		flags |= os.O_APPEND // resume after the bytes we have
	case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable && have > 0:
		return nil // part is already whole; the MD5 check decides
	case resp.StatusCode == http.StatusOK:
		flags |= os.O_TRUNC
		have = 0
	default:
		return errors.New(resp.Status)
	}
	f, err := os.OpenFile(part, flags, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	total := int64(-1)
	if resp.ContentLength >= 0 {
		total = have + resp.ContentLength
	}
	pw := &progressWriter{w: f, done: have, total: total, report: opt.Progress}
	if _, err := io.Copy(pw, resp.Body); err != nil {
		return err
	}
	return f.Sync()
}

type progressWriter struct {
	w           io.Writer
	done, total int64
	last        int64
	report      ProgressFunc
}

func (p *progressWriter) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	p.done += int64(n)
	if p.done-p.last >= 1<<20 {
		p.last = p.done
		p.report("download", p.done, p.total)
	}
	return n, err
}

func md5File(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := md5.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("%s: %w", p, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
