package imagenet

import (
	"bytes"
	"image"
	"image/jpeg"
	"strings"
	"testing"
)

// TestEncodeImageRefusesHugeHeader: a small JPEG whose frame header claims
// 65535x65535 pixels is refused from its header, before decoding would
// allocate 4 Gpx.
func TestEncodeImageRefusesHugeHeader(t *testing.T) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, image.NewGray(image.Rect(0, 0, 9, 5)), nil); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	sof := bytes.Index(data, []byte{0xFF, 0xC0})
	if sof < 0 {
		t.Fatal("no SOF0 marker")
	}
	// SOF0: marker, length(2), precision(1), height(2), width(2)
	copy(data[sof+5:], []byte{0xFF, 0xFF, 0xFF, 0xFF})
	_, err := encodeImage(data, 16, 90)
	if err == nil || !strings.Contains(err.Error(), "65535x65535") || !strings.Contains(err.Error(), "limit") {
		t.Fatalf("huge header: %v", err)
	}
}
