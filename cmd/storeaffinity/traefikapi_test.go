package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// fakeTraefik serves Traefik's API on 127.0.0.1 and returns its base URL: middlewares
// is the answer of /api/http/middlewares, and services maps a service's full name to
// the answer of /api/http/services/<name>; any other path is a 404.
func fakeTraefik(t *testing.T, middlewares any, services map[string]any) string {
	t.Helper()
	return fakeTraefikWith(t, middlewares, services, nil)
}

// fakeTraefikWith is fakeTraefik that also answers the paths of extra, such as
// /api/http/routers. Routers and entry points are empty lists unless extra has them,
// as in a Traefik whose provider has no metrics option.
func fakeTraefikWith(t *testing.T, middlewares any, services map[string]any, extra map[string]any) string {
	t.Helper()
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var answer any
		if r.URL.Path == "/api/http/middlewares" {
			answer = middlewares
		} else if name, ok := strings.CutPrefix(r.URL.Path, "/api/http/services/"); ok && services[name] != nil {
			answer = services[name]
		} else if extra[r.URL.Path] != nil {
			answer = extra[r.URL.Path]
		} else if r.URL.Path == "/api/http/routers" || r.URL.Path == "/api/entrypoints" {
			answer = []any{}
		} else {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(answer)
	}))
	t.Cleanup(server.Close)
	return server.URL
}

// apiMiddlewareAnswer is a storeaffinity middleware as Traefik's API lists it; errors
// go in the "error" field, as Traefik reports a middleware it could not build.
func apiMiddlewareAnswer(name, status, strategy string, members []string, errors ...string) map[string]any {
	provider := name[strings.Index(name, "@")+1:]
	answer := map[string]any{
		"name":     name,
		"provider": provider,
		"status":   status,
		"type":     "storeaffinity",
		"usedBy":   []string{"pos@" + provider},
		"plugin": map[string]any{"storeaffinity": map[string]any{
			"members":      members,
			"stickyCookie": map[string]any{"name": "sa_member"},
			"strategy":     strategy,
		}},
	}
	if len(errors) > 0 {
		answer["error"] = errors
	}
	return answer
}

// apiServiceAnswer is a member's child service with one server, as Traefik's API shows it.
func apiServiceAnswer(url, status string) map[string]any {
	return map[string]any{
		"loadBalancer": map[string]any{"servers": []any{map[string]any{"url": url}}},
		"serverStatus": map[string]string{url: status},
		"status":       "enabled",
	}
}

// pluginError is what Traefik reports of a storeaffinity middleware its plugin refused.
const pluginError = `plugin: failed to create middleware: --strategy: unknown strategy "ring"`

// disabledTraefik serves one disabled middleware whose members' servers are UP.
func disabledTraefik(t *testing.T) string {
	members := []string{"pos-pos-0", "pos-pos-1"}
	return fakeTraefik(t, []any{apiMiddlewareAnswer("pos-affinity@plugin-storeaffinityprovider", "disabled", "ring", members, pluginError)},
		map[string]any{
			"pos-pos-0@plugin-storeaffinityprovider": apiServiceAnswer("http://10.0.0.5:8080", "UP"),
			"pos-pos-1@plugin-storeaffinityprovider": apiServiceAnswer("http://10.0.0.6:8080", "UP"),
		})
}

// checkDisabledError checks that err is one line naming the middleware and Traefik's error.
func checkDisabledError(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		t.Fatal("no error, want one: Traefik routes nothing through a disabled middleware")
	}
	for _, want := range []string{"pos-affinity@plugin-storeaffinityprovider", "disabled", pluginError} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error %q is more than one line", err)
	}
}

func TestRouteFailsOnADisabledMiddleware(t *testing.T) {
	out, err := run(t, "route", "--traefik="+disabledTraefik(t), "00123-001")
	checkDisabledError(t, err)
	if out != "" {
		t.Errorf("route printed a placement through a disabled middleware:\n%s", out)
	}
}

func TestPlanFailsOnADisabledMiddleware(t *testing.T) {
	out, err := run(t, "plan", "--traefik="+disabledTraefik(t), "--to=pos-pos-0,pos-pos-1,pos-pos-2", "--stores=100")
	checkDisabledError(t, err)
	if out != "" {
		t.Errorf("plan printed a plan from a disabled middleware:\n%s", out)
	}
}

// TestAPIAnswersCannotWriteEscapeSequences: every name, strategy, URL, status and error
// that Traefik's API gives is printed with its control characters escaped, in the output
// and in the error alike.
func TestAPIAnswersCannotWriteEscapeSequences(t *testing.T) {
	const hostile = "\x1b[2J\x1b]0;owned\x07\r\u009b31m\u202e\n"
	name := "pos-affinity" + hostile + "@file" + hostile
	members := []string{"pos-pos-0", "pos-pos-1"}
	services := map[string]any{
		"pos-pos-0@file" + hostile: apiServiceAnswer("http://10.0.0.5:8080/"+hostile, "UP"+hostile),
		"pos-pos-1@file" + hostile: apiServiceAnswer("http://10.0.0.6:8080", "DOWN"),
	}
	withPattern := apiMiddlewareAnswer(name, "enabled", "rendezvous", members)
	withPattern["plugin"].(map[string]any)["storeaffinity"].(map[string]any)["storeIdPattern"] = "(?P<store>" + hostile
	tests := []struct {
		name        string
		middlewares []any
		args        []string
	}{
		{"status with a warning", []any{apiMiddlewareAnswer(name, "warning"+hostile, "rendezvous", members, "bad"+hostile)}, []string{"status", "--stores=10"}},
		{"status of a disabled middleware", []any{apiMiddlewareAnswer(name, "disabled", "rendezvous", members, "bad"+hostile)}, []string{"status", "--stores=10"}},
		{"status with a bad strategy", []any{apiMiddlewareAnswer(name, "enabled", "ring"+hostile, members)}, []string{"status", "--stores=10"}},
		{"status with a bad member", []any{apiMiddlewareAnswer(name, "enabled", "rendezvous", []string{"pos" + hostile})}, []string{"status", "--stores=10"}},
		{"status of an unknown middleware", []any{apiMiddlewareAnswer(name, "enabled", "rendezvous", members)}, []string{"status", "--middleware=nope"}},
		{"route of an unknown middleware", []any{apiMiddlewareAnswer(name, "enabled", "rendezvous", members)}, []string{"route", "--middleware=nope", "00123-001"}},
		{"route through several middlewares", []any{apiMiddlewareAnswer(name, "enabled", "rendezvous", members), apiMiddlewareAnswer("b"+name, "enabled", "rendezvous", members)}, []string{"route", "00123-001"}},
		{"route with a bad pattern", []any{withPattern}, []string{"route", "00123-001"}},
		{"route through a disabled middleware", []any{apiMiddlewareAnswer(name, "disabled", "rendezvous", members, "bad"+hostile)}, []string{"route", "00123-001"}},
		{"plan from a disabled middleware", []any{apiMiddlewareAnswer(name, "disabled", "rendezvous", members, "bad"+hostile)}, []string{"plan", "--to=pos-pos-0", "--stores=10"}},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			base := fakeTraefik(t, test.middlewares, services)
			out, err := run(t, append([]string{test.args[0], "--traefik=" + base}, test.args[1:]...)...)
			printed := out
			if err != nil {
				printed += "\nerror: " + err.Error()
			}
			for _, r := range printed {
				if r != '\n' && !strconv.IsPrint(r) {
					t.Fatalf("storeaffinity %s printed %U from Traefik's API unescaped:\n%q", strings.Join(test.args, " "), r, printed)
				}
			}
			if err != nil && strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q is more than one line", err)
			}
		})
	}
}

// TestAPIAnswerSizeIsBounded: an answer larger than the bound is refused with an error
// saying so, rather than read whole or cut into broken JSON.
func TestAPIAnswerSizeIsBounded(t *testing.T) {
	huge := apiMiddlewareAnswer("pos-affinity@file", "enabled", "rendezvous", []string{"pos-pos-0"})
	huge["usedBy"] = []string{strings.Repeat("x", 9<<20)} // more than the 8 MiB bound
	base := fakeTraefik(t, []any{huge}, map[string]any{"pos-pos-0@file": apiServiceAnswer("http://10.0.0.5:8080", "UP")})
	for _, args := range [][]string{{"status", "--stores=10"}, {"route", "00123-001"}} {
		_, err := run(t, append([]string{args[0], "--traefik=" + base}, args[1:]...)...)
		if err == nil || !strings.Contains(err.Error(), "larger than 8 MiB") {
			t.Errorf("storeaffinity %s with a 9 MiB answer: error %v, want one saying it is larger than 8 MiB", args[0], err)
		}
	}
}

// TestMetricsMiddlewareIsNoAffinityMiddleware: the middleware that serves the
// metrics, as Traefik's API lists it, is not among the middlewares that status shows
// and that route and plan choose from.
func TestMetricsMiddlewareIsNoAffinityMiddleware(t *testing.T) {
	middlewares, services := posMiddlewares()
	middlewares = append(middlewares, map[string]any{
		"name": "storeaffinity-metrics@plugin-storeaffinityprovider", "provider": "plugin-storeaffinityprovider",
		"status": "enabled", "type": "storeaffinity", "usedBy": []string{"storeaffinity-metrics@plugin-storeaffinityprovider"},
		"plugin": map[string]any{"storeaffinity": map[string]any{"members": nil, "serveMetrics": true, "stickyCookie": ""}},
	})
	base := fakeTraefik(t, middlewares, services)
	for _, args := range [][]string{{"status", "--stores=100"}, {"route", "00123-001"}, {"plan", "--to=pos-pos-0", "--stores=100"}} {
		out, err := run(t, append([]string{args[0], "--traefik=" + base}, args[1:]...)...)
		if err != nil {
			t.Errorf("storeaffinity %s: %v\n%s", args[0], err, out)
		}
		if strings.Contains(out, "storeaffinity-metrics") {
			t.Errorf("storeaffinity %s shows the metrics' middleware:\n%s", args[0], out)
		}
	}
}
