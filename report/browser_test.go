package report

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// browser returns the path of a Chromium binary, or "" when none is
// installed.
func browser() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// render opens page in headless Chromium, saves a width x height
// screenshot and returns the decoded image and the page's console messages
// (Chromium logs each as a line containing ":CONSOLE").
func render(t *testing.T, chromium, page string, width, height int) (image.Image, []string) {
	t.Helper()
	dir := t.TempDir()
	shot := filepath.Join(dir, "shot.png")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	abs, err := filepath.Abs(page)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--screenshot="+shot,
		"--window-size="+strconv.Itoa(width)+","+strconv.Itoa(height), "--enable-logging=stderr", "--v=0", "file://"+abs)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v\n%s", err, stderr.String())
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if out := os.Getenv("REPORT_SCREENSHOT"); out != "" && strings.HasSuffix(page, File) {
		if b, err := os.ReadFile(shot); err == nil {
			os.WriteFile(out, b, 0o644)
		}
	}
	var console []string
	for _, line := range strings.Split(stderr.String(), "\n") {
		if strings.Contains(line, ":CONSOLE") {
			console = append(console, line)
		}
	}
	return img, console
}

// colours counts the distinct colours of img and the share of its pixels
// that are not white.
func colours(img image.Image) (distinct int, inked float64) {
	seen := map[[4]uint32]bool{}
	var n, ink int
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, a := img.At(x, y).RGBA()
			seen[[4]uint32{r, g, bl, a}] = true
			n++
			if r < 0xf000 || g < 0xf000 || bl < 0xf000 {
				ink++
			}
		}
	}
	return len(seen), float64(ink) / float64(n)
}

// TestReportInBrowser renders a report in headless Chromium: the
// screenshot must show a page (many colours, a fair share of ink) and the
// page must log nothing to the console. A page that does log an error
// checks that the console capture works. Set REPORT_SCREENSHOT=FILE to keep
// the report's screenshot.
func TestReportInBrowser(t *testing.T) {
	chromium := browser()
	if chromium == "" {
		t.Skip("Chromium is not installed (Debian: apt-get install chromium; scripts/ci/browser.sh does it)")
	}
	if testing.Short() {
		t.Skip("starts a browser; skipped with -short")
	}
	path, err := Write(fakeRun(t, 2, true))
	if err != nil {
		t.Fatal(err)
	}
	img, console := render(t, chromium, path, 1280, 2400)
	if len(console) > 0 {
		t.Errorf("the report logs to the console:\n%s", strings.Join(console, "\n"))
	}
	distinct, inked := colours(img)
	t.Logf("screenshot %v: %d colours, %.1f%% ink", img.Bounds().Size(), distinct, 100*inked)
	if distinct < 100 || inked < 0.05 {
		t.Errorf("screenshot looks blank: %d colours, %.2f%% ink", distinct, 100*inked)
	}

	// Control: a blank page that logs an error is caught on both counts.
	bad := filepath.Join(t.TempDir(), "bad.html")
	os.WriteFile(bad, []byte(`<!DOCTYPE html><html><body><script>console.error("control-error")</script></body></html>`), 0o644)
	img, console = render(t, chromium, bad, 400, 300)
	if !strings.Contains(strings.Join(console, "\n"), "control-error") {
		t.Errorf("console capture missed the control page's error: %q", console)
	}
	if distinct, inked := colours(img); distinct > 3 || inked > 0 {
		t.Errorf("blank control page: %d colours, %.2f%% ink", distinct, 100*inked)
	}
}
