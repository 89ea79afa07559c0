package nn

import (
	"errors"
	"strings"
	"testing"
)

type testFailure struct{ msg string }

func (f testFailure) Error() string  { return f.msg }
func (f testFailure) DeviceFailure() {}

func failing(v any) (err error) {
	defer RecoverDeviceFailure(&err)
	if v != nil {
		panic(v)
	}
	return nil
}

func TestRecoverDeviceFailure(t *testing.T) {
	if err := failing(nil); err != nil {
		t.Fatalf("no panic: err %v", err)
	}
	err := failing(testFailure{"cuda: cuLaunchKernel: CUDA_ERROR_ILLEGAL_ADDRESS"})
	var f testFailure
	if err == nil || !errors.As(err, &f) || !strings.Contains(err.Error(), "device failure: cuda: cuLaunchKernel") {
		t.Fatalf("device failure gave err %v, want it wrapped", err)
	}
	for _, v := range []any{errors.New("plain error"), "a string"} {
		func() {
			defer func() {
				if r := recover(); r != v {
					t.Errorf("panic %v: recovered %v, want it to keep unwinding", v, r)
				}
			}()
			_ = failing(v)
			t.Errorf("panic %v was swallowed", v)
		}()
	}
}
