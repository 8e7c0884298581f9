package stack

import (
	"strings"
	"testing"
)

// TraefikForTest starts Traefik for t (in t.TempDir() when opts.Dir is empty). It fails
// the test when Traefik does not come up and stops Traefik when the test ends (see
// StopAtEnd).
func TraefikForTest(t testing.TB, opts TraefikOptions) *Traefik {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	traefik, err := StartTraefik(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	traefik.StopAtEnd(t)
	return traefik
}

// StopAtEnd stops Traefik when test ends. The test fails if Traefik's log shows a
// panic; a failed test logs the end of Traefik's log.
func (t *Traefik) StopAtEnd(test testing.TB) {
	test.Cleanup(func() {
		t.Stop()
		t.CheckNoPanic(test)
		if test.Failed() {
			test.Logf("the end of Traefik's log %s:\n%s", t.LogPath, t.LogTail(40))
		}
	})
}

// CheckNoPanic fails test if Traefik's log shows a panic. The provider's health check
// logs "below panicThreshold" and "(panic threshold: …)", which are none.
func (t *Traefik) CheckNoPanic(test testing.TB) {
	test.Helper()
	log := strings.ToLower(t.Log())
	for _, threshold := range []string{"panicthreshold", "panic threshold"} {
		log = strings.ReplaceAll(log, threshold, "")
	}
	if strings.Contains(log, "panic") {
		test.Errorf("Traefik's log %s shows a panic:\n%s", t.LogPath, t.Trouble())
	}
}
