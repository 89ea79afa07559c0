// Package stagetest runs a stage's main function in a child process of its
// own test binary, so that a test sees the real exit status and stderr.
package stagetest

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"testing"
)

// runMainEnv, set to "1" in a child's environment, makes Main run the
// stage instead of the tests.
const runMainEnv = "PERTNAS_STAGETEST_RUN_MAIN"

// Main is the body of a stage test package's TestMain: in a child started
// by Run it runs main (exiting 0 if main returns), otherwise the tests.
func Main(m *testing.M, main func()) {
	if os.Getenv(runMainEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// Run runs the stage with args in a child process and returns its exit
// status and stderr.
func Run(t testing.TB, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), runMainEnv+"=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), stderr.String()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, stderr.String()
}
