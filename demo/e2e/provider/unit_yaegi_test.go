package provider

import (
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/storeaffinity/storeaffinity/demo/harness/stack"
	"github.com/traefik/yaegi/interp"
	"github.com/traefik/yaegi/stdlib"
)

// TestUnitTestsUnderYaegi runs the provider package's own tests, interpreted by
// Yaegi v0.16.1, so that the same tables run compiled and interpreted.
func TestUnitTestsUnderYaegi(t *testing.T) {
	gopath := t.TempDir()
	// The module zip holds the package's tests and testdata, as a published
	// version does.
	if err := stack.UnpackPlugins(gopath); err != nil {
		t.Fatal(err)
	}
	pkgDir := stack.PluginDir(gopath, stack.ProviderModule)

	i := interp.New(interp.Options{GoPath: gopath, Env: os.Environ()})
	if err := i.Use(stdlib.Symbols); err != nil {
		t.Fatal(err)
	}
	importPath := stack.ProviderModule
	if err := i.EvalTest(importPath); err != nil {
		t.Fatalf("interpret the provider tests: %v", err)
	}
	var names []string
	tests := make(map[string]func(*testing.T))
	for name, sym := range i.Symbols(importPath)[importPath] {
		if fn, ok := sym.Interface().(func(*testing.T)); ok && strings.HasPrefix(name, "Test") {
			names = append(names, name)
			tests[name] = fn
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		t.Fatal("no tests found")
	}
	t.Chdir(pkgDir) // the tests read testdata/
	for _, name := range names {
		t.Run(name, tests[name])
	}
}
