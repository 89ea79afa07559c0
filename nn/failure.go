package nn

import "fmt"

// DeviceFailure is implemented by the panic values with which a Backend
// reports a failure of its device or libraries (Backend methods return no
// error). Code driving a backend turns them into errors with
// RecoverDeviceFailure; any other panic is a bug and keeps unwinding.
type DeviceFailure interface {
	error
	DeviceFailure()
}

// RecoverDeviceFailure, deferred directly by a function with a named error
// result, turns a DeviceFailure panic into that error ("device failure:
// ...", wrapping the failure) and lets every other panic continue.
//
//	func (n *Net) TrainEpoch(...) (stats EpochStats, err error) {
//		defer nn.RecoverDeviceFailure(&err)
func RecoverDeviceFailure(err *error) {
	r := recover()
	if r == nil {
		return
	}
	f, ok := r.(DeviceFailure)
	if !ok {
		panic(r)
	}
	*err = fmt.Errorf("device failure: %w", f)
}
