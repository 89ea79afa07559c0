package device

import "testing"

// TestDeterministicFlag: --deterministic reaches the GPU backend's options
// and the Device (which the stages pin in run.json / the checkpoint).
func TestDeterministicFlag(t *testing.T) {
	for _, det := range []bool{false, true} {
		f := Flags{Device: "cpu", Precision: "fp32", Kernels: "auto", Deterministic: det}
		d, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		if d.Deterministic != det || d.opts.Deterministic != det {
			t.Errorf("--deterministic=%v: Device.Deterministic %v, cuda options %v", det, d.Deterministic, d.opts.Deterministic)
		}
	}
}
