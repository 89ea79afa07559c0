package loader

import (
	"fmt"

	"pertnas/formats/beton"
)

// BetonSource is a Source over an open .beton file: images from the RGB
// image field and labels from the int field, found by name.
type BetonSource struct {
	r            *beton.Reader
	image, label int
}

// NewBetonSource returns a Source over r reading the fields named image
// (RGB image) and label (int), e.g. "image" and "label" for CIFAR files.
func NewBetonSource(r *beton.Reader, image, label string) (*BetonSource, error) {
	fi, err := r.FieldIndex(image)
	if err != nil {
		return nil, err
	}
	fl, err := r.FieldIndex(label)
	if err != nil {
		return nil, err
	}
	fields := r.Fields()
	if fields[fi].Type != beton.FieldImage || fields[fl].Type != beton.FieldInt {
		return nil, fmt.Errorf("beton %s: field %q is %v and %q is %v, want an RGB image and an int", r.Path(), image, fields[fi].Type, label, fields[fl].Type)
	}
	return &BetonSource{r: r, image: fi, label: fl}, nil
}

// NumSamples is the number of samples in the file.
func (s *BetonSource) NumSamples() int { return s.r.NumSamples() }

// Page is the data page holding the sample.
func (s *BetonSource) Page(i int) int { return s.r.SamplePage(i) }

// Sample returns sample i's image (aliasing the file mapping) and label.
func (s *BetonSource) Sample(i int) (Encoded, error) {
	img, err := s.r.Image(i, s.image)
	if err != nil {
		return Encoded{}, err
	}
	lab, err := s.r.Int(i, s.label)
	if err != nil {
		return Encoded{}, err
	}
	return Encoded{JPEG: img.Mode == beton.ImageJPEG, Width: img.Width, Height: img.Height, Data: img.Data, Label: lab}, nil
}
