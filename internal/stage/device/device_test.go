package device

import (
	"strings"
	"testing"

	"pertnas/cuda"
	"pertnas/internal/stage"
)

func TestValidate(t *testing.T) {
	for _, c := range []struct {
		f    Flags
		want string // "" = valid
	}{
		{Flags{Device: "auto", Precision: "fp32"}, ""},
		{Flags{Device: "cpu", Precision: "fp32", Threads: 2}, ""},
		{Flags{Device: "cuda", Precision: "fp16"}, ""},
		{Flags{Device: "cuda:3", Precision: "bf16"}, ""},
		{Flags{Device: "tpu", Precision: "fp32"}, `--device: want auto, cpu, cuda or cuda:N, got "tpu"`},
		{Flags{Device: "cuda:-1", Precision: "fp32"}, "--device: "},
		{Flags{Device: "cuda:x", Precision: "fp32"}, "--device: "},
		{Flags{Device: "cpu", Precision: "fp8"}, "--precision: "},
		{Flags{Device: "cpu", Precision: "fp32", Threads: -1}, "--threads: must be >= 0 (0: all cores), got -1"},
	} {
		err := c.f.Validate()
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%+v: %v", c.f, err)
		case c.want != "" && (err == nil || !strings.HasPrefix(err.Error(), c.want) || !stage.IsBadInput(err)):
			t.Errorf("%+v: error %v, want bad input starting %q", c.f, err, c.want)
		}
	}
}

func TestOpenCPU(t *testing.T) {
	d, err := (&Flags{Device: "cpu", Precision: "fp32", Threads: 1}).Open()
	if err != nil {
		t.Fatal(err)
	}
	if d.CUDA || d.Description != "cpu (1 thread)" || d.WorkerBackends() != nil || d.LossScaling() {
		t.Fatalf("cpu device: %+v", d)
	}
	if b, err := d.Backend(); err != nil || b == nil {
		t.Fatalf("backend: %v", err)
	}
	_, err = (&Flags{Device: "cpu", Precision: "fp16"}).Open()
	if err == nil || !stage.IsBadInput(err) || !strings.HasPrefix(err.Error(), "--precision: fp16 needs a GPU") {
		t.Fatalf("fp16 on the CPU: %v", err)
	}
}

// TestOpenNoGPU: where no GPU is usable, auto falls back to the CPU and
// cuda / cuda:N are bad input in one line naming the folders searched.
func TestOpenNoGPU(t *testing.T) {
	if ok, _ := cuda.Available(); ok {
		t.Skip("a GPU is usable here; this test needs a machine without one")
	}
	d, err := (&Flags{Device: "auto", Precision: "fp32"}).Open()
	if err != nil || d.CUDA {
		t.Fatalf("auto without a GPU: %+v, %v", d, err)
	}
	for _, dev := range []string{"cuda", "cuda:1"} {
		_, err := (&Flags{Device: dev, Precision: "fp32"}).Open()
		if err == nil || !stage.IsBadInput(err) {
			t.Fatalf("--device %s without a GPU: %v", dev, err)
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "--device: "+dev+": no usable GPU") || strings.Contains(msg, "\n") ||
			!strings.Contains(msg, "searched /") || !strings.Contains(msg, "--cuda-lib-dir") || len(msg) > 2000 {
			t.Errorf("--device %s: message %q", dev, msg)
		}
	}
	_, err = (&Flags{Device: "cuda", Precision: "fp32", CudaLibDir: "/nonexistent/nvidia"}).Open()
	if err == nil || !strings.Contains(err.Error(), "searched /nonexistent/nvidia, ") {
		t.Errorf("--cuda-lib-dir not listed first: %v", err)
	}
}
