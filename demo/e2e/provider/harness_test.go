package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/storeaffinity/storeaffinity-provider"
	"github.com/storeaffinity/storeaffinity/demo/harness/stack"
	"github.com/traefik/yaegi/interp"
	"github.com/traefik/yaegi/stdlib"
)

// PP is Traefik's interface of a provider plugin (pkg/plugins/providers.go).
type PP interface {
	Init() error
	Provide(cfgChan chan<- json.Marshaler) error
	Stop() error
}

// _PP is the compiled wrapper Yaegi uses to hand an interpreted PP to compiled code.
type _PP struct {
	IValue   any
	WInit    func() error
	WProvide func(cfgChan chan<- json.Marshaler) error
	WStop    func() error
}

func (p _PP) Init() error                                 { return p.WInit() }
func (p _PP) Provide(cfgChan chan<- json.Marshaler) error { return p.WProvide(cfgChan) }
func (p _PP) Stop() error                                 { return p.WStop() }

// ppImport is the import path of PP. Yaegi finds an interface's wrapper by the
// interface's real package path, so PP is registered under this package's path
// rather than Traefik's, and the wrapper code imports it from here.
var ppImport = reflect.TypeOf((*PP)(nil)).Elem().PkgPath()

// ppSymbols registers PP and its wrapper, as Traefik does in pkg/plugins/providers.go.
func ppSymbols() map[string]map[string]reflect.Value {
	return map[string]map[string]reflect.Value{
		ppImport + "/provider": {
			"PP":  reflect.ValueOf((*PP)(nil)),
			"_PP": reflect.ValueOf((*_PP)(nil)),
		},
	}
}

// runtimes are the two ways the provider runs: compiled, and interpreted as in Traefik.
var runtimes = []string{"compiled", "yaegi"}

// decode fills a configuration from a map exactly as Traefik does for provider plugins.
func decode(config map[string]any, result any) error {
	return stack.DecodePluginConfig(config, result)
}

// newProvider builds the provider in the given runtime; Init is not called yet.
func newProvider(t testing.TB, runtime string, config map[string]any) PP {
	t.Helper()
	if runtime == "compiled" {
		cfg := provider.CreateConfig()
		if err := decode(config, cfg); err != nil {
			t.Fatal(err)
		}
		p, err := provider.New(context.Background(), cfg, "plugin-test")
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	pp, err := newYaegiProvider(t.TempDir(), config)
	if err != nil {
		t.Fatal(err)
	}
	return pp
}

// newYaegiProvider follows Traefik's newInterpreter and newProvider.
func newYaegiProvider(gopath string, config map[string]any) (PP, error) {
	if err := stack.UnpackPlugins(gopath); err != nil {
		return nil, err
	}
	i := interp.New(interp.Options{GoPath: gopath})
	if err := i.Use(stdlib.Symbols); err != nil {
		return nil, err
	}
	if err := i.Use(ppSymbols()); err != nil {
		return nil, err
	}
	const importPath = stack.ProviderModule
	if _, err := i.Eval(`import "` + importPath + `"`); err != nil {
		return nil, fmt.Errorf("import provider: %w", err)
	}
	vConfig, err := i.Eval(`provider.CreateConfig()`)
	if err != nil {
		return nil, err
	}
	if err := decode(config, vConfig.Interface()); err != nil {
		return nil, fmt.Errorf("decode configuration: %w", err)
	}
	_, err = i.Eval(`package wrapper

import (
	"context"

	provider "` + importPath + `"
	plugins "` + ppImport + `"
)

func NewWrapper(ctx context.Context, config *provider.Config, name string) (plugins.PP, error) {
	p, err := provider.New(ctx, config, name)
	var pv plugins.PP = p
	return pv, err
}
`)
	if err != nil {
		return nil, fmt.Errorf("eval wrapper: %w", err)
	}
	fnNew, err := i.Eval("wrapper.NewWrapper")
	if err != nil {
		return nil, err
	}
	results := fnNew.Call([]reflect.Value{reflect.ValueOf(context.Background()), vConfig, reflect.ValueOf("plugin-test")})
	if err, _ := results[1].Interface().(error); err != nil {
		return nil, err
	}
	pp, ok := results[0].Interface().(PP)
	if !ok {
		return nil, fmt.Errorf("invalid provider type %T", results[0].Interface())
	}
	return pp, nil
}

// emitted is the part of the emitted configuration the tests read.
type emitted struct {
	HTTP struct {
		Services map[string]struct {
			LoadBalancer *struct {
				Servers []struct {
					URL string `json:"url"`
				} `json:"servers"`
			} `json:"loadBalancer"`
			Weighted *struct {
				Services []struct {
					Name string `json:"name"`
				} `json:"services"`
			} `json:"weighted"`
		} `json:"services"`
		Middlewares map[string]struct {
			Plugin map[string]struct {
				Members      []string `json:"members"`
				StickyCookie string   `json:"stickyCookie"`
			} `json:"plugin"`
		} `json:"middlewares"`
	} `json:"http"`
	raw      []byte
	received time.Time
}

// Members returns the app's members as "service=url" items, sorted, checking that
// the weighted service and the middleware agree with the member services.
func (e *emitted) Members(app string) (string, error) {
	mw, ok := e.HTTP.Middlewares[app+"-affinity"]
	if !ok {
		return "", fmt.Errorf("no middleware %s-affinity", app)
	}
	members := mw.Plugin["storeaffinity"].Members
	weighted := e.HTTP.Services[app].Weighted
	if weighted == nil || len(weighted.Services) != len(members) {
		return "", fmt.Errorf("weighted service %s does not list the %d members", app, len(members))
	}
	var items []string
	for i, name := range members {
		if weighted.Services[i].Name != name {
			return "", fmt.Errorf("weighted child %d is %s, middleware member is %s", i, weighted.Services[i].Name, name)
		}
		lb := e.HTTP.Services[name].LoadBalancer
		if lb == nil || len(lb.Servers) != 1 {
			return "", fmt.Errorf("member service %s has no single server", name)
		}
		items = append(items, name+"="+lb.Servers[0].URL)
	}
	sort.Strings(items)
	return strings.Join(items, ","), nil
}

// running is a provider whose configurations arrive on configs.
type running struct {
	configs chan *emitted
	stop    func()
}

// start runs Init and Provide and decodes every configuration sent.
func start(t testing.TB, pp PP) *running {
	t.Helper()
	if err := pp.Init(); err != nil {
		t.Fatalf("Init: %v", err)
	}
	cfgChan := make(chan json.Marshaler)
	r := &running{configs: make(chan *emitted, 100)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-ctx.Done():
				return
			case m := <-cfgChan:
				data, err := m.MarshalJSON()
				if err != nil {
					t.Errorf("MarshalJSON: %v", err)
					continue
				}
				e := &emitted{raw: data, received: time.Now()}
				if err := json.Unmarshal(data, e); err != nil {
					t.Errorf("emitted configuration is not JSON: %v", err)
					continue
				}
				r.configs <- e
			}
		}
	}()
	if err := pp.Provide(cfgChan); err != nil {
		t.Fatalf("Provide: %v", err)
	}
	r.stop = func() {
		stopped := make(chan error, 1)
		go func() { stopped <- pp.Stop() }()
		select {
		case err := <-stopped:
			if err != nil {
				t.Errorf("Stop: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("Stop did not return within 10s")
		}
		cancel()
		<-done
	}
	t.Cleanup(r.stop)
	return r
}

// waitMembers waits for a configuration whose members of app equal want.
func (r *running) waitMembers(t testing.TB, app, want string, timeout time.Duration) *emitted {
	t.Helper()
	deadline := time.After(timeout)
	last := "(no configuration)"
	for {
		select {
		case e := <-r.configs:
			got, err := e.Members(app)
			if err != nil {
				t.Fatalf("emitted configuration: %v\n%s", err, e.raw)
			}
			if got == want {
				return e
			}
			last = got
		case <-deadline:
			t.Fatalf("members of %s after %s: %q, want %q", app, timeout, last, want)
			return nil
		}
	}
}

// expectQuiet fails when a configuration arrives within d.
func (r *running) expectQuiet(t testing.TB, d time.Duration) {
	t.Helper()
	select {
	case e := <-r.configs:
		t.Fatalf("unexpected configuration:\n%s", e.raw)
	case <-time.After(d):
	}
}
