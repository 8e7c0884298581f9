package provider

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// The parts of discovery.k8s.io/v1 EndpointSlice that discovery reads.

type endpointSliceList struct {
	Metadata listMeta        `json:"metadata"`
	Items    []endpointSlice `json:"items"`
}

type listMeta struct {
	ResourceVersion string `json:"resourceVersion"`
}

type endpointSlice struct {
	Metadata  objectMeta     `json:"metadata"`
	Endpoints []endpoint     `json:"endpoints"`
	Ports     []endpointPort `json:"ports"`
}

type objectMeta struct {
	Name            string `json:"name"`
	ResourceVersion string `json:"resourceVersion"`
}

type endpoint struct {
	Addresses  []string           `json:"addresses"`
	Conditions endpointConditions `json:"conditions"`
	Hostname   string             `json:"hostname"`
	NodeName   string             `json:"nodeName"`
	TargetRef  *objectReference   `json:"targetRef"`
}

type endpointConditions struct {
	Ready       *bool `json:"ready"`
	Terminating *bool `json:"terminating"`
}

type objectReference struct {
	Name string `json:"name"`
}

type endpointPort struct {
	Name     string `json:"name"`
	Port     *int   `json:"port"`
	Protocol string `json:"protocol"`
}

type watchEvent struct {
	Type   string          `json:"type"`
	Object json.RawMessage `json:"object"`
}

type apiStatus struct {
	Code    int    `json:"code"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

// errGone says the resourceVersion is too old to watch from: list again.
var errGone = errors.New("resource version gone")

// kubernetesClient reads EndpointSlices through the Kubernetes REST API.
type kubernetesClient struct {
	endpoint  string // https://host:port, no trailing slash
	token     string
	tokenFile string
	sent      string // the token last sent, which redact hides too
	http      *http.Client

	watchTimeout time.Duration // asked of the server
	watchIdle    time.Duration // longest silence before the watch is restarted
}

// In-cluster defaults.
const (
	serviceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount"
	inClusterToken    = serviceAccountDir + "/token"
	inClusterCA       = serviceAccountDir + "/ca.crt"
)

// newKubernetesClient applies the in-cluster defaults to the connection options.
func newKubernetesClient(key string, cfg *KubernetesDiscovery) (*kubernetesClient, error) {
	c := &kubernetesClient{
		token:        strings.TrimSpace(cfg.Token),
		tokenFile:    strings.TrimSpace(cfg.TokenFile),
		watchTimeout: 5 * time.Minute,
		watchIdle:    3 * time.Minute,
	}
	endpoint := strings.TrimSpace(cfg.Endpoint)
	if endpoint == "" {
		host, port := os.Getenv("KUBERNETES_SERVICE_HOST"), os.Getenv("KUBERNETES_SERVICE_PORT")
		if host == "" || port == "" {
			return nil, fmt.Errorf("%s.endpoint: empty, and not running in a cluster (KUBERNETES_SERVICE_HOST is unset)", key)
		}
		endpoint = "https://" + net.JoinHostPort(host, port)
	}
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("%s.endpoint: bad URL %q (want https://host:port)", key, endpoint)
	}
	c.endpoint = strings.TrimSuffix(endpoint, "/")
	if c.token == "" && c.tokenFile == "" {
		c.tokenFile = inClusterToken
	}
	if c.tokenFile != "" {
		if _, err := os.Stat(c.tokenFile); err != nil && cfg.TokenFile != "" {
			return nil, fmt.Errorf("%s.tokenFile: %w", key, err)
		}
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	caFile := strings.TrimSpace(cfg.CertAuthFilePath)
	if caFile == "" {
		if _, err := os.Stat(inClusterCA); err == nil {
			caFile = inClusterCA
		}
	}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("%s.certAuthFilePath: %w", key, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s.certAuthFilePath: no PEM certificate in %s", key, caFile)
		}
		transport.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	c.http = &http.Client{Transport: transport}
	return c, nil
}

// bearer returns the token, re-reading the token file each time: bound tokens rotate.
func (c *kubernetesClient) bearer() (string, error) {
	if c.token != "" {
		return c.token, nil
	}
	data, err := os.ReadFile(c.tokenFile)
	if err != nil {
		return "", fmt.Errorf("read token: %w", err)
	}
	return strings.TrimSpace(string(data)), nil
}

func (c *kubernetesClient) get(ctx context.Context, path string, query url.Values) (*http.Response, error) {
	token, err := c.bearer()
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.endpoint+path+"?"+query.Encode(), nil)
	if err != nil {
		return nil, err
	}
	if token != "" {
		c.sent = token
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		if text := c.redact(err.Error()); text != err.Error() {
			return nil, errors.New(text)
		}
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		if resp.StatusCode == http.StatusGone {
			return nil, errGone
		}
		return nil, fmt.Errorf("GET %s: %s: %s", path, resp.Status, c.redact(strings.TrimSpace(string(body))))
	}
	return resp, nil
}

// redact hides the bearer token in text, such as an error body from a proxy that
// quotes the request's headers, so that no error message or log line carries it.
func (c *kubernetesClient) redact(text string) string {
	for _, token := range []string{c.token, c.sent} {
		if token != "" {
			text = strings.ReplaceAll(text, token, "[redacted]")
		}
	}
	return text
}

func slicesPath(namespace string) string {
	return "/apis/discovery.k8s.io/v1/namespaces/" + url.PathEscape(namespace) + "/endpointslices"
}

// list returns the service's EndpointSlices and the list's resourceVersion.
func (c *kubernetesClient) list(ctx context.Context, namespace, selector string) (*endpointSliceList, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	resp, err := c.get(ctx, slicesPath(namespace), url.Values{"labelSelector": {selector}})
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var list endpointSliceList
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		return nil, fmt.Errorf("decode EndpointSlice list: %w", err)
	}
	return &list, nil
}

// watch streams changes after resourceVersion to handle until the server ends the
// watch or it stays silent for watchIdle (nil error), the stream fails, or the version
// is gone (errGone). handle receives the event type and slice; watch returns the last
// resourceVersion seen. The idle limit catches connections that died without a reset;
// the API server sends bookmarks about once a minute on a quiet watch.
func (c *kubernetesClient) watch(ctx context.Context, namespace, selector, resourceVersion string, handle func(string, *endpointSlice)) (string, error) {
	watchCtx, cancel := context.WithTimeout(ctx, c.watchTimeout+30*time.Second)
	defer cancel()
	idle := time.AfterFunc(c.watchIdle, cancel)
	defer idle.Stop()
	query := url.Values{
		"labelSelector":       {selector},
		"watch":               {"1"},
		"resourceVersion":     {resourceVersion},
		"allowWatchBookmarks": {"true"},
		"timeoutSeconds":      {fmt.Sprint(int(c.watchTimeout / time.Second))},
	}
	resp, err := c.get(watchCtx, slicesPath(namespace), query)
	if err != nil {
		return resourceVersion, err
	}
	defer resp.Body.Close()
	decoder := json.NewDecoder(resp.Body)
	for {
		var event watchEvent
		if err := decoder.Decode(&event); err != nil {
			if err == io.EOF || (ctx.Err() == nil && watchCtx.Err() != nil) {
				return resourceVersion, nil
			}
			return resourceVersion, fmt.Errorf("read watch: %w", err)
		}
		idle.Reset(c.watchIdle)
		if event.Type == "ERROR" {
			var status apiStatus
			_ = json.Unmarshal(event.Object, &status)
			if status.Code == http.StatusGone {
				return resourceVersion, errGone
			}
			return resourceVersion, fmt.Errorf("watch error %d %s: %s", status.Code, status.Reason, c.redact(status.Message))
		}
		var slice endpointSlice
		if err := json.Unmarshal(event.Object, &slice); err != nil {
			return resourceVersion, fmt.Errorf("decode watch event: %w", err)
		}
		if slice.Metadata.ResourceVersion != "" {
			resourceVersion = slice.Metadata.ResourceVersion
		}
		if event.Type != "BOOKMARK" {
			handle(event.Type, &slice)
		}
	}
}
