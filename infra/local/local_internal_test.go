package local

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/rapportcrm/rapport/infra/manifest"
	"github.com/rapportcrm/rapport/shared/app"
	"github.com/rapportcrm/rapport/shared/config"
)

func TestLocalEnvAddsThisServersOrigins(t *testing.T) {
	given := map[string]string{"FORM_REDIRECT_ORIGINS": "https://www.example.com", "ORG_TIME_ZONE": "Europe/Berlin"}
	cfg, err := config.FromEnv(localEnv(func(k string) string { return given[k] }, 8080))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.TableName != DefaultTable || cfg.EventBusName != DefaultBus || cfg.TimeZone.String() != "Europe/Berlin" {
		t.Errorf("config %+v", cfg)
	}
	if got := strings.Join(cfg.CORSOrigins, " "); got != "http://127.0.0.1:8080 http://localhost:8080" {
		t.Errorf("CORS origins %q", got)
	}
	if got := strings.Join(cfg.RedirectOrigins, " "); got != "https://www.example.com http://127.0.0.1:8080 http://localhost:8080" {
		t.Errorf("redirect origins %q", got)
	}
}

func TestLoggerWritesShortLines(t *testing.T) {
	var b bytes.Buffer
	log := NewLogger(&b, nil).With("fn", "leads")
	log.Info("http", "route", "POST /leads", "status", 201)
	log.Warn("retry", "err", errors.New("consumer down"))
	log.Debug("hidden")
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("lines:\n%s", b.String())
	}
	if !strings.HasSuffix(lines[0], ` http fn=leads route="POST /leads" status=201`) || len(lines[0]) != len("15:04:05")+len(` http fn=leads route="POST /leads" status=201`) {
		t.Errorf("line %q", lines[0])
	}
	if !strings.HasSuffix(lines[1], ` WARN retry fn=leads err="consumer down"`) {
		t.Errorf("line %q", lines[1])
	}
}

func TestRegistryReportsAConstructorThatPanics(t *testing.T) {
	r := Registry{HTTP: map[string]func(app.Deps) app.HTTPHandler{"leads": func(app.Deps) app.HTTPHandler { panic("not built yet") }}}
	_, err := r.build(func(string) app.Deps { return app.Deps{} })
	if err == nil || !strings.Contains(err.Error(), "leads") || !strings.Contains(err.Error(), "not built yet") {
		t.Errorf("err = %v", err)
	}
}

func TestDefaultRegistryCoversTheManifest(t *testing.T) {
	// Stand-ins for the built handlers: check needs only to know which exist.
	r := DefaultRegistry()
	h := handlers{http: map[string]app.HTTPHandler{}, event: map[string]app.EventHandler{}}
	for name := range r.HTTP {
		h.http[name] = func(context.Context, lambdaevents.APIGatewayV2HTTPRequest) (lambdaevents.APIGatewayV2HTTPResponse, error) {
			return lambdaevents.APIGatewayV2HTTPResponse{}, nil
		}
	}
	for name := range r.Event {
		h.event[name] = func(context.Context, lambdaevents.EventBridgeEvent) error { return nil }
	}
	if err := h.check(manifest.Routes, manifest.Rules, manifest.Schedules); err != nil {
		t.Error(err)
	}
}
