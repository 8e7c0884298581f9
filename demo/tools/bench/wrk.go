package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// load is one wrk run's result.
type load struct {
	requests  float64
	perSecond float64
	p50, p99  time.Duration
}

var (
	wrkRequests = regexp.MustCompile(`(\d+) requests in`)
	wrkRate     = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	wrkQuantile = regexp.MustCompile(`(?m)^\s+(50|99)%\s+([0-9.]+)(us|ms|s)\s*$`)
)

// wrkScript writes the wrk script of a variant: a browser-like Accept header and
// cookie, and for stateful variants a path that cycles through 1000 devices (for
// mixed ones, every tenth request).
func wrkScript(dir string, v variant) (string, error) {
	cookie := "session=abc"
	if v.cookie != "" {
		cookie = v.cookie + "; " + cookie
	}
	script := fmt.Sprintf("wrk.headers[\"Accept\"] = \"application/json\"\nwrk.headers[\"Cookie\"] = %q\n", cookie)
	if v.mix {
		script += `local n = 0
request = function()
  n = n + 1
  if n >= 1000 then n = 0 end
  if n % 10 == 0 then
    return wrk.format(nil, string.format("/api/appId/pos/deviceId/%05d-001/ticket", n))
  end
  return wrk.format(nil, "/api/catalog")
end
`
	} else if v.stateful {
		script += `local n = 0
request = function()
  n = n + 1
  if n >= 1000 then n = 0 end
  return wrk.format(nil, string.format("/api/appId/pos/deviceId/%05d-001/ticket", n))
end
`
	} else {
		script += "wrk.path = \"/api/catalog\"\n"
	}
	path := filepath.Join(dir, v.name+".lua")
	return path, os.WriteFile(path, []byte(script), 0o644)
}

// runWrk runs wrk -t1 -c16 against url for d with script.
func runWrk(url, script string, d time.Duration) (load, error) {
	out, err := exec.Command("wrk", "-t1", "-c16", "-d"+strconv.Itoa(int(d.Seconds()))+"s", "--latency", "-s", script, url).CombinedOutput()
	if err != nil {
		return load{}, fmt.Errorf("wrk: %v\n%s", err, out)
	}
	text := string(out)
	var l load
	if m := wrkRequests.FindStringSubmatch(text); m != nil {
		l.requests, _ = strconv.ParseFloat(m[1], 64)
	}
	if m := wrkRate.FindStringSubmatch(text); m != nil {
		l.perSecond, _ = strconv.ParseFloat(m[1], 64)
	}
	for _, m := range wrkQuantile.FindAllStringSubmatch(text, -1) {
		value, _ := strconv.ParseFloat(m[2], 64)
		unit := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second}[m[3]]
		if m[1] == "50" {
			l.p50 = time.Duration(value * float64(unit))
		} else {
			l.p99 = time.Duration(value * float64(unit))
		}
	}
	if l.requests == 0 || strings.Contains(text, "Non-2xx") {
		return l, fmt.Errorf("wrk against %s: no successful requests:\n%s", url, text)
	}
	return l, nil
}
