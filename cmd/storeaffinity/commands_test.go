package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOutputsMatchGoldenFiles(t *testing.T) {
	tests := []struct {
		golden string
		args   []string
	}{
		{"route", []string{"route", "--members=pos-0,pos-1,pos-2", "--stores=00123", "00123-001", "00123-002", "00456-001", "00789-cx"}},
		{"route-app", []string{"route", "--app=pos", "--members=pos-0,pos-1,pos-2", "00123-001", "00123-002", "00456-001"}},
		{"plan-app", []string{"plan", "--app=pos", "--from=pos-0,pos-1,pos-2", "--to=pos-0,pos-1,pos-2,pos-3", "--stores=20000"}},
		{"route-modulo", []string{"route", "--members=pos-2,pos-0,pos-1", "--strategy=modulo", "00123-001", "00456-001"}},
		{"route-pattern", []string{"route", "--members=pos-0,pos-1,pos-2", "--storeIdPattern=^S(?P<store>[0-9]+)D", "S00123D01", "S00123D02"}},
		{"plan-3-to-4", []string{"plan", "--from=pos-0,pos-1,pos-2", "--to=pos-0,pos-1,pos-2,pos-3", "--list=5"}},
		{"plan-remove", []string{"plan", "--from=pos-0,pos-1,pos-2,pos-3", "--to=pos-0,pos-1,pos-3", "--storesFile=testdata/stores.txt"}},
		{"migrate", []string{"migrate", "--app=pos", "testdata/statelb.toml"}},
		{"migrate-openpos", []string{"migrate", "--app=pos", "--strategy=modulo", "testdata/statelb-openpos.toml"}},
		{"route-stomp", []string{"route", "--app=pos", "--members=pos-0,pos-1,pos-2", "--stompFrames=testdata/connect-pos.stomp,testdata/connect-cx.stomp", "00123-003"}},
		{"migrate-local", []string{"migrate", "--pluginSource=local", "--stateLBConfig=testdata/statelb-minimal.toml"}},
		{"help", []string{"--help"}},
		{"route-help", []string{"route", "--help"}},
		{"plan-help", []string{"plan", "-h"}},
		{"migrate-help", []string{"migrate", "--help"}},
		{"members-help", []string{"members", "--help"}},
	}
	for _, test := range tests {
		t.Run(test.golden, func(t *testing.T) {
			out, err := run(t, test.args...)
			if err != nil {
				t.Fatalf("storeaffinity %s: %v", strings.Join(test.args, " "), err)
			}
			checkGolden(t, test.golden, []byte(out))
		})
	}
}

func TestBadInputNamesTheFlagOrKey(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown command", []string{"rout"}, `unknown command "rout"`},
		{"unknown flag", []string{"route", "--membrs=a", "x-1"}, "unknown flag --membrs"},
		{"no members", []string{"route", "00123-001"}, "--members: at least one member"},
		{"bad strategy", []string{"route", "--members=a", "--strategy=ring", "x-1"}, `--strategy: unknown strategy "ring"`},
		{"duplicate member", []string{"route", "--members=a,a", "x-1"}, `--members: duplicate member "a"`},
		{"pattern without group", []string{"route", "--members=a", "--storeIdPattern=^x", "x-1"}, "--storeIdPattern"},
		{"nothing to route", []string{"route", "--members=a"}, "nothing to route"},
		{"member name the middleware refuses", []string{"route", "--members=pos 0,pos-1", "00123-001"}, `--members: "pos 0" has characters other than`},
		{"frame not CONNECT", []string{"route", "--members=a", "--stompFrames=testdata/subscribe.stomp"}, "--stompFrames: testdata/subscribe.stomp: the first STOMP frame is not CONNECT or STOMP"},
		{"frame without the header", []string{"route", "--members=a", "--stompDeviceIdHeader=device", "--stompFrames=testdata/connect-pos.stomp"}, "the frame has no device header"},
		{"migrate bad app name", []string{"migrate", "--app=bad name", "testdata/statelb.toml"}, `--app: "bad name"`},
		{"migrate bad plugin version", []string{"migrate", "--pluginVersion=latest", "testdata/statelb.toml"}, `--pluginVersion: "latest" is not a release tag`},
		{"migrate bad strategy", []string{"migrate", "--strategy=ring", "testdata/statelb.toml"}, `--strategy: unknown strategy "ring"`},
		{"relative STOMP path", []string{"migrate", "--stompConnectPaths=api/websocket", "testdata/statelb.toml"}, `--stompConnectPaths: "api/websocket": want a path`},
		{"rejected device", []string{"route", "--members=a", "00123-001", "../etc"}, "1 of 2 device IDs rejected"},
		{"bad number", []string{"plan", "--from=a", "--to=b", "--stores=many"}, `--stores: invalid value "many"`},
		{"no from", []string{"plan", "--to=b"}, "--from: at least one member"},
		{"missing stores file", []string{"plan", "--from=a", "--to=b", "--storesFile=testdata/none.txt"}, "--storesFile: open testdata/none.txt"},
		{"bad store in file", []string{"plan", "--from=a", "--to=b", "--storesFile=testdata/stores-bad.txt"}, `--storesFile testdata/stores-bad.txt:3: "bad store!" is not a store ID`},
		{"stores beside a file", []string{"plan", "--from=a", "--to=b", "--stores=10", "--storesFile=testdata/stores.txt"}, "--stores and --storesFile: give one of them"},
		{"plan argument", []string{"plan", "--from=a", "--to=b", "extra"}, `unexpected argument "extra"`},
		{"file with flags", []string{"route", "--configFile=testdata/route.yaml", "--members=a"}, "flag --members cannot be combined with --configFile"},
		{"missing config file", []string{"route", "--configFile=testdata/none.yaml"}, "--configFile: open testdata/none.yaml"},
		{"unknown file key", []string{"route", "--configFile=testdata/route-typo.yaml"}, `unknown key "member"`},
		{"no StateLB file", []string{"migrate"}, "--stateLBConfig: missing"},
		{"bad plugin source", []string{"migrate", "--pluginSource=git", "testdata/statelb.toml"}, `--pluginSource: unknown source "git"`},
		{"no kubernetes section", []string{"migrate", "testdata/statelb-no-discovery.toml"}, "missing [service_discovery.kubernetes_service]"},
		{"no namespace", []string{"migrate", "testdata/statelb-no-namespace.toml"}, "[service_discovery.kubernetes_service] namespace: missing"},
		{"bad prefix", []string{"migrate", "testdata/statelb-bad-prefix.toml"}, "[route] device_affinity_prefixes: api/pos: want a path that starts with /"},
		{"no service", []string{"members"}, "--service: missing"},
		{"members without app", []string{"members", "--service=commerce-pos"}, "--app: missing"},
		{"missing kubeconfig", []string{"members", "--service=commerce-pos", "--app=pos", "--kubeconfig=testdata/none.kubeconfig"}, "--kubeconfig:"},
		{"bad timeout", []string{"members", "--service=commerce-pos", "--timeout=soon"}, `--timeout: invalid value "soon"`},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			_, err := run(t, test.args...)
			if err == nil || !strings.Contains(err.Error(), test.want) {
				t.Fatalf("storeaffinity %s: error %v, want one containing %q", strings.Join(test.args, " "), err, test.want)
			}
		})
	}
}

func TestConfigurationSourcesGiveTheSameRoute(t *testing.T) {
	fromFlags, err := run(t, "route", "--members=pos-0,pos-1,pos-2", "--stores=00123,00456")
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{"testdata/route.yaml", "testdata/route.toml"} {
		out, err := run(t, "route", "--configFile="+file)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if out != fromFlags {
			t.Errorf("%s gives\n%s\nflags give\n%s", file, out, fromFlags)
		}
	}
	t.Setenv("STOREAFFINITY_MEMBERS", "pos-0,pos-1,pos-2")
	t.Setenv("STOREAFFINITY_STORES", "00123,00456")
	out, err := run(t, "route")
	if err != nil {
		t.Fatal(err)
	}
	if out != fromFlags {
		t.Errorf("environment gives\n%s\nflags give\n%s", out, fromFlags)
	}
	// A variable that is not a setting of the command is no source.
	_ = os.Unsetenv("STOREAFFINITY_MEMBERS") // t.Setenv restores both after the test
	_ = os.Unsetenv("STOREAFFINITY_STORES")
	t.Setenv("STOREAFFINITY_CACHE", "/somewhere")
	if _, err := run(t, "route", "--members=pos-0,pos-1,pos-2", "00123-001"); err != nil {
		t.Errorf("STOREAFFINITY_CACHE beside flags: %v", err)
	}
	// A setting beside flags or a file is refused, never silently left unread.
	t.Setenv("STOREAFFINITY_APP", "pos")
	for _, args := range [][]string{{"route", "--members=pos-0,pos-1,pos-2", "00123-001"}, {"route", "--configFile=testdata/route.yaml"}} {
		if _, err := run(t, args...); err == nil || !strings.Contains(err.Error(), "STOREAFFINITY_") || !strings.Contains(err.Error(), "the CLI reads one source") {
			t.Errorf("%v with STOREAFFINITY_* set: %v, want a refusal naming the variable", args, err)
		}
	}
}

func TestMigrateWritesBothFiles(t *testing.T) {
	dir := t.TempDir()
	if _, err := run(t, "migrate", "--app=pos", "--outDir="+dir, "testdata/statelb.toml"); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, "migrate", "--app=pos", "--outDir="+dir, "testdata/statelb.toml"); err == nil || !strings.Contains(err.Error(), "exists (--force overwrites it)") {
		t.Errorf("a second migrate into the same folder: %v, want a refusal", err)
	}
	if _, err := run(t, "migrate", "--app=pos", "--force", "--outDir="+dir, "testdata/statelb.toml"); err != nil {
		t.Errorf("--force: %v", err)
	}
	printed, err := run(t, "migrate", "--app=pos", "testdata/statelb.toml")
	if err != nil {
		t.Fatal(err)
	}
	static, _ := os.ReadFile(filepath.Join(dir, "traefik.yml"))
	dynamic, _ := os.ReadFile(filepath.Join(dir, "dynamic.yml"))
	if string(static)+"---\n"+string(dynamic) != printed {
		t.Errorf("files differ from the printed output:\n%s---\n%s", static, dynamic)
	}
}

// TestMemberListsReadAsTheMiddlewareReadsThem: an empty item of a list is dropped, as
// the middleware's splitList drops it, so pos-0,,pos-1 routes as pos-0,pos-1.
func TestMemberListsReadAsTheMiddlewareReadsThem(t *testing.T) {
	withEmpty, err := run(t, "route", "--members=pos-0,,pos-1", "00123-001")
	if err != nil {
		t.Fatal(err)
	}
	plain, err := run(t, "route", "--members=pos-0,pos-1", "00123-001")
	if err != nil {
		t.Fatal(err)
	}
	if withEmpty != plain {
		t.Errorf("--members=pos-0,,pos-1 gives\n%s\n--members=pos-0,pos-1 gives\n%s", withEmpty, plain)
	}
}
