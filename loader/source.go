package loader

import "fmt"

// Encoded is one stored sample as a Source hands it out: an RGB image, raw
// (Height*Width*3 bytes, HWC, row major) or a baseline JPEG file, and its
// integer label. Data may alias the source's storage and is only read.
type Encoded struct {
	JPEG          bool
	Width, Height int
	Data          []byte
	Label         int64
}

// Source is random access to stored samples. Sample must be safe for
// concurrent use by several goroutines. Page reports the storage page that
// holds a sample (used by the QuasiRandom order); a source without pages may
// return 0 for every sample.
type Source interface {
	NumSamples() int
	Sample(i int) (Encoded, error)
	Page(i int) int
}

// MemorySource is a Source over raw images held in memory: image i is
// Images[i] (Height*Width*3 bytes, HWC) with label Labels[i]. PageOf, if not
// nil, gives each sample's page. It serves tests and synthetic data.
type MemorySource struct {
	Width, Height int
	Images        [][]byte
	Labels        []int64
	PageOf        []int
}

// NumSamples returns len(m.Images).
func (m *MemorySource) NumSamples() int { return len(m.Images) }

// Sample returns image i and its label.
func (m *MemorySource) Sample(i int) (Encoded, error) {
	if i < 0 || i >= len(m.Images) || i >= len(m.Labels) {
		return Encoded{}, fmt.Errorf("memory source: sample %d out of range [0, %d)", i, len(m.Images))
	}
	return Encoded{Width: m.Width, Height: m.Height, Data: m.Images[i], Label: m.Labels[i]}, nil
}

// Page returns PageOf[i], or 0 when PageOf is nil.
func (m *MemorySource) Page(i int) int {
	if m.PageOf == nil {
		return 0
	}
	return m.PageOf[i]
}
