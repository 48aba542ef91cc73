package sandbox

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestPageListsCasesAndSlackMessages drives the Kibana and Slack fakes
// through their real APIs and checks the page shows what they received.
func TestPageListsCasesAndSlackMessages(t *testing.T) {
	sb, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()

	post := func(url string, hdr map[string]string, body string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 300 {
			t.Fatalf("POST %s: %d %s", url, resp.StatusCode, b)
		}
	}
	post(sb.URL("kibana")+"/api/cases", map[string]string{"kbn-xsrf": "true", "Authorization": "ApiKey " + KibanaAPIKey},
		`{"title":"Suspicious PowerShell on ws-042","description":"d","owner":"securitySolution","tags":[],"settings":{"syncAlerts":false},"connector":{"id":"none","name":"none","type":".none","fields":null}}`)
	post(sb.URL("slack")+SlackWebhookPath, nil, `{"text":"HIGH alert on ws-042"}`)

	rec := httptest.NewRecorder()
	sb.PageHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/sandbox", nil))
	html := rec.Body.String()
	for _, want := range []string{"Suspicious PowerShell on ws-042", "HIGH alert on ws-042", "Kibana cases (1)", "Slack messages (1)"} {
		if !strings.Contains(html, want) {
			t.Errorf("page does not show %q", want)
		}
	}
	if strings.Contains(html, KibanaAPIKey) {
		t.Error("page shows the Kibana API key")
	}

	rec = httptest.NewRecorder()
	sb.PageHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/sandbox?format=json", nil))
	var snap Snapshot
	if err := json.NewDecoder(bytes.NewReader(rec.Body.Bytes())).Decode(&snap); err != nil {
		t.Fatal(err)
	}
	if len(snap.Cases) != 1 || snap.Cases[0].Title != "Suspicious PowerShell on ws-042" || len(snap.SlackMessages) != 1 {
		t.Errorf("snapshot = %+v", snap)
	}
}
