package provider

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const secretToken = "secret-token-123"

// echoHeaders answers like a misbehaving proxy that quotes the request in its errors.
func echoHeaders(status int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "rejected request with Authorization: "+r.Header.Get("Authorization"), status)
	}
}

// watchFails lists fine, then fails every watch in the ways an API server or proxy can.
func watchFails(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("watch") == "" {
		_, _ = w.Write([]byte(`{"metadata":{"resourceVersion":"10"},"items":[]}`))
		return
	}
	if r.URL.Query().Get("resourceVersion") == "10" {
		status := `{"code":500,"reason":"InternalError","message":"token ` + strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ") + ` refused"}`
		_, _ = w.Write([]byte(event("ERROR", status)))
		return
	}
	echoHeaders(http.StatusInternalServerError)(w, r)
}

// selfSignedCA returns a PEM certificate that signed none of httptest's certificates.
func selfSignedCA(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	template := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "other test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// untrustedTLSEndpoint returns the URL of a TLS listener with httptest's certificate
// that completes handshakes and nothing more. (An httptest server would log every
// refused handshake, and its ErrorLog cannot be set under Yaegi.)
func untrustedTLSEndpoint(t *testing.T) string {
	t.Helper()
	server := httptest.NewTLSServer(http.NotFoundHandler())
	certificates := server.TLS.Certificates
	server.Close()
	listener, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: certificates})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { listener.Close() })
	go func() {
		for {
			conn, err := listener.Accept()
			if err != nil {
				return
			}
			_ = conn.(*tls.Conn).Handshake()
			conn.Close()
		}
	}()
	return "https://" + listener.Addr().String()
}

func TestKubernetesTokenIsNeverLogged(t *testing.T) {
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte(secretToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	unreachable := "https://" + closed.Addr().String()
	closed.Close()
	unauthorized := httptest.NewServer(echoHeaders(http.StatusUnauthorized))
	defer unauthorized.Close()
	failingWatch := httptest.NewServer(http.HandlerFunc(watchFails))
	defer failingWatch.Close()
	untrusted := untrustedTLSEndpoint(t)
	caFile := filepath.Join(dir, "other-ca.crt")
	if err := os.WriteFile(caFile, selfSignedCA(t), 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		cfg     KubernetesDiscovery
		wantLog string // shows that the error path was reached
	}{
		{"unreachable endpoint", KubernetesDiscovery{Endpoint: unreachable, Token: secretToken}, "connection refused"},
		{"401 that quotes the request", KubernetesDiscovery{Endpoint: unauthorized.URL, Token: secretToken}, "401 Unauthorized: rejected request with Authorization: Bearer [redacted]"},
		{"401 that quotes a token from tokenFile", KubernetesDiscovery{Endpoint: unauthorized.URL, TokenFile: tokenFile}, "401 Unauthorized"},
		{"watch errors that quote the token", KubernetesDiscovery{Endpoint: failingWatch.URL, Token: secretToken}, "watch error 500"},
		{"server certificate from another CA", KubernetesDiscovery{Endpoint: untrusted, Token: secretToken, CertAuthFilePath: caFile}, "x509"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			cfg.Namespace, cfg.Service = "shop", "pos"
			src, err := newKubernetesSource("apps[0].kubernetes", &cfg)
			if err != nil {
				t.Fatal(err)
			}
			src.minBackoff, src.maxBackoff = 10*time.Millisecond, 20*time.Millisecond
			logs := &logBuffer{}
			var w io.Writer = logs // one by one: Yaegi v0.16.1 mistypes a tuple assignment of interpreted values to interface fields
			src.stdout = w
			src.stderr = w
			_, listErr := src.client.list(context.Background(), "shop", src.selector)
			if listErr != nil && strings.Contains(listErr.Error(), secretToken) {
				t.Errorf("list error shows the token: %v", listErr)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			src.run(ctx, func([]member) {})
			if !strings.Contains(logs.String(), tt.wantLog) {
				t.Errorf("the log does not show %q; was the error path reached?\n%.600s", tt.wantLog, logs.String())
			}
			if strings.Contains(logs.String(), secretToken) {
				t.Errorf("the log shows the token:\n%.600s", logs.String())
			}
		})
	}
}

func TestKubernetesConfigErrorsHideTheToken(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []KubernetesDiscovery{
		{Service: "pos", Endpoint: "127.0.0.1:6443", Token: secretToken},
		{Service: "pos", Endpoint: "https://127.0.0.1:6443", Token: secretToken, CertAuthFilePath: notPEM},
		{Service: "pos", Endpoint: "https://127.0.0.1:6443", Token: secretToken, CertAuthFilePath: filepath.Join(dir, "missing.crt")},
		{Endpoint: "https://127.0.0.1:6443", Token: secretToken},
	}
	for i := range tests {
		cfg := &Config{MiddlewarePlugin: "storeaffinity", Apps: []App{{Name: "pos", Kubernetes: &tests[i]}}}
		p, err := New(context.Background(), cfg, "test")
		if err != nil {
			t.Fatal(err)
		}
		err = p.Init()
		if err == nil {
			t.Fatalf("case %d: no error", i)
		}
		if strings.Contains(err.Error(), secretToken) {
			t.Errorf("case %d: error shows the token: %v", i, err)
		}
	}
}
