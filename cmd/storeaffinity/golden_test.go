package main

import (
	"bytes"
	"github.com/storeaffinity/storeaffinity/internal/golden"
	"path/filepath"
	"testing"
)

// checkGolden compares got with testdata/<name>.golden (go test -update rewrites it).
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", name+".golden"), got)
}

// run executes the command line args and returns its output and error.
func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := execute(args, &out)
	return out.String(), err
}
