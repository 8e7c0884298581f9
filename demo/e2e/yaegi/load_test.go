package yaegi

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"testing"

	"github.com/storeaffinity/storeaffinity/demo/harness/stack"
	"github.com/storeaffinity/storeaffinity/demo/tools/probes"
	"github.com/traefik/yaegi/interp"
	"github.com/traefik/yaegi/stdlib"
)

// newInterpreter lays out the plugin sources in a temporary GOPATH and returns an
// interpreter that has imported the given packages, configured as Traefik does.
func newInterpreter(tb testing.TB, imports ...string) *interp.Interpreter {
	tb.Helper()
	gopath := tb.TempDir()
	if err := stack.UnpackPlugins(gopath); err != nil {
		tb.Fatal(err)
	}
	if err := probes.InstallFloorPlugin(gopath); err != nil {
		tb.Fatal(err)
	}
	if err := probes.InstallLeastPlugin(gopath); err != nil {
		tb.Fatal(err)
	}
	i := interp.New(interp.Options{GoPath: gopath})
	if err := i.Use(stdlib.Symbols); err != nil {
		tb.Fatal(err)
	}
	for _, imp := range imports {
		if _, err := i.Eval(fmt.Sprintf("import %q", imp)); err != nil {
			tb.Fatalf("import %s under Yaegi: %v", imp, err)
		}
	}
	return i
}

// interpretedBuilder returns a builder that makes the middleware of package pkg (its
// Go name is base) exactly as Traefik v3.6 does: CreateConfig, a mapstructure decode
// with comma-separated lists, then New called through reflection.
func interpretedBuilder(tb testing.TB, i *interp.Interpreter, base string) func(ctx context.Context, next http.Handler, config map[string]any, name string) (http.Handler, error) {
	createConfig := mustEval(tb, i, base+".CreateConfig")
	newFn := mustEval(tb, i, base+".New")
	return func(ctx context.Context, next http.Handler, config map[string]any, name string) (http.Handler, error) {
		cfg := createConfig.Call(nil)[0]
		if err := stack.DecodePluginConfig(config, cfg.Interface()); err != nil {
			return nil, err
		}
		results := newFn.Call([]reflect.Value{reflect.ValueOf(ctx), reflect.ValueOf(next), cfg, reflect.ValueOf(name)})
		if errValue := results[1].Interface(); errValue != nil {
			return nil, errValue.(error)
		}
		return results[0].Interface().(http.Handler), nil
	}
}

func mustEval(tb testing.TB, i *interp.Interpreter, expr string) reflect.Value {
	tb.Helper()
	v, err := i.Eval(expr)
	if err != nil {
		tb.Fatalf("eval %s: %v", expr, err)
	}
	return v
}
