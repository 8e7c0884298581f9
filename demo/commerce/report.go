package commerce

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
)

// Reply is the body of every Commerce answer.
type Reply struct {
	Replica  string `json:"replica"`
	Store    string `json:"store,omitempty"`
	Device   string `json:"device,omitempty"`
	Seq      int64  `json:"seq,omitempty"`
	Affinity string `json:"affinity,omitempty"`
	// DeviceHeader is the device-ID header as a CGI-style backend reads it.
	DeviceHeader string `json:"deviceHeader,omitempty"`
	Path         string `json:"path,omitempty"`
	// Cookie is the Cookie header the replica received.
	Cookie string `json:"cookie,omitempty"`
}

// Report is what a replica tells about itself at /admin/report.
type Report struct {
	Replica string `json:"replica"`
	// Stores lists the stores this replica has served, sorted.
	Stores []string `json:"stores"`
	// Sessions is the replica's session log, live sessions included.
	Sessions []Session `json:"sessions"`
}

// Report returns the replica's report.
func (r *Replica) Report() Report {
	sessions := r.log.Sessions()
	seen := map[string]bool{}
	stores := []string{}
	for _, s := range sessions {
		if !seen[s.Store] {
			seen[s.Store] = true
			stores = append(stores, s.Store)
		}
	}
	sort.Strings(stores)
	return Report{Replica: r.name, Stores: stores, Sessions: sessions}
}

func (r *Replica) serveReport(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, r.Report())
}

// FetchReport reads the report of the replica at baseURL.
func FetchReport(ctx context.Context, client *http.Client, baseURL string) (Report, error) {
	var report Report
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, baseURL+"/admin/report", nil)
	if err != nil {
		return report, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return report, fmt.Errorf("fetch report from %s: %w", baseURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return report, fmt.Errorf("fetch report from %s: %s", baseURL, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&report); err != nil {
		return report, fmt.Errorf("decode report from %s: %w", baseURL, err)
	}
	return report, nil
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
