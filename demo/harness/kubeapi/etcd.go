package kubeapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// CompactEtcd compacts etcd's history up to its current revision, so that watches
// from an older resourceVersion fail with 410 Gone.
func (s *Server) CompactEtcd() error {
	resp, err := http.Post(s.etcdURL+"/v3/kv/range", "application/json", strings.NewReader(`{"key":"AA=="}`))
	if err != nil {
		return err
	}
	var rangeResp struct {
		Header struct {
			Revision string `json:"revision"`
		} `json:"header"`
	}
	err = json.NewDecoder(resp.Body).Decode(&rangeResp)
	resp.Body.Close()
	if err != nil {
		return fmt.Errorf("read etcd revision: %w", err)
	}
	body := `{"revision":"` + rangeResp.Header.Revision + `","physical":true}`
	resp, err = http.Post(s.etcdURL+"/v3/kv/compaction", "application/json", strings.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("etcd compaction: %s", resp.Status)
	}
	return nil
}
