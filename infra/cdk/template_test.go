package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/rapportcrm/rapport/infra/manifest"
)

// The tests synthesize the stack in the jsii runtime, which needs node.
func TestMain(m *testing.M) {
	if _, err := exec.LookPath("node"); err != nil {
		fmt.Fprintln(os.Stderr, "infra/cdk tests need node on the PATH (the CDK runs in it):", err)
		os.Exit(1)
	}
	code := m.Run()
	jsii.Close()
	for _, dir := range tempDirs {
		os.RemoveAll(dir)
	}
	os.Exit(code)
}

// tempDirs are removed when the tests end; the templates are synthesized
// once for all tests, outside any one test's TempDir.
var tempDirs []string

func mkdirTemp(pattern string) string {
	dir, err := os.MkdirTemp("", pattern)
	if err != nil {
		panic(err)
	}
	tempDirs = append(tempDirs, dir)
	return dir
}

// testContext overrides the repository's cdk.json context with a
// deployer's choices that differ from the defaults, so the tests see them
// pass through; everything else (feature flags, the duplicate window) is
// what `make deploy` would use.
var testContext = map[string]any{
	CtxCORSAllowedOrigins:  []any{"https://www.example.com", "https://shop.example.com"},
	CtxFormRedirectOrigins: []any{"https://www.example.com"},
	CtxOrgTimeZone:         "Europe/Berlin",
	CtxHolidays:            []any{"2026-12-25", "2026-12-26"},
	CtxMailFrom:            "Rapport CRM <crm@example.com>",
	CtxSLAPolicies:         "urgent=30m/2h,low=2d/10d",
	CtxTicketCloseAfter:    "48h",
	CtxTicketReopenWithin:  "336h",
	CtxSurveyDelay:         "2h",
	CtxSurveyRelFirst:      "336h",
	CtxSurveyRelEvery:      "4380h",
	CtxSurveyQuietPeriod:   "0", // no quiet period: 0 is a choice, not a missing value
	CtxSurveyLinkLifetime:  "336h",
}

// sampleManifest is the real manifest plus what it does not have yet: event
// functions with other access needs, a rule, a weekly schedule and one
// firing every minute.
func sampleManifest() *Manifest {
	m := DefaultManifest()
	m.Functions = append(slices.Clone(m.Functions),
		manifest.Function{Name: "scorer", Kind: manifest.Event, Description: "Scorecards", Table: manifest.ReadTable},
		manifest.Function{Name: "mailer", Kind: manifest.Event, Description: "Weekly report", SendEmail: true},
	)
	m.Rules = []manifest.Rule{{Name: "scorer-leads", Source: "rapport.leads", DetailTypes: []string{"lead.captured", "lead.converted"}, Function: "scorer"}}
	m.Schedules = []manifest.Schedule{
		{Name: "weekly-report", Expression: "cron(0 6 ? * MON *)", Function: "mailer", DetailType: "report.weekly"},
		// like the reminders sweep: every minute, so its silence pages someone
		{Name: "sample-sweep", Expression: "rate(1 minute)", Function: "scorer", DetailType: "sample.sweep"},
	}
	return &m
}

var (
	realTemplate   = sync.OnceValue(func() *template { return synth(nil, testContext, StageProd) })
	sampleTemplate = sync.OnceValue(func() *template { return synth(sampleManifest(), testContext, StageProd) })
	devTemplate    = sync.OnceValue(func() *template { return synth(nil, testContext, StageDev) })
)

// synth builds the stack of stage for m (nil: the real manifest) with dummy
// binaries, so the tests need no `make build`.
func synth(m *Manifest, ctx map[string]any, stage Stage) *template {
	man := DefaultManifest()
	if m != nil {
		man = *m
	}
	assets := dummyAssets(man)
	out := mkdirTemp("rapport-cdk-out-")
	merged, err := rootContext()
	if err != nil {
		panic(err)
	}
	for k, v := range ctx {
		merged[k] = v
	}
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(out), Context: &merged})
	stack := NewRapportStack(app, "Test", &RapportStackProps{Manifest: m, AssetDir: assets, Stage: stage})
	tpl := assertions.Template_FromStack(stack, nil)
	body, err := json.Marshal(tpl.ToJSON())
	if err != nil {
		panic(err)
	}
	t := &template{Template: tpl}
	if err := json.Unmarshal(body, &t.doc); err != nil {
		panic(err)
	}
	return t
}

// dummyAssets writes a stand-in bootstrap for every function of man, so
// the tests need no `make build`, and returns their directory.
func dummyAssets(man Manifest) string {
	assets := mkdirTemp("rapport-cdk-assets-")
	for _, f := range man.Functions {
		dir := filepath.Join(assets, f.Name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			panic(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "bootstrap"), []byte("not a binary: "+f.Name), 0o755); err != nil {
			panic(err)
		}
	}
	return assets
}

// template is a synthesized template: the CDK's assertions and the same
// document as Go values, for the checks the assertions cannot express.
type template struct {
	assertions.Template
	doc struct {
		Resources map[string]resource
		Outputs   map[string]map[string]any
	}
}

type resource struct {
	Type                string
	Properties          map[string]any
	DeletionPolicy      string
	UpdateReplacePolicy string
}

// check runs an assertion of the CDK's assertions package, which panics on
// failure, and reports the failure to t instead of stopping every test.
func check(t *testing.T, assertion func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Helper()
			t.Errorf("%v", r)
		}
	}()
	assertion()
}

// ofType returns the logical ids of the resources of type typ, sorted.
func (t *template) ofType(typ string) []string {
	var ids []string
	for id, r := range t.doc.Resources {
		if r.Type == typ {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// one returns the logical id of the only resource of type typ whose logical
// id starts with prefix (CDK appends a hash to the construct path).
func (t *template) one(tb testing.TB, typ, prefix string) string {
	tb.Helper()
	var found []string
	for _, id := range t.ofType(typ) {
		if strings.HasPrefix(id, prefix) {
			found = append(found, id)
		}
	}
	if len(found) != 1 {
		tb.Fatalf("want one %s named %s*, found %v", typ, prefix, found)
	}
	return found[0]
}

func (t *template) function(tb testing.TB, name string) string {
	tb.Helper()
	return t.one(tb, "AWS::Lambda::Function", constructID(name)+"Function")
}

func ref(id string) any          { return map[string]any{"Ref": id} }
func getAtt(id, attr string) any { return map[string]any{"Fn::GetAtt": []any{id, attr}} }
func same(a, b any) bool         { return reflect.DeepEqual(a, b) }
func str(v any) string           { s, _ := v.(string); return s }
func obj(v any) map[string]any   { m, _ := v.(map[string]any); return m }
func list(v any) []any           { l, _ := v.([]any); return l }
func jsonOf(v any) string        { b, _ := json.Marshal(v); return string(b) }

// statement is one IAM policy statement, its actions always a list.
type statement struct {
	Actions   []string
	Resources []any
	Principal any
}

// statements returns every statement of the inline policies attached to
// the execution role of the function with logical id fn.
func (t *template) statements(tb testing.TB, fn string) []statement {
	tb.Helper()
	roleAtt := list(obj(t.doc.Resources[fn].Properties["Role"])["Fn::GetAtt"])
	if len(roleAtt) != 2 {
		tb.Fatalf("%s: role is not a GetAtt of a role in the stack: %v", fn, t.doc.Resources[fn].Properties["Role"])
	}
	role := str(roleAtt[0])
	var out []statement
	for _, id := range t.ofType("AWS::IAM::Policy") {
		p := t.doc.Resources[id].Properties
		if !slices.ContainsFunc(list(p["Roles"]), func(r any) bool { return same(r, ref(role)) }) {
			continue
		}
		for _, s := range list(obj(p["PolicyDocument"])["Statement"]) {
			s := obj(s)
			if str(s["Effect"]) != "Allow" {
				continue
			}
			var st statement
			switch a := s["Action"].(type) {
			case string:
				st.Actions = []string{a}
			case []any:
				for _, x := range a {
					st.Actions = append(st.Actions, str(x))
				}
			}
			if l, ok := s["Resource"].([]any); ok {
				st.Resources = l
			} else {
				st.Resources = []any{s["Resource"]}
			}
			out = append(out, st)
		}
	}
	return out
}

// allows reports whether some statement allows action on a resource for
// which match is true.
func allows(sts []statement, action string, match func(any) bool) bool {
	for _, s := range sts {
		if slices.Contains(s.Actions, action) && slices.ContainsFunc(s.Resources, match) {
			return true
		}
	}
	return false
}

func anyResource(any) bool { return true }

func is(want any) func(any) bool { return func(got any) bool { return same(got, want) } }

// joined renders a string that CloudFormation assembles with Fn::Join,
// writing each part resolved only at deployment as "${...}".
func joined(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	parts := list(obj(v)["Fn::Join"])
	if len(parts) != 2 {
		return jsonOf(v)
	}
	var b strings.Builder
	for _, p := range list(parts[1]) {
		if s, ok := p.(string); ok {
			b.WriteString(s)
		} else {
			b.WriteString("${...}")
		}
	}
	return b.String()
}
